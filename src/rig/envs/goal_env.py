"""Third-party goal environments with state observations (Gymnasium-Robotics' Fetch tasks),
seen through rig's interface.

A goal environment's observations hold ``observation``, ``achieved_goal`` and
``desired_goal``, and it computes rewards for any (achieved, desired) pair with
``compute_reward``. :class:`StateGoalTask` adds the ``state_*`` entries rig's state
representation reads, reports ``success`` (from ``is_success``) and ``distance`` in
``info``, and draws goals from the task's own goal distribution (``sample_goals``, for the
``relabel.env`` strategy). The task has no camera images: only state-based methods train on it.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

GOAL_ENV_KEYS = ("observation", "achieved_goal", "desired_goal")


def is_goal_env(space: gym.Space) -> bool:
    """Whether ``space`` is a goal environment's observation space without camera images."""
    return (
        isinstance(space, spaces.Dict)
        and all(key in space.spaces for key in GOAL_ENV_KEYS)
        and "image_observation" not in space.spaces
    )


class StateGoalTask(gym.Wrapper):
    """A goal environment with rig's ``state_*`` observation entries and info metrics."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        if not is_goal_env(env.observation_space):
            raise ValueError(
                f"{env.spec.id if env.spec else env}: a goal environment's observations hold "
                f"{', '.join(GOAL_ENV_KEYS)}; got {env.observation_space}"
            )
        inner = env.observation_space.spaces
        self.observation_space = spaces.Dict(
            {
                **inner,
                **{f"state_{key}": _float32(inner[key]) for key in GOAL_ENV_KEYS},
            }
        )

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return self._observation(obs), self._info(obs, info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._observation(obs), reward, terminated, truncated, self._info(obs, info)

    def sample_goals(self, n: int) -> dict[str, np.ndarray]:
        """``n`` goals from the task's goal distribution: the desired goals of ``n`` resets
        (call it before an episode starts; it leaves the task reset)."""
        goals = np.stack([self.env.reset()[0]["desired_goal"] for _ in range(n)])
        return {"state_desired_goal": goals.astype(np.float32)}

    @staticmethod
    def _observation(obs: dict) -> dict:
        return {
            **obs,
            **{f"state_{key}": np.asarray(obs[key], np.float32) for key in GOAL_ENV_KEYS},
        }

    @staticmethod
    def _info(obs: dict, info: dict) -> dict:
        metrics = {"distance": float(np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"]))}
        if "is_success" in info:
            metrics["success"] = float(info["is_success"])
        return {**info, **metrics}


def _float32(space: spaces.Box) -> spaces.Box:
    return spaces.Box(space.low.astype(np.float32), space.high.astype(np.float32), dtype=np.float32)
