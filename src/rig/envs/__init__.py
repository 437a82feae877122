"""Goal-conditioned image tasks, registered with Gymnasium under ``rig/...`` ids."""

from __future__ import annotations

import gymnasium as gym

from rig.envs.point import PointEnv

TASKS: dict[str, str] = {
    "point": "rig/PointReach-v0",
    "point-wall": "rig/PointWall-v0",
}
"""CLI task names and the Gymnasium ids they stand for."""

_REGISTRATIONS = {
    "rig/PointReach-v0": dict(entry_point="rig.envs.point:PointEnv", kwargs={"wall": False}),
    "rig/PointWall-v0": dict(entry_point="rig.envs.point:PointEnv", kwargs={"wall": True}),
}
_EPISODE_STEPS = {"rig/PointReach-v0": 50, "rig/PointWall-v0": 50}


def register_all() -> None:
    """Register every task with Gymnasium (safe to call more than once)."""
    for env_id, spec in _REGISTRATIONS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, max_episode_steps=_EPISODE_STEPS[env_id], **spec)


def env_id(name: str) -> str:
    """The Gymnasium id of a task given by CLI name or by id."""
    if name in TASKS:
        return TASKS[name]
    if name in TASKS.values():
        return name
    known = ", ".join(f"{k} ({v})" for k, v in TASKS.items())
    raise ValueError(f"unknown task {name!r}; known tasks: {known}")


def make(name: str, **kwargs) -> gym.Env:
    """Make a task by CLI name (``point``) or Gymnasium id (``rig/PointReach-v0``)."""
    register_all()
    return gym.make(env_id(name), **kwargs)


register_all()

__all__ = ["PointEnv", "TASKS", "env_id", "make", "register_all"]
