"""Goal-conditioned image tasks, registered with Gymnasium under ``rig/...`` ids."""

from __future__ import annotations

import gymnasium as gym

from rig.envs.interface import check_task
from rig.envs.point import PointEnv

TASKS: dict[str, str] = {
    "point": "rig/PointReach-v0",
    "point-wall": "rig/PointWall-v0",
}
"""CLI task names and the Gymnasium ids they stand for."""

_REGISTRATIONS = {
    # id: (entry point, constructor kwargs, episode steps)
    "rig/PointReach-v0": ("rig.envs.point:PointEnv", {"wall": False}, 50),
    "rig/PointWall-v0": ("rig.envs.point:PointEnv", {"wall": True}, 50),
}


def register_all() -> None:
    """Register every task with Gymnasium (safe to call more than once)."""
    for gym_id, (entry_point, kwargs, steps) in _REGISTRATIONS.items():
        if gym_id not in gym.registry:
            gym.register(gym_id, entry_point, max_episode_steps=steps, kwargs=kwargs)


def env_id(name: str) -> str:
    """The Gymnasium id of a task given by CLI name, by registered id, or as ``module:EnvId``."""
    if name in TASKS:
        return TASKS[name]
    if name in gym.registry or ":" in name:
        return name
    known = ", ".join(f"{k} ({v})" for k, v in TASKS.items())
    raise ValueError(
        f"unknown task {name!r}; known tasks: {known}, any registered Gymnasium id, "
        "or 'package.module:EnvId-v0' for a task of your own"
    )


def make(name: str, **kwargs) -> gym.Env:
    """Make a task by CLI name (``point``) or Gymnasium id (``rig/PointReach-v0``)."""
    register_all()
    return gym.make(env_id(name), **kwargs)


register_all()

__all__ = ["TASKS", "PointEnv", "env_id", "make", "register_all"]
