"""Method presets: each method of the paper is a configuration of one shared pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from rig.config import Config


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    paper_section: str
    config: Config


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method(
            "rig",
            "RIG: beta-VAE latents, imagined goals from the fitted prior, 0.5 prior / 0.5 future relabeling",
            "Section 4, Algorithm 1",
            Config(method="rig"),
        ),
    ]
}


def preset(name: str) -> Config:
    """The default configuration of a method."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods: {', '.join(METHODS)}")
    return METHODS[name].config
