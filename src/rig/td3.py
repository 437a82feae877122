"""TD3 (Fujimoto et al., 2018) for goal-conditioned inputs, readable top to bottom."""

from __future__ import annotations

import copy
import itertools
import re

import torch
import torch.nn.functional as F
from torch import nn

from rig.config import TD3Config

ADAM_IMPLEMENTATIONS = ("fused", "foreach", "loop")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices natively (AVX-512 BF16 or AMX): there bf16
    matmuls run ~2x fp32; elsewhere they are emulated and slower."""
    try:
        return (
            bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
            and _cpu_flags()
            & {
                "avx512_bf16",
                "amx_bf16",
            }
            != set()
        )
    except (AttributeError, RuntimeError):
        return False


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def matmul_dtype(config: TD3Config, device: torch.device) -> torch.dtype:
    """The dtype of the hidden layers' matmuls: bf16 where ``config.bf16`` asks for it and
    this CPU runs it natively ("auto"; a GPU update is launch-bound, so fp32 there), else
    fp32. Weights, losses and targets stay fp32."""
    if config.bf16 == "on" or (config.bf16 == "auto" and device.type == "cpu"):
        return torch.bfloat16 if config.bf16 == "on" or cpu_has_native_bf16() else torch.float32
    return torch.float32


def mlp(sizes: list[int], output_activation: type[nn.Module] | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if output_activation is not None:
        layers.append(output_activation())
    return nn.Sequential(*layers)


def mlp_forward(x: torch.Tensor, weights, biases, dtype: torch.dtype) -> torch.Tensor:
    """ReLU MLP on ``x``: hidden layers in ``dtype`` (fp32 master weights cast per call),
    the output layer in fp32.

    2-D weights ``(out, in)`` make one network; 3-D weights ``(E, out, in)`` make ``E``
    networks evaluated together, one batched matmul per layer (``x``: ``(N, in)`` shared by
    all, or ``(E, N, in)``), giving ``(E, N, out)``.
    """
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        dt = torch.float32 if i == last else dtype
        x, w, b = x.to(dt), w.to(dt), b.to(dt)
        if w.dim() == 2:
            x = F.linear(x, w, b)
        else:
            x = x.expand(w.shape[0], *x.shape[-2:]) if x.dim() == 2 else x
            x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
        if i < last:
            x = F.relu(x)
    return x


class Actor(nn.Module):
    """Deterministic policy ``pi(obs) -> action`` in ``[-1, 1]`` scaled to the action box."""

    matmul_dtype = torch.float32
    """Set by :class:`TD3` (see :func:`matmul_dtype`)."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: tuple[int, ...], action_scale):
        super().__init__()
        self.net = mlp([obs_dim, *hidden, action_dim])
        self.register_buffer("action_scale", torch.as_tensor(action_scale, dtype=torch.float32))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        linears = self.net[::2]
        weights, biases = [m.weight for m in linears], [m.bias for m in linears]
        return torch.tanh(mlp_forward(obs, weights, biases, self.matmul_dtype)) * self.action_scale


class TwinCritic(nn.Module):
    """Two independent Q-networks ``Q1, Q2(obs, action)``, their parameters stacked as
    ``(2, out, in)``.

    ``batched``: both evaluated as one network (one batched matmul per layer); otherwise one
    after the other. Same parameters and the same values either way.
    """

    matmul_dtype = torch.float32
    """Set by :class:`TD3` (see :func:`matmul_dtype`)."""

    def __init__(
        self, obs_dim: int, action_dim: int, hidden: tuple[int, ...], batched: bool = True
    ):
        super().__init__()
        sizes = [obs_dim + action_dim, *hidden, 1]
        self.batched = batched
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in itertools.pairwise(sizes):
            bound = fan_in**-0.5  # nn.Linear's default initialisation, for each network
            self.weights.append(
                nn.Parameter(torch.empty(2, fan_out, fan_in).uniform_(-bound, bound))
            )
            self.biases.append(nn.Parameter(torch.empty(2, fan_out).uniform_(-bound, bound)))
        self._register_load_state_dict_pre_hook(_stack_separate_critics)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([obs, action], dim=-1)
        if self.batched:
            q = mlp_forward(x, list(self.weights), list(self.biases), self.matmul_dtype)
            return q[0].squeeze(-1), q[1].squeeze(-1)
        return self._one(x, 0), self._one(x, 1)

    def first(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """``Q1`` alone: what the actor maximises."""
        return self._one(torch.cat([obs, action], dim=-1), 0)

    def _one(self, x: torch.Tensor, k: int) -> torch.Tensor:
        weights, biases = [w[k] for w in self.weights], [b[k] for b in self.biases]
        return mlp_forward(x, weights, biases, self.matmul_dtype).squeeze(-1)


def _stack_separate_critics(state_dict, prefix, *args) -> None:
    """Load a critic saved as two ``nn.Sequential`` Q-networks (``q1.0.weight``, ...;
    checkpoints before the critics were stacked) into the stacked layout."""
    i = 0
    while f"{prefix}q1.{2 * i}.weight" in state_dict:
        for kind, key in (("weights", "weight"), ("biases", "bias")):
            pair = [state_dict.pop(f"{prefix}q{k}.{2 * i}.{key}") for k in (1, 2)]
            state_dict[f"{prefix}{kind}.{i}"] = torch.stack(pair)
        i += 1


class TD3:
    """Twin critics, delayed policy updates and target policy smoothing.

    ``obs`` here is whatever the policy conditions on; for RIG it is the
    concatenation ``[z, z_g]`` of the current and goal latents. How an update is computed
    (stacked critics, Adam's kernel, ``torch.compile``, bf16 matmuls) is set by
    ``config``; the algorithm is the same in every setting.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        action_scale,
        config: TD3Config,
        device="cpu",
        networks: tuple[nn.Module, nn.Module] | None = None,
    ):
        """``networks``: an (actor, critic) pair to use instead of MLPs on ``obs_dim`` inputs;
        parameters they share (an image encoder) are trained by the critic only."""
        self.config = config
        self.device = torch.device(device)
        if networks is None:
            networks = (
                Actor(obs_dim, action_dim, config.hidden_sizes, action_scale),
                TwinCritic(obs_dim, action_dim, config.hidden_sizes, config.batched_critics),
            )
        self.actor, self.critic = (net.to(self.device) for net in networks)
        self.matmul_dtype = matmul_dtype(config, self.device)
        for net in (*self.actor.modules(), *self.critic.modules()):
            if isinstance(net, (Actor, TwinCritic)):
                net.matmul_dtype = self.matmul_dtype
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        critic_parameters = set(self.critic.parameters())
        self.actor_parameters = [p for p in self.actor.parameters() if p not in critic_parameters]
        self.actor_optimizer = self._adam(self.actor_parameters, config.actor_lr)
        self.critic_optimizer = self._adam(list(self.critic.parameters()), config.critic_lr)
        self.action_scale = self.actor.action_scale
        self.updates = 0
        compiled = torch.compile if config.compile else (lambda fn: fn)
        self._critic_loss = compiled(self.critic_loss)
        self._actor_gradients = compiled(self.actor_gradients)

    def _adam(self, parameters: list[nn.Parameter], lr: float) -> torch.optim.Adam:
        impl = self.config.adam
        return torch.optim.Adam(
            parameters, lr=lr, fused=impl == "fused" or None, foreach=impl == "foreach"
        )

    @torch.no_grad()
    def target_q(self, reward, next_obs, terminal) -> torch.Tensor:
        """``r + gamma * (1 - done) * min(Q1', Q2')(s', pi'(s') + clipped noise)``."""
        c = self.config
        noise = (
            torch.randn_like(self.action_scale.expand(len(next_obs), -1)) * c.target_noise
        ).clamp(-c.target_noise_clip, c.target_noise_clip)
        next_action = self.actor_target(next_obs) + noise * self.action_scale
        next_action = torch.max(torch.min(next_action, self.action_scale), -self.action_scale)
        q1, q2 = self.critic_target(next_obs, next_action)
        return reward + c.discount * (1.0 - terminal) * torch.min(q1, q2)

    def critic_loss(self, obs, action, reward, next_obs, terminal):
        """Both critics' squared TD errors to the shared target, and ``Q1``'s mean."""
        target = self.target_q(reward, next_obs, terminal)
        q1, q2 = self.critic(obs, action)
        return F.mse_loss(q1, target) + F.mse_loss(q2, target), q1.detach().mean()

    def actor_gradients(self, obs):
        """``-Q1(s, pi(s))`` and its gradients for the actor's own parameters (none for the
        critic's: they are not trained here)."""
        loss = -self.critic.first(obs, self.actor(obs)).mean()
        return loss.detach(), torch.autograd.grad(loss, self.actor_parameters)

    def update(self, obs, action, reward, next_obs, terminal) -> dict[str, torch.Tensor]:
        """One gradient step on the critics; every ``policy_delay`` steps, actor and targets too."""
        critic_loss, q = self._critic_loss(obs, action, reward, next_obs, terminal)
        self.critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_optimizer.step()
        self.updates += 1
        metrics = {"td3/critic_loss": critic_loss.detach(), "td3/q": q}

        if self.updates % self.config.policy_delay == 0:
            actor_loss, gradients = self._actor_gradients(obs)
            for p, g in zip(self.actor_parameters, gradients):
                p.grad = g
            self.actor_optimizer.step()
            self._soft_update(self.actor, self.actor_target)
            self._soft_update(self.critic, self.critic_target)
            metrics["td3/actor_loss"] = actor_loss
        return metrics

    @torch.no_grad()
    def _soft_update(self, net: nn.Module, target: nn.Module) -> None:
        torch._foreach_lerp_(list(target.parameters()), list(net.parameters()), self.config.tau)

    def state_dict(self) -> dict:
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "actor_target": self.actor_target.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict) -> None:
        """Load :meth:`state_dict`'s output; also from checkpoints that saved the two
        critics as separate networks (their weights and Adam moments are stacked)."""
        critic_optimizer = state["critic_optimizer"]
        layers = sum(1 for key in state["critic"] if re.fullmatch(r"(.*\.)?q1\.\d+\.weight", key))
        if layers:
            critic_optimizer = _stack_critic_moments(critic_optimizer, layers)
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.actor_target.load_state_dict(state["actor_target"])
        self.critic_target.load_state_dict(state["critic_target"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(critic_optimizer)
        self.updates = state["updates"]


def _stack_critic_moments(optimizer_state: dict, layers: int) -> dict:
    """Adam's state for separate critics (parameters ``..., Q1's (w, b) per layer, Q2's``)
    rearranged for stacked ones (``..., every layer's w, every layer's b``)."""
    (group,) = optimizer_state["param_groups"]
    old = group["params"]
    shared = len(old) - 4 * layers  # parameters before the Q-networks (an image encoder)
    q1, q2 = old[shared : shared + 2 * layers], old[shared + 2 * layers :]
    pairs = [(q1[2 * i + kind], q2[2 * i + kind]) for kind in (0, 1) for i in range(layers)]
    state = {
        new: optimizer_state["state"][i]
        for new, i in enumerate(old[:shared])
        if i in optimizer_state["state"]
    }
    for new, (a, b) in enumerate(pairs, start=shared):
        if a in optimizer_state["state"]:
            sa, sb = optimizer_state["state"][a], optimizer_state["state"][b]
            state[new] = {
                key: sa[key] if key == "step" else torch.stack([sa[key], sb[key]]) for key in sa
            }
    params = list(range(shared + len(pairs)))
    return {"state": state, "param_groups": [{**group, "params": params}]}
