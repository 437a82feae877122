"""Typed, frozen configuration of a run. Defaults are the paper's Table 1.

The command line is generated from these dataclasses (``rig train --help``);
every run writes its fully resolved configuration to ``config.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class RepresentationConfig:
    """The learned representation (beta-VAE, autoencoder or spatial autoencoder) and its
    training schedule; the ``vae`` section of a configuration (``--vae.*`` flags)."""

    latent_dim: int = 4
    """Size of the latent space."""
    beta: float = 5.0
    """Weight of the KL term."""
    lr: float = 1e-3
    batch_size: int = 128
    pretrain_steps: int = 1000
    """Gradient steps on the exploration dataset before RL starts."""
    finetune_every_episodes: int = 20
    """K in Algorithm 1: fine-tune the VAE every K episodes (0 = never fine-tune)."""
    finetune_every_steps: int = 0
    """If > 0, K counts env steps instead of episodes: fine-tune at the first episode end this
    many env steps after the last round, whatever the horizon (supplementary 9.3's online
    VAE: 3,000)."""
    finetune_steps: int = 100
    """Gradient steps per fine-tuning round."""
    refresh_frames_per_step: float = 100.0
    """Bound on the buffer frames re-encoded per env step, on average. Each fine-tuning
    re-encodes every stored frame (no stale latents), a cost that grows with the buffer;
    once that would exceed this bound, fine-tuning waits longer than K episodes (at
    horizon 100 and K = 20: from 200K stored frames on). 0: every K episodes, however large."""
    replay_fraction: float = 0.5
    """Fraction of each fine-tuning batch drawn from replay images (rest: dataset)."""
    test_fraction: float = 0.1
    """Held-out fraction of the exploration dataset, for the logged test loss."""


@dataclass(frozen=True)
class TD3Config:
    """TD3 on (z, z_g); Table 1 of the paper."""

    hidden_sizes: tuple[int, ...] = (400, 300)
    batch_size: int = 128
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    discount: float = 0.99
    tau: float = 1e-2
    policy_delay: int = 2
    target_noise: float = 0.2
    target_noise_clip: float = 0.5
    updates_per_step: int = 4
    updates_per_episode: int = 0
    """If positive: this many updates at each episode's end instead of ``updates_per_step``
    after each step (HER's training cycle of one rollout, then N gradient steps)."""
    reward_scale: float = 1.0
    """Multiplies the relabeled reward (Table 1 lists 1e-4 for the original code's scale)."""
    batched_critics: bool = True
    """Q1 and Q2 as one stacked network: one batched matmul per layer instead of two."""
    adam: Literal["fused", "foreach", "loop"] = "fused"
    """Adam's kernel: one fused pass over all parameters, multi-tensor ops, or one loop."""
    compile: bool = False
    """``torch.compile`` the critic loss and the actor's gradients (inductor; the first
    updates wait for compilation)."""
    bf16: Literal["auto", "on", "off"] = "auto"
    """bf16 matmuls in the hidden layers, with fp32 weights, outputs, losses and targets.
    "auto": on where the CPU has native bf16 (AVX-512 BF16 or AMX), off elsewhere and on GPUs."""


@dataclass(frozen=True)
class NoiseConfig:
    """Exploration noise added to the policy's actions while collecting data."""

    kind: str = "ou"
    """A name in ``rig.noise.NOISES``: ``ou``, ``gaussian`` or ``epsilon-greedy``."""
    theta: float = 0.15
    """OU mean reversion."""
    sigma: float = 0.3
    """OU and Gaussian scale."""
    epsilon: float = 0.3
    """Epsilon-greedy: probability of a uniformly random action."""


@dataclass(frozen=True)
class RelabelConfig:
    """Fractions of each training batch whose goal comes from each source.

    Whatever is left (1 - prior - future - env) keeps the rollout goal.
    The paper's default is 0.5 prior / 0.5 future.
    """

    prior: float = 0.5
    """Goal sampled from the fitted VAE prior."""
    future: float = 0.5
    """Achieved state later in the same episode (HER's "future")."""
    env: float = 0.0
    """Goal sampled from the task's own goal distribution, encoded."""
    env_goal_pool: int = 1000
    """How many task goals are rendered once and reused by the ``env`` strategy."""


@dataclass(frozen=True)
class ExplorationDataConfig:
    """Line 1 of Algorithm 1: images for VAE pretraining from an exploration policy."""

    num_images: int = 2000
    goal_reset_prob: float = 0.1
    """Per step, probability of jumping to a random goal state (as the original code did)."""


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation on the task's own goals, rendered and encoded; never used for training."""

    every_steps: int = 1000
    episodes: int = 10
    seed_offset: int = 10_000
    """Evaluation goals come from an environment seeded with ``seed + seed_offset``."""
    video_episodes: int = 3
    """Episodes recorded in the final rollout video."""
    probe_states: int = 1000
    """Fresh goal states rendered for the representation report (held-out R^2 per state
    dimension after every representation update); the true state is used for nothing else."""


@dataclass(frozen=True)
class Config:
    """Everything a run needs. ``rig train --help`` lists every field."""

    env: str = "point"
    """Task: a CLI name (point, point-wall) or a Gymnasium id."""
    eval_env: str = ""
    """Task for evaluation if not ``env`` (e.g. ``multi-pusher-variable``, Figure 6)."""
    method: str = "rig"
    """Method preset (``rig methods`` lists them)."""
    representation: str = "vae"
    """What the policy sees (``rig.representations.REPRESENTATIONS``): ``vae`` beta-VAE
    latents, ``ae`` autoencoder codes (L&R), ``spatial-ae`` spatial feature points (DSAE),
    ``state`` the true state (oracle) or ``pixels`` raw pixels with an encoder trained by
    the critic."""
    reward: str = "latent-distance"
    """``rig.reward.REWARDS``: ``latent-distance`` ``-||z' - z_g||``; ``log-prob`` the
    log-density of the goal under the encoder's Gaussian at the next observation (Figure
    4's "Log Probability"); ``mahalanobis`` minus the Mahalanobis norm under the encoder's
    precision (Equation 3 as printed); ``pixel-mse`` minus the pixel MSE between the next
    image and the (decoded) goal; ``task`` the task's own ``compute_reward`` of a goal
    environment (sparse or dense, e.g. ``FetchReach-v4`` or
    ``FetchReachDense-v4``; representation ``state`` only)."""
    rollout_goals: Literal["prior", "env"] = "prior"
    """Goals of exploration episodes: imagined (sampled from the fitted prior) or the
    task's own goal images (what the paper gave every baseline)."""
    imagined_goals: Literal[
        "fitted-prior", "exploration-prior", "stored-latents", "exploration-latents"
    ] = "fitted-prior"
    """Where imagined goals (exploration and ``relabel.prior``) come from: a diagonal Gaussian
    fitted to the latents of every stored image (exploration data and replay: the paper's
    fitted prior) or of the exploration images only (the VAE's pretraining data, as the
    original code fitted it), or the latent of one such image drawn at random (the latents'
    own distribution, tails included)."""
    steps: int = 3000
    """Environment steps of RL training (after the exploration data)."""
    seed: int = 0
    out: Path = Path("runs/latest")
    """Run directory."""
    image_size: int = 48
    horizon: int = 0
    """Episode length; 0 uses the task's own time limit."""
    learning_starts: int = 500
    """Environment steps collected before the first TD3 update."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions."""
    device: str = "cpu"
    threads: int = 0
    """PyTorch CPU threads (0: PyTorch's default). Use 1 per run when runs share the cores."""
    checkpoint_every: int = 1000
    """Checkpoint at the first episode end after every this many env steps (0: only at the end)."""
    save_buffer: bool = False
    """Save the replay buffer with each checkpoint, so that ``--resume`` is exact."""
    track: bool = False
    """Also log to Weights & Biases (``pip install "rig-rl[track]"``; ``WANDB_MODE=offline``
    works without a network). TensorBoard logs are written either way."""
    track_project: str = "rig"
    """The W&B project of ``--track``."""
    vae: RepresentationConfig = field(default_factory=RepresentationConfig)
    td3: TD3Config = field(default_factory=TD3Config)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    relabel: RelabelConfig = field(default_factory=RelabelConfig)
    exploration: ExplorationDataConfig = field(default_factory=ExplorationDataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def validate(self) -> Config:
        """Raise ``ValueError`` with a one-line message for any invalid field: a number that
        is not finite or outside its :data:`RANGES`, or a combination that cannot work."""
        problems = [
            f"{name} must be {'' if math.isfinite(value) else 'a finite number, '}"
            f"{RANGES[name]}, got {value!r}"
            for name, value in numeric_fields(self).items()
            if name in RANGES and not RANGES[name].holds(value)
        ]
        if self.image_size not in (48, 84):
            problems.append(f"image_size must be 48 or 84, got {self.image_size}")
        if not self.td3.hidden_sizes or min(self.td3.hidden_sizes) < 1:
            problems.append(
                f"td3.hidden_sizes must be one or more positive layer widths, "
                f"got {list(self.td3.hidden_sizes)}"
            )
        fractions = {k: getattr(self.relabel, k) for k in ("prior", "future", "env")}
        if sum(fractions.values()) > 1 + 1e-9:
            problems.append(
                f"relabeling fractions sum to {sum(fractions.values()):g} > 1: {fractions}"
            )
        problems += _unregistered(self)
        problems += self._method_problems()
        problems += _device_problems(self.device)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _method_problems(self) -> list[str]:
        """Combinations of representation, reward and goal sources that cannot work."""
        rep, reward = self.representation, self.reward
        problems = []
        if reward in ("log-prob", "mahalanobis") and rep != "vae":
            problems.append(
                f"reward {reward!r} needs the VAE's variances (representation 'vae'), got {rep!r}"
            )
        if rep == "pixels" and reward != "pixel-mse":
            problems.append(
                f"representation 'pixels' compares images: use reward 'pixel-mse', got {reward!r}"
            )
        if rep == "state" and reward not in ("latent-distance", "task"):
            problems.append(
                "representation 'state' compares states: use reward 'latent-distance' or "
                f"'task', got {reward!r}"
            )
        if reward == "task" and rep != "state":
            problems.append(
                f"reward 'task' is a goal environment's reward on states: use representation "
                f"'state', got {rep!r}"
            )
        if rep in ("state", "pixels") and (self.rollout_goals != "env" or self.relabel.prior > 0):
            problems.append(
                f"representation {rep!r} is not learned, so it has no fitted prior to imagine "
                "goals: "
                "use rollout_goals 'env' and relabel.prior 0"
            )
        if rep == "spatial-ae" and self.vae.latent_dim % 2:
            problems.append(
                "representation 'spatial-ae' needs an even vae.latent_dim, "
                f"got {self.vae.latent_dim}"
            )
        return problems

    @property
    def eval_seed(self) -> int:
        """The seed of the evaluation task's goals (``seed + eval.seed_offset``)."""
        return self.seed + self.eval.seed_offset

    def with_steps(self, steps: int) -> Config:
        return dataclasses.replace(self, steps=steps).validate()

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self), default=str))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """The configuration a ``to_dict`` (``config.json``) describes, through the same
        field lookup and type coercion as sweep overrides (:func:`replace_fields`)."""
        return replace_fields(cls(), flatten(data))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Config:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _unregistered(config: Config) -> list[str]:
    """A representation, reward or noise kind that no registry holds, with the names they
    do hold."""
    from rig.noise import NOISES
    from rig.representations import REPRESENTATIONS
    from rig.reward import REWARDS

    problems = []
    for what, name, registry in (
        ("representation", config.representation, REPRESENTATIONS),
        ("reward", config.reward, REWARDS),
        ("noise kind", config.noise.kind, NOISES),
    ):
        if name not in registry:
            problems.append(f"unknown {what} {name!r}; known: {', '.join(registry)}")
    return problems


def _device_problems(device: str) -> list[str]:
    """Why this PyTorch cannot train on ``device``, if it cannot."""
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError:
        return [f"device {device!r} is not a PyTorch device (e.g. cpu, cuda, cuda:1)"]
    if kind == "cuda" and not torch.backends.cuda.is_built():
        return [
            f"device {device!r}: this PyTorch has no CUDA; use --device cpu or install a CUDA build"
        ]
    if kind == "cuda" and not torch.cuda.is_available():
        return [f"device {device!r}: no CUDA GPU is visible to this PyTorch; use --device cpu"]
    return []


@dataclass(frozen=True)
class Range:
    """The finite numbers a field accepts: from ``low`` to ``high``, ends included unless
    open. Every bound is checked against NaN and infinities too."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def holds(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        if self.high == math.inf:
            if (self.low, self.low_open) in ((0, True), (1, False)):
                return "positive"
            if self.low == -math.inf:
                return "a finite number"
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


AT_LEAST_0, POSITIVE, FRACTION = Range(0), Range(0, low_open=True), Range(0, 1)
COUNT = Range(1)
RANGES: dict[str, Range] = {
    "steps": COUNT,
    "seed": AT_LEAST_0,
    "horizon": AT_LEAST_0,
    "learning_starts": AT_LEAST_0,
    "buffer_size": COUNT,
    "threads": AT_LEAST_0,
    "checkpoint_every": AT_LEAST_0,
    "vae.latent_dim": COUNT,
    "vae.beta": AT_LEAST_0,
    "vae.lr": POSITIVE,
    "vae.batch_size": COUNT,
    "vae.pretrain_steps": AT_LEAST_0,
    "vae.finetune_every_episodes": AT_LEAST_0,
    "vae.finetune_every_steps": AT_LEAST_0,
    "vae.finetune_steps": AT_LEAST_0,
    "vae.refresh_frames_per_step": AT_LEAST_0,
    "vae.replay_fraction": FRACTION,
    "vae.test_fraction": Range(0, 1, low_open=True, high_open=True),
    "td3.batch_size": COUNT,
    "td3.actor_lr": POSITIVE,
    "td3.critic_lr": POSITIVE,
    "td3.discount": FRACTION,
    "td3.tau": Range(0, 1, low_open=True),
    "td3.policy_delay": COUNT,
    "td3.target_noise": AT_LEAST_0,
    "td3.target_noise_clip": AT_LEAST_0,
    "td3.updates_per_step": COUNT,
    "td3.updates_per_episode": AT_LEAST_0,
    "td3.reward_scale": POSITIVE,
    "noise.theta": AT_LEAST_0,
    "noise.sigma": AT_LEAST_0,
    "noise.epsilon": FRACTION,
    "relabel.prior": FRACTION,
    "relabel.future": FRACTION,
    "relabel.env": FRACTION,
    "relabel.env_goal_pool": COUNT,
    "exploration.num_images": Range(10),
    "exploration.goal_reset_prob": FRACTION,
    "eval.every_steps": COUNT,
    "eval.episodes": COUNT,
    "eval.seed_offset": AT_LEAST_0,
    "eval.video_episodes": AT_LEAST_0,
    "eval.probe_states": Range(8),
}
"""Every numeric field's accepted values (``image_size`` and ``td3.hidden_sizes`` are
checked apart: a choice and a list)."""


def numeric_fields(config, prefix: str = "") -> dict[str, float]:
    """Every int and float field of ``config`` and its sections, by dotted name."""
    found = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            found.update(numeric_fields(value, f"{prefix}{f.name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[f"{prefix}{f.name}"] = value
    return found


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict of dotted names: ``{"vae": {"beta": 5}}`` -> ``{"vae.beta": 5}``."""
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def replace_fields(config, changes: dict[str, Any]):
    """``config`` (a frozen dataclass) with dotted fields replaced: ``{"vae.beta": 2}``.

    Values are coerced to the field's type where that is lossless (lists to tuples,
    ints to floats, strings to paths); unknown fields and wrong types are errors.
    """
    for key, value in changes.items():
        parts = str(key).replace("-", "_").split(".")
        config = _replace(config, parts, value, str(key))
    return config


def _replace(obj, parts: list[str], value, key: str):
    names = [f.name for f in dataclasses.fields(obj)]
    if parts[0] not in names:
        raise ValueError(f"unknown configuration field {key!r}; fields here: {', '.join(names)}")
    current = getattr(obj, parts[0])
    if dataclasses.is_dataclass(current):
        if len(parts) == 1:
            example = f"{key}.{dataclasses.fields(current)[0].name}"
            raise ValueError(f"{key!r} names a section, not a field; set a field, e.g. {example}")
        return dataclasses.replace(obj, **{parts[0]: _replace(current, parts[1:], value, key)})
    if len(parts) > 1:
        raise ValueError(f"unknown configuration field {key!r}")
    return dataclasses.replace(obj, **{parts[0]: _coerce(value, current, key)})


def _coerce(value, current, key: str):
    """``value`` as the type of the field's current value (lists become tuples, ints floats)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)
    if isinstance(current, Path) and isinstance(value, str):
        return Path(value)
    if isinstance(current, float) and number:
        return float(value)
    if type(value) is type(current):
        return value
    raise ValueError(f"field {key!r}: expected {type(current).__name__}, got {value!r}")
