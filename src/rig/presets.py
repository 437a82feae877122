"""Method and task presets: each method of the paper is a configuration of one shared
pipeline, and each task carries the paper's protocol for it.

A method preset changes only the fields that define the method; a task preset
changes only the budget of its task (exploration images, VAE pretraining, beta,
latent size, env steps, evaluation). A run's configuration is resolved in order:
Table 1 defaults, then the task's preset, then the method's, then the user's flags
(``rig train --env pusher --method oracle --vae.beta 2``). Each step is a dotted patch
(``{"vae.latent_dim": 8}``) applied by :func:`resolve`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rig.config import (
    Config,
    flatten,
    replace_fields,
)


@dataclass(frozen=True)
class Method:
    """A method of the paper: the dotted configuration fields it sets on top of ``rig``."""

    name: str
    description: str
    paper_section: str
    changes: dict[str, Any]

    @property
    def config(self) -> Config:
        """Table 1 defaults with this method's fields set."""
        return replace_fields(Config(method=self.name), self.changes)


def _relabel(prior: float, future: float) -> dict[str, Any]:
    return {"relabel.prior": prior, "relabel.future": future}


def _baseline(representation: str, **changes) -> dict[str, Any]:
    """A prior method: real goal images for rollouts, 0.5 future / 0.5 task-goal relabeling."""
    return {
        "representation": representation,
        "rollout_goals": "env",
        "relabel.prior": 0.0,
        "relabel.future": 0.5,
        "relabel.env": 0.5,
        **changes,
    }


def _vae(**changes) -> dict[str, Any]:
    return {f"vae.{name}": value for name, value in changes.items()}


def _goal_env(future: float, env: float, updates_per_episode: int) -> dict[str, Any]:
    """Supplementary 9.4: TD3 on a goal environment's states with its own reward and
    goals, trained as the OpenAI baselines HER code with ``rollout_batch_size=1``,
    ``n_cycles=1``, batch 256: one episode, then ``updates_per_episode`` gradient steps
    (``n_batches``); HER's networks (3 x 256), discount 0.98 and target averaging 0.95
    (``tau`` 0.05)."""
    return {
        "representation": "state",
        "reward": "task",
        "rollout_goals": "env",
        "relabel.prior": 0.0,
        "relabel.future": future,
        "relabel.env": env,
        "td3.hidden_sizes": (256, 256, 256),
        "td3.batch_size": 256,
        "td3.updates_per_episode": updates_per_episode,
        "td3.discount": 0.98,
        "td3.tau": 0.05,
    }


_FIGURE_12 = [
    Method(
        f"{name}-{n}",
        f"{what}, its own reward, {n} updates per episode",
        "Supplementary 9.4, Figure 12",
        _goal_env(future, env, n),
    )
    for name, what, future, env in (
        ("her-future", "HER 'future' (k = 4: 0.8 future goals) on a goal environment's states",
         0.8, 0.0),
        ("her-env", "Figure 12's 'ours': half HER 'future' (k = 4), half goals from the "
         "environment's goal space (0.4 future, 0.5 env, 0.1 rollout)", 0.4, 0.5),
    )
    for n in (64, 256)
]  # fmt: skip


_METHODS = [
    Method(
        "rig",
        "RIG: beta-VAE latents, imagined goals from the fitted prior, "
        "0.5 prior / 0.5 future relabeling",
        "Section 4, Algorithm 1",
        {},
    ),
    Method(
        "oracle",
        "State oracle: the same TD3 on true states and goals, reward minus the true distance",
        "Section 5, Figure 3",
        _baseline("state"),
    ),
    Method(
        "her-pixel",
        "HER on pixels: conv encoder trained through the critic, pixel-MSE reward, "
        "future relabeling",
        "Section 5, Figure 3",
        _baseline("pixels", reward="pixel-mse", **{"relabel.future": 0.8, "relabel.env": 0.0}),
    ),
    Method(
        "lr-ae",
        "L&R (Lange & Riedmiller): plain autoencoder codes, latent-distance reward",
        "Section 5, Figure 3",
        _baseline("ae"),
    ),
    Method(
        "dsae",
        "DSAE: spatial-autoencoder feature points (16), goal-conditioned Q, "
        "feature-distance reward",
        "Section 5, Figure 3",
        _baseline("spatial-ae", **_vae(latent_dim=32)),
    ),
    Method(
        "rig-log-prob",
        "RIG with the log-probability reward: log q(z_g | s'), the goal's log-density "
        "under the encoder's Gaussian",
        "Section 5 (reward ablation), Figures 4 and 10",
        {"reward": "log-prob"},
    ),
    Method(
        "rig-pixel-mse",
        "RIG with the pixel-MSE reward between the observation and the decoded latent goal",
        "Section 5 (reward ablation), Figures 4 and 10",
        {"reward": "pixel-mse"},
    ),
    Method(
        "vae-frozen",
        "RIG with the VAE pretrained and then frozen (never fine-tuned)",
        "Supplementary 9.3, Figure 11",
        _vae(finetune_every_episodes=0),
    ),
    Method(
        "vae-untrained",
        "RIG with a VAE that is never trained (random weights: no pretraining, no "
        "fine-tuning); Figure 11's 'no training' line",
        "Supplementary 9.3, Figure 11",
        _vae(pretrain_steps=0, finetune_every_episodes=0),
    ),
    Method(
        "vae-online",
        "RIG with no VAE pretraining: retrain on replay images every 3,000 env steps",
        "Supplementary 9.3, Figure 11",
        _vae(pretrain_steps=0, replay_fraction=1.0, finetune_every_steps=3000, finetune_steps=500),
    ),
    Method(
        "relabel-none",
        "RIG without relabeling: every transition keeps the goal its episode pursued",
        "Section 5 (relabeling ablation), Figures 5 and 9",
        _relabel(0.0, 0.0),
    ),
    Method(
        "relabel-future",
        "RIG relabeling only with future states of the episode (HER's 'future')",
        "Section 5 (relabeling ablation), Figures 5 and 9",
        _relabel(0.0, 1.0),
    ),
    Method(
        "relabel-vae",
        "RIG relabeling only with goals sampled from the fitted VAE prior",
        "Section 5 (relabeling ablation), Figures 5 and 9",
        _relabel(1.0, 0.0),
    ),
    *_FIGURE_12,
]

METHODS: dict[str, Method] = {m.name: m for m in _METHODS}


def method(name: str) -> Method:
    """The method preset ``name``; an unknown name is an error listing the known ones."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods: {', '.join(METHODS)}")
    return METHODS[name]


def preset(name: str) -> Config:
    """The default configuration of a method."""
    return method(name).config


def differences(config: Config, reference: Config | None = None) -> dict[str, tuple]:
    """Fields (dotted names) where ``config`` differs from ``reference`` (default: ``rig``)."""
    ours = flatten(config.to_dict())
    theirs = flatten((reference or preset("rig")).to_dict())
    return {k: (theirs.get(k), v) for k, v in ours.items() if theirs.get(k) != v}


@dataclass(frozen=True)
class TaskPreset:
    """The paper's protocol for one task: dotted configuration fields and why."""

    name: str
    changes: dict[str, Any]
    source: str


_ARM_EVAL = {"eval.episodes": 50, "eval.every_steps": 5000}
"""50 goals per evaluation, fixed per seed: one curve's points are not noise."""

_PUSHER = {
    "exploration.num_images": 10_000,
    "vae.pretrain_steps": 5000,
    "vae.latent_dim": 8,
    "steps": 500_000,
    "learning_starts": 4000,
    "exploration.goal_reset_prob": 0.5,
    "imagined_goals": "exploration-latents",
    **_ARM_EVAL,
}
"""The single- and the two-puck pusher's protocol (one definition for both)."""

_TASKS = [
    TaskPreset("point", {}, "our 2-D toy task: Table 1 defaults, 3,000 env steps"),
    TaskPreset("point-wall", {}, "our 2-D toy task: Table 1 defaults, 3,000 env steps"),
    TaskPreset(
        "reacher",
        {"exploration.num_images": 100, "steps": 50_000, **_ARM_EVAL},
        "paper section 5: VAE pretrained on 100 images; 50K steps (our budget)",
    ),
    TaskPreset(
        "pusher",
        _PUSHER,
        "paper section 5 and rlkit v0.1.2: 10,000 images, ~500K env steps, 4,000 steps "
        "before training; latent size 8, 5,000 VAE steps, imagined goals drawn from the "
        "exploration images' latents: docs/task_protocols.md",
    ),
    TaskPreset(
        "pusher-narrow",
        _PUSHER,
        "as pusher, with goals three quarters as wide laterally: the easier pusher of "
        "supplementary 9.3 (Figure 11)",
    ),
    TaskPreset(
        "multi-pusher",
        _PUSHER,
        "as pusher: half of the images goal states, latent size 8 for the 6-D state of the "
        "hand and two pucks (held-out R^2 >= 0.946 on every dimension): docs/task_protocols.md",
    ),
    TaskPreset(
        "door",
        {
            "exploration.num_images": 10_000,
            "exploration.goal_reset_prob": 0.5,
            "vae.pretrain_steps": 10_000,
            "vae.latent_dim": 8,
            "steps": 500_000,
            "learning_starts": 4000,
            "imagined_goals": "exploration-latents",
            **_ARM_EVAL,
        },
        "paper section 5: 10,000 images; half of them goal states (random actions seldom "
        "open the door), latent size 8 for the 3-D hand and the angle, imagined goals from "
        "the exploration images' latents as on the pushers: docs/task_protocols.md",
    ),
    TaskPreset(
        "pick-place",
        {
            "exploration.num_images": 10_000,
            "exploration.goal_reset_prob": 0.5,
            "vae.pretrain_steps": 10_000,
            "vae.latent_dim": 8,
            "steps": 500_000,
            "imagined_goals": "exploration-latents",
            **_ARM_EVAL,
        },
        "paper section 5: 10,000 images; half of them goal states (random actions seldom "
        "lift the ball; three goals in four hold it), latent size 8, imagined goals from the "
        "exploration images' latents as on the pushers: docs/task_protocols.md",
    ),
]
_TASKS.append(
    TaskPreset(
        "fetch-reach-pixels",
        {
            "exploration.num_images": 2000,
            "vae.pretrain_steps": 3000,
            "vae.latent_dim": 4,
            "steps": 20_000,
            "learning_starts": 1000,
            "imagined_goals": "exploration-latents",
            "eval.episodes": 20,
            "eval.every_steps": 1000,
        },
        "our protocol (new: supplementary 9.4 ran Fetch from states): FetchReach-v4 from a "
        "fixed camera, 2,000 images, latent size 4 for the 3-D gripper, 20K steps",
    )
)
_TASKS.append(
    TaskPreset(
        "fetch-push-pixels",
        {**_PUSHER, "steps": 100_000, "eval.episodes": 20},
        "as pusher (10,000 images, latent size 8), 100K steps: FetchPush-v4 from a fixed camera",
    )
)
FETCH_BUDGETS = {
    "FetchReach": 5_000,
    "FetchPush": 100_000,
    "FetchSlide": 100_000,
    "FetchPickAndPlace": 100_000,
}
"""Env steps per Fetch task (Gymnasium-Robotics v4 ids, sparse and dense): our budget."""
_TASKS += [
    TaskPreset(
        f"{task}{reward}-v4",
        {
            "steps": steps,
            "learning_starts": 250,
            "eval.episodes": 10,
            "eval.every_steps": steps // 20,
            "checkpoint_every": 10_000,
        },
        "supplementary 9.4 (OpenAI baselines HER, one episode per cycle); our budget, "
        "20 evaluations",
    )
    for task, steps in FETCH_BUDGETS.items()
    for reward in ("", "Dense")
]
TASK_PRESETS: dict[str, TaskPreset] = {t.name: t for t in _TASKS}
TASK_PRESETS["multi-pusher-variable"] = dataclasses.replace(
    TASK_PRESETS["multi-pusher"], name="multi-pusher-variable"
)
TASK_PRESETS["door-reset-free"] = dataclasses.replace(TASK_PRESETS["door"], name="door-reset-free")


def task_preset(env: str) -> dict[str, Any]:
    """The dotted fields the task ``env`` (CLI name or Gymnasium id) sets; {} for other tasks."""
    from rig.envs import TASKS

    by_id = {gym_id: name for name, gym_id in TASKS.items()}
    preset_ = TASK_PRESETS.get(env) or TASK_PRESETS.get(by_id.get(env, ""))
    return dict(preset_.changes) if preset_ else {}


def resolve(method_name: str = "rig", env: str = "point", flags: dict | None = None) -> Config:
    """Table 1 defaults, then the task's preset, then the method's, then ``flags``: three
    dotted patches, applied in that order by :func:`~rig.config.replace_fields` (as sweep
    overrides and ``config.json`` are)."""
    config = Config(env=env, method=method_name)
    for patch in (task_preset(env), method(method_name).changes, flags or {}):
        config = replace_fields(config, patch)
    return config
