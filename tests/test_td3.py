import copy
import dataclasses

import numpy as np
import pytest
import torch

from rig.config import TD3Config
from rig.td3 import TD3, TwinCritic


def act(td3, obs):
    """The deterministic policy's actions, without gradients."""
    with torch.no_grad():
        return td3.actor(obs)


def make_td3(**overrides):
    torch.manual_seed(0)
    config = dataclasses.replace(TD3Config(hidden_sizes=(32, 32)), **overrides)
    return TD3(6, 2, np.array([2.0, 0.5], np.float32), config)


def batch(n=16):
    g = torch.Generator().manual_seed(1)
    return (
        torch.randn(n, 6, generator=g),
        torch.rand(n, 2, generator=g) - 0.5,
        torch.randn(n, generator=g),
        torch.randn(n, 6, generator=g),
        (torch.rand(n, generator=g) < 0.3).float(),
    )


def test_table1_defaults():
    c = TD3Config()
    assert (c.hidden_sizes, c.batch_size, c.actor_lr, c.critic_lr) == ((400, 300), 128, 1e-3, 1e-3)
    assert (c.tau, c.policy_delay, c.target_noise, c.target_noise_clip) == (1e-2, 2, 0.2, 0.5)
    assert (c.discount, c.updates_per_step) == (0.99, 4)
    # Table 1 lists a reward scale of 1e-4; rlkit's own pusher launcher uses 1, and so do we
    # (the A/B on the pusher: benchmarks/RESULTS.md, "Reward scale").
    assert c.reward_scale == 1.0


def test_actions_respect_the_action_box():
    td3 = make_td3()
    actions = act(td3, torch.randn(1000, 6) * 100)
    assert (actions.abs() <= torch.tensor([2.0, 0.5]) + 1e-6).all()


def test_target_without_noise_is_clipped_double_q():
    td3 = make_td3(target_noise=0.0)
    _obs, _action, reward, next_obs, terminal = batch()
    with torch.no_grad():
        next_action = td3.actor_target(next_obs)
        q1, q2 = td3.critic_target(next_obs, next_action)
        expected = reward + 0.99 * (1 - terminal) * torch.min(q1, q2)
    torch.testing.assert_close(td3.target_q(reward, next_obs, terminal), expected)


class SumQ(torch.nn.Module):
    """A critic whose value is the sum of the action: exposes the smoothed target action."""

    def forward(self, obs, action):
        return action.sum(-1), action.sum(-1)


def test_target_policy_noise_is_clipped_and_actions_stay_in_the_box():
    td3 = make_td3(target_noise=100.0, target_noise_clip=0.5, discount=1.0)
    td3.critic_target = SumQ()
    td3.actor_target = lambda obs: torch.zeros(len(obs), 2)
    torch.manual_seed(0)
    zeros = torch.zeros(512)
    target = td3.target_q(zeros, torch.randn(512, 6), zeros).numpy()
    # noise of std 100 is clipped to +-0.5 of each action's scale (2.0 and 0.5)
    assert np.abs(target).max() <= 1.25 + 1e-6
    assert np.isin(np.round(target, 4), [-1.25, -0.75, 0.75, 1.25]).mean() > 0.95
    td3.actor_target = lambda obs: td3.action_scale.expand(len(obs), -1)
    target = td3.target_q(zeros, torch.randn(512, 6), zeros).numpy()
    assert target.max() == pytest.approx(2.5)  # clipped to the action box
    assert np.isin(np.round(target, 4), [2.5, 2.25, 1.5, 1.25]).mean() > 0.95


def test_policy_delay_and_soft_target_updates():
    td3 = make_td3(policy_delay=2, tau=0.1)
    actor_before = [p.clone() for p in td3.actor.parameters()]
    target_before = [p.clone() for p in td3.critic_target.parameters()]
    metrics = td3.update(*batch())
    assert "td3/actor_loss" not in metrics
    assert all(torch.equal(a, b) for a, b in zip(actor_before, td3.actor.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(target_before, td3.critic_target.parameters()))
    metrics = td3.update(*batch())
    assert "td3/actor_loss" in metrics
    assert not all(torch.equal(a, b) for a, b in zip(actor_before, td3.actor.parameters()))
    for old, new, online in zip(
        target_before, td3.critic_target.parameters(), td3.critic.parameters()
    ):
        torch.testing.assert_close(new, 0.9 * old + 0.1 * online)


def test_critic_regresses_toward_fixed_targets():
    td3 = make_td3(discount=0.0)
    obs, action, reward, next_obs, terminal = batch(64)
    first = None
    for _ in range(200):
        loss = td3.update(obs, action, reward, next_obs, terminal)["td3/critic_loss"].item()
        first = first if first is not None else loss
    assert loss < 0.1 * first


def test_state_dict_round_trip():
    td3 = make_td3()
    for _ in range(3):
        td3.update(*batch())
    copy = make_td3()
    copy.load_state_dict(td3.state_dict())
    obs = torch.randn(5, 6)
    torch.testing.assert_close(act(copy, obs), act(td3, obs))
    assert copy.updates == 3
    with pytest.raises(KeyError):
        copy.load_state_dict({})


def test_first_q_alone_equals_the_first_of_the_pair():
    critic = TwinCritic(6, 2, (16, 16))
    obs, action = torch.randn(5, 6), torch.randn(5, 2)
    torch.testing.assert_close(critic.first(obs, action), critic(obs, action)[0])


@pytest.mark.parametrize("bf16", ["off", "on"])
def test_stacked_and_separate_critics_compute_the_same_update(bf16):
    stacked, separate = make_td3(bf16=bf16), make_td3(batched_critics=False, bf16=bf16)
    separate.critic.load_state_dict(stacked.critic.state_dict())
    separate.critic_target.load_state_dict(stacked.critic_target.state_dict())
    obs, action = torch.randn(7, 6), torch.randn(7, 2)
    for a, b in zip(stacked.critic(obs, action), separate.critic(obs, action)):
        torch.testing.assert_close(a, b, rtol=1e-2 if bf16 == "on" else 1e-5, atol=1e-3)
    for td3 in (stacked, separate):
        torch.manual_seed(3)
        for _ in range(4):
            td3.update(*batch())
    torch.testing.assert_close(act(stacked, obs), act(separate, obs), rtol=2e-2, atol=2e-3)


def test_the_two_critics_are_initialised_independently_like_linear_layers():
    critic = TwinCritic(6, 2, (400, 300))
    first = critic.weights[0]
    assert first.shape == (2, 400, 8)
    assert not torch.equal(first[0], first[1])
    bound = 8**-0.5
    assert first.abs().max() <= bound and first.abs().max() > 0.9 * bound


def test_bf16_runs_hidden_matmuls_only_and_keeps_fp32_outputs_and_weights():
    td3 = make_td3(bf16="on")
    assert td3.matmul_dtype == torch.bfloat16
    q1, q2 = td3.critic(torch.randn(4, 6), torch.randn(4, 2))
    assert q1.dtype == q2.dtype == torch.float32
    assert act(td3, torch.randn(4, 6)).dtype == torch.float32
    metrics = td3.update(*batch())
    assert all(p.dtype == torch.float32 for p in td3.critic.parameters())
    assert metrics["td3/critic_loss"].dtype == torch.float32
    assert make_td3(bf16="off").matmul_dtype == torch.float32


def test_bf16_auto_follows_the_cpu(monkeypatch):
    import rig.td3

    for native, expected in ((True, torch.bfloat16), (False, torch.float32)):
        monkeypatch.setattr(rig.td3, "cpu_has_native_bf16", lambda native=native: native)
        assert make_td3(bf16="auto").matmul_dtype == expected


def test_actor_update_leaves_the_critic_gradients_alone():
    td3 = make_td3(policy_delay=1)
    td3.update(*batch())
    before = [p.grad.clone() for p in td3.critic.parameters()]
    td3.update(*batch())
    after = [p.grad for p in td3.critic.parameters()]
    # the critic's last gradients are its own loss's, not the actor loss's added in
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
    assert all(p.grad is not None for p in td3.actor.parameters())


def separate_critic_checkpoint(td3: TD3) -> dict:
    """``td3``'s state as code before the stacked critics saved it: two ``nn.Sequential``
    Q-networks and Adam moments per separate parameter."""
    state = td3.state_dict()

    def unstack(critic_state):
        out = {}
        for i in range(len(td3.config.hidden_sizes) + 1):
            for k in (0, 1):
                out[f"q{k + 1}.{2 * i}.weight"] = critic_state[f"weights.{i}"][k].clone()
                out[f"q{k + 1}.{2 * i}.bias"] = critic_state[f"biases.{i}"][k].clone()
        return out

    layers = len(td3.config.hidden_sizes) + 1
    moments = state["critic_optimizer"]["state"]
    separate = {}
    for k in (0, 1):
        for i in range(layers):
            for kind in (i, layers + i):  # weights.i, then biases.i
                separate[len(separate)] = {
                    key: v if key == "step" else v[k].clone() for key, v in moments[kind].items()
                }
    group = dict(state["critic_optimizer"]["param_groups"][0])
    order = {}  # old order: q1 (w0, b0, w1, b1, ...), then q2
    for k in (0, 1):
        for i in range(layers):
            order[len(order)] = separate[k * 2 * layers + 2 * i]
            order[len(order)] = separate[k * 2 * layers + 2 * i + 1]
    group["params"] = list(range(len(order)))
    return {
        **state,
        "critic": unstack(state["critic"]),
        "critic_target": unstack(state["critic_target"]),
        "critic_optimizer": {"state": order, "param_groups": [group]},
    }


def test_checkpoints_with_separate_critics_load_and_resume_identically():
    td3 = make_td3()
    for _ in range(3):
        td3.update(*batch())
    old = copy.deepcopy(separate_critic_checkpoint(td3))  # as read back from a file
    assert "q1.0.weight" in old["critic"]
    loaded = make_td3()
    loaded.load_state_dict(old)
    for name, tensor in td3.critic_optimizer.state_dict()["state"].items():
        for key, value in tensor.items():
            torch.testing.assert_close(
                loaded.critic_optimizer.state_dict()["state"][name][key], value
            )
    for td3_ in (td3, loaded):
        torch.manual_seed(5)
        td3_.update(*batch())
    for a, b in zip(td3.critic.parameters(), loaded.critic.parameters()):
        torch.testing.assert_close(a, b)
