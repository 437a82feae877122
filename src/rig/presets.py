"""Method presets: each method of the paper is a configuration of one shared pipeline.

A preset changes only the fields that define the method; everything else keeps
the paper's Table 1 defaults, and ``rig train --method NAME --field value``
overrides any field on top of the preset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rig.config import Config, RelabelConfig


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    paper_section: str
    config: Config


def _relabel(prior: float, future: float) -> Config:
    return Config(relabel=RelabelConfig(prior=prior, future=future))


_METHODS = [
    Method(
        "rig",
        "RIG: beta-VAE latents, imagined goals from the fitted prior, 0.5 prior / 0.5 future relabeling",
        "Section 4, Algorithm 1",
        Config(),
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
