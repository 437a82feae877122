"""Wrappers that add or remove observation keys (they never change what a key means)."""

from __future__ import annotations

import gymnasium as gym
from gymnasium import spaces


class CameraOnly(gym.ObservationWrapper):
    """Hide every non-image key: the learner sees camera images and goal images only.

    ``info`` is left as it is, so evaluation can still report the task's true
    metrics; pass ``keep_info=False`` to hide those too.
    """

    def __init__(self, env: gym.Env, keep_info: bool = True):
        super().__init__(env)
        self.keep_info = keep_info
        self.observation_space = spaces.Dict(
            {k: v for k, v in env.observation_space.spaces.items() if k.startswith("image_")}
        )

    def observation(self, observation: dict) -> dict:
        return {k: v for k, v in observation.items() if k.startswith("image_")}

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward, terminated, truncated, info if self.keep_info else {}

    def reset(self, **kwargs):
        obs, info = super().reset(**kwargs)
        return obs, info if self.keep_info else {}
