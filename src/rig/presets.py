"""Method presets: each method of the paper is a configuration of one shared pipeline.

A preset changes only the fields that define the method; everything else keeps
the paper's Table 1 defaults, and ``rig train --method NAME --field value``
overrides any field on top of the preset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rig.config import Config, RelabelConfig, VAEConfig


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    paper_section: str
    config: Config


def _relabel(prior: float, future: float) -> Config:
    return Config(relabel=RelabelConfig(prior=prior, future=future))


def _baseline(representation: str, **changes) -> Config:
    """A prior method: real goal images for rollouts, 0.5 future / 0.5 task-goal relabeling."""
    return Config(
        representation=representation,
        rollout_goals="env",
        relabel=RelabelConfig(prior=0.0, future=0.5, env=0.5),
        **changes,
    )


def _vae(**changes) -> Config:
    return Config(vae=VAEConfig(**changes))


_METHODS = [
    Method(
        "rig",
        "RIG: beta-VAE latents, imagined goals from the fitted prior, 0.5 prior / 0.5 future relabeling",
        "Section 4, Algorithm 1",
        Config(),
    ),
    Method(
        "oracle",
        "State oracle: the same TD3 on true states and goals, reward minus the true distance",
        "Section 5, Figure 3",
        _baseline("state"),
    ),
    Method(
        "her-pixel",
        "HER on pixels: conv encoder trained through the critic, pixel-MSE reward, future relabeling",
        "Section 5, Figure 3",
        dataclasses.replace(
            _baseline("pixels", reward="pixel-mse"), relabel=RelabelConfig(prior=0.0, future=0.8)
        ),
    ),
    Method(
        "lr-ae",
        "L&R (Lange & Riedmiller): plain autoencoder codes, latent-distance reward",
        "Section 5, Figure 3",
        _baseline("ae"),
    ),
    Method(
        "dsae",
        "DSAE: spatial-autoencoder feature points (16), goal-conditioned Q, feature-distance reward",
        "Section 5, Figure 3",
        _baseline("spatial-ae", vae=VAEConfig(latent_dim=32)),
    ),
    Method(
        "rig-log-prob",
        "RIG with the log-probability reward (Mahalanobis distance, encoder precision)",
        "Section 5 (reward ablation), Figures 4 and 10",
        Config(reward="log-prob"),
    ),
    Method(
        "rig-pixel-mse",
        "RIG with the pixel-MSE reward between the observation and the decoded latent goal",
        "Section 5 (reward ablation), Figures 4 and 10",
        Config(reward="pixel-mse"),
    ),
    Method(
        "vae-frozen",
        "RIG with the VAE pretrained and then frozen (never fine-tuned)",
        "Supplementary 9.3, Figure 11",
        _vae(finetune_every_episodes=0),
    ),
    Method(
        "vae-online",
        "RIG with no VAE pretraining: retrain on replay images every 60 episodes "
        "(3,000 steps at horizon 50)",
        "Supplementary 9.3, Figure 11",
        _vae(pretrain_steps=0, replay_fraction=1.0, finetune_every_episodes=60, finetune_steps=500),
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
]

METHODS: dict[str, Method] = {
    m.name: dataclasses.replace(m, config=dataclasses.replace(m.config, method=m.name))
    for m in _METHODS
}


def preset(name: str) -> Config:
    """The default configuration of a method."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods: {', '.join(METHODS)}")
    return METHODS[name].config


def differences(config: Config, reference: Config | None = None) -> dict[str, tuple]:
    """Fields (dotted names) where ``config`` differs from ``reference`` (default: ``rig``)."""
    ours = _flatten(config.to_dict())
    theirs = _flatten((reference or preset("rig")).to_dict())
    return {k: (theirs.get(k), v) for k, v in ours.items() if theirs.get(k) != v}


def _flatten(data: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
