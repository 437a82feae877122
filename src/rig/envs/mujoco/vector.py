"""A Gymnasium vector env of N copies of a task, drawn as viewports of one framebuffer.

Physics steps each copy in turn; all N camera images then come from one
render pass and one pixel read (:class:`BatchRenderer`). Episodes end at
``max_episode_steps`` and restart on the following step (Gymnasium's
next-step autoreset).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rig.envs.interface import goal_observation
from rig.envs.mujoco.base import ArmEnv
from rig.envs.mujoco.render import BatchRenderer


class ArmVectorEnv(VectorEnv):
    """``num_envs`` copies of the task made by ``make_task`` (an :class:`ArmEnv` factory)."""

    metadata: ClassVar[dict] = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, make_task: Callable[[], ArmEnv], num_envs: int, max_episode_steps: int):
        self.envs = [make_task() for _ in range(num_envs)]
        first = self.envs[0]
        self.renderer = BatchRenderer(first.model, first.image_size, num_envs, first.camera)
        for env in self.envs:
            env.use_renderer(self.renderer)
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(first.observation_space, num_envs)
        self.action_space = batch_space(first.action_space, num_envs)
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(num_envs, dtype=bool)

    def _observations(self) -> dict[str, np.ndarray]:
        images = self.renderer.render([e.model for e in self.envs], [e.data for e in self.envs])
        return goal_observation(
            images,
            np.stack([e._goal_image for e in self.envs]),
            np.stack([e.true_state() for e in self.envs]),
            np.stack([e._goal for e in self.envs]),
            self.envs[0].goal_keys,
        )

    def _infos(self) -> dict[str, np.ndarray]:
        per_env = [e.info() for e in self.envs]
        return {key: np.array([info[key] for info in per_env]) for key in per_env[0]}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Reset every copy; ``seed`` seeds copy ``i`` with ``seed + i``."""
        for i, env in enumerate(self.envs):
            env.reset_rng(None if seed is None else seed + i)
            env.begin_episode(options)
        self._elapsed[:] = 0
        self._needs_reset[:] = False
        return self._observations(), self._infos()

    def step(self, actions: np.ndarray):
        actions = np.asarray(actions)
        for i, env in enumerate(self.envs):
            if self._needs_reset[i]:
                env.begin_episode()
                self._elapsed[i] = 0
            else:
                env._advance(actions[i])
                self._elapsed[i] += 1
        obs = self._observations()
        infos = self._infos()
        rewards = self.envs[0].compute_reward(obs["achieved_goal"], obs["desired_goal"], infos)
        rewards[self._needs_reset] = 0.0
        truncated = self._elapsed >= self.max_episode_steps
        self._needs_reset = truncated.copy()
        return obs, rewards, np.zeros(self.num_envs, dtype=bool), truncated, infos

    def close_extras(self, **kwargs: Any) -> None:
        self.renderer.close()
