"""The goal-env contract of rig (see ``rig.envs.point``) for MuJoCo arm tasks.

A task subclass names its MJCF file and hand range and implements the hooks
marked "task hooks": its object state, its start and goal distributions and its
true-state metrics. Everything else (stepping, images, goals) lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from rig.envs.interface import (
    check_task_arguments,
    goal_observation,
    goal_observation_space,
    goal_reward,
)
from rig.envs.mujoco.arm import Arm
from rig.envs.mujoco.render import BatchRenderer

ASSETS = Path(__file__).parent / "assets"

GoalKeys = Literal["image", "state"]


class ArmEnv(gym.Env):
    """A goal-reaching task for the arm, seen by the task's camera (top-down by default).

    Args:
        image_size: side of the square RGB images (48 or 84).
        goal_keys: what ``observation``/``achieved_goal``/``desired_goal`` hold:
            ``"image"`` (reward = minus pixel MSE) or ``"state"`` (minus Euclidean distance).
        render_mode: ``"rgb_array"`` returns the current camera image.
        goal_cache: ``.npz`` file of presampled goals (states and images), created if
            missing; episodes then draw their goals from it instead of rendering one.
        renderer: a shared :class:`BatchRenderer` (the vector env passes one); by
            default the env makes its own on the first image.
    """

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"], "render_fps": 10}

    xml: ClassVar[str]
    camera: ClassVar[str] = "topview"
    hand_axes: ClassVar[tuple[int, ...]] = (0, 1)
    """Coordinates (of x, y, z) that the first action entries move the hand along."""
    extra_actions: ClassVar[int] = 0
    """Action entries after the hand's (e.g. a gripper), handled by ``_actuate``."""
    hand_low: ClassVar[np.ndarray]
    hand_high: ClassVar[np.ndarray]
    state_low: ClassVar[np.ndarray]
    state_high: ClassVar[np.ndarray]
    max_speed = 0.02
    """Hand displacement per step at action 1, metres."""
    substeps = 5
    num_presampled_goals = 1000

    def __init__(
        self,
        image_size: int = 48,
        goal_keys: GoalKeys = "image",
        render_mode: str | None = None,
        goal_cache: str | Path | None = None,
        renderer: BatchRenderer | None = None,
    ):
        check_task_arguments(image_size, goal_keys, render_mode)
        self.image_size = image_size
        self.goal_keys = goal_keys
        self.render_mode = render_mode
        self.goal_cache = Path(goal_cache) if goal_cache is not None else None
        self.model = mujoco.MjModel.from_xml_path(str(ASSETS / self.xml))
        self.data = mujoco.MjData(self.model)
        self.arm = Arm(self.model, self.hand_axes)
        self._bind()
        self._renderer = renderer
        self._presampled: dict[str, np.ndarray] | None = None

        image_space = spaces.Box(0, 255, (image_size, image_size, 3), dtype=np.uint8)
        state_space = spaces.Box(
            self.state_low.astype(np.float32), self.state_high.astype(np.float32), dtype=np.float32
        )
        self.observation_space = goal_observation_space(image_space, state_space, goal_keys)
        num_actions = len(self.hand_axes) + self.extra_actions
        self.action_space = spaces.Box(-1.0, 1.0, (num_actions,), dtype=np.float32)
        self._goal = self.state_low.copy()
        self._goal_image = np.zeros((image_size, image_size, 3), dtype=np.uint8)
        self._set_state(self._start_state())

    # ----- task hooks ---------------------------------------------------------
    def _bind(self) -> None:
        """Look up the task's joints and geoms in ``self.model`` (called once, after loading)."""

    def _object_state(self) -> np.ndarray:
        """Positions of the task's objects (empty for the reacher)."""
        return np.zeros(0)

    def _set_objects(self, state: np.ndarray) -> None:
        """Put the objects at ``state`` (the part of a full state after the hand)."""

    def _actuate(self, extra: np.ndarray) -> None:
        """Apply the action entries after the hand's (none by default)."""

    def _substep(self) -> None:
        """Called after each physics substep (nothing by default)."""

    def _start_state(self) -> np.ndarray:
        """Full state at the start of an episode."""
        raise NotImplementedError

    def _sample_goal_states(self, n: int) -> np.ndarray:
        """``n`` goal states from the task's goal distribution, ``(n, D)``."""
        raise NotImplementedError

    def _uniform_clear_of(
        self, low, high, blocked: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """Points uniform in the boxes ``low``..``high`` (``(n, 2)``), redrawn where ``blocked``."""
        points = self.np_random.uniform(low, high)
        bad = blocked(points)
        while bad.any():
            points[bad] = self.np_random.uniform(low[bad], high[bad])
            bad = blocked(points)
        return points

    def metrics(self, state: np.ndarray, goal: np.ndarray) -> dict[str, Any]:
        """True-state metrics; ``distance`` is the headline final distance."""
        raise NotImplementedError

    # ----- state --------------------------------------------------------------
    def true_state(self) -> np.ndarray:
        """The current state: the hand's coordinates then the objects (evaluation only)."""
        return np.concatenate([self.arm.hand(self.data), self._object_state()])

    def _set_state(self, state: np.ndarray) -> None:
        state = np.asarray(state, dtype=np.float64)
        self.data.qvel[:] = 0
        k = len(self.hand_axes)
        self.arm.place(self.data, state[:k])
        self._set_objects(state[k:])
        mujoco.mj_forward(self.model, self.data)

    def _advance(self, action: np.ndarray) -> None:
        """Move the hand by ``action * max_speed`` (clipped to its range) over the substeps."""
        action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        move, extra = action[: len(self.hand_axes)], action[len(self.hand_axes) :]
        self._actuate(extra)
        start = self.arm.hand(self.data)
        target = np.clip(start + move * self.max_speed, self.hand_low, self.hand_high)
        for k in range(1, self.substeps + 1):
            self.arm.move_hand(self.data, start + (target - start) * (k / self.substeps))
            mujoco.mj_step(self.model, self.data)
            self._substep()
        self.arm.place(self.data, target)
        mujoco.mj_kinematics(self.model, self.data)

    # ----- images -------------------------------------------------------------
    @property
    def renderer(self) -> BatchRenderer:
        if self._renderer is None:
            self._renderer = BatchRenderer(self.model, self.image_size, camera=self.camera)
        return self._renderer

    def use_renderer(self, renderer: BatchRenderer) -> None:
        """Draw with a shared renderer (made for a copy of this task's model)."""
        self._renderer = renderer

    def render_image(self) -> np.ndarray:
        """The camera image of the current state, uint8 ``(S, S, 3)``."""
        return self.renderer.render([self.model], [self.data])[0]

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ----- goal-env API -------------------------------------------------------
    def compute_reward(self, achieved_goal, desired_goal, info=None) -> np.ndarray:
        """Vectorized reward: minus the state distance, or minus the pixel MSE (pixels in 0-1)."""
        return goal_reward(achieved_goal, desired_goal, self.goal_keys)

    def sample_goals(self, n: int) -> dict[str, np.ndarray]:
        """``n`` goals from the task's distribution: states (n, D) and images (n, S, S, 3)."""
        states = self._sample_goal_states(n)
        images = np.stack([self.render_goal(s) for s in states])
        return {"state_desired_goal": states.astype(np.float32), "image_desired_goal": images}

    def set_to_goal(self, goal: dict[str, np.ndarray] | np.ndarray) -> np.ndarray:
        """Put the simulation in a goal state (a state or a goal dict); return its image."""
        state = goal["state_desired_goal"] if isinstance(goal, dict) else goal
        self._set_state(np.asarray(state, dtype=np.float64).reshape(self.state_low.shape))
        return self.render_image()

    def render_goal(self, goal: dict[str, np.ndarray] | np.ndarray) -> np.ndarray:
        """Image of a goal state, rendered with ``set_to_goal``; the current state is restored."""
        saved = (
            self.data.qpos.copy(),
            self.data.qvel.copy(),
            self.data.mocap_pos.copy(),
            self.data.mocap_quat.copy(),
        )
        image = self.set_to_goal(goal)
        self.data.qpos[:], self.data.qvel[:], self.data.mocap_pos[:], self.data.mocap_quat[:] = (
            saved
        )
        mujoco.mj_forward(self.model, self.data)
        return image

    def presampled_goals(self) -> dict[str, np.ndarray]:
        """Goals drawn once and stored in ``goal_cache`` (read back if the file exists)."""
        if self._presampled is None:
            path = self.goal_cache
            if path is not None and path.exists():
                with np.load(path) as stored:
                    self._presampled = dict(stored)
            else:
                self._presampled = self.sample_goals(self.num_presampled_goals)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savez_compressed(path, **self._presampled)
        return self._presampled

    # ----- gymnasium API ------------------------------------------------------
    def observation(self, image: np.ndarray) -> dict[str, Any]:
        """The observation dict for the current state, given its image."""
        return goal_observation(
            image, self._goal_image.copy(), self.true_state(), self._goal, self.goal_keys
        )

    def info(self) -> dict[str, Any]:
        return self.metrics(self.true_state(), self._goal)

    def begin_episode(self, options: dict | None = None) -> None:
        """Choose the episode's goal (``options["goal"]`` if given) and its image; set the start."""
        options = options or {}
        if "goal" in options:
            self._goal = np.asarray(options["goal"], dtype=np.float64).reshape(self.state_low.shape)
            self._goal_image = self.render_goal(self._goal)
        elif self.goal_cache is not None:
            goals = self.presampled_goals()
            i = self.np_random.integers(len(goals["state_desired_goal"]))
            self._goal = goals["state_desired_goal"][i].astype(np.float64)
            self._goal_image = goals["image_desired_goal"][i]
        else:
            self._goal = self._sample_goal_states(1)[0]
            self._goal_image = self.render_goal(self._goal)
        self._set_state(self._start_state())

    def reset_rng(self, seed: int | None) -> None:
        """Seed the task's random generator (what ``reset(seed=...)`` does first)."""
        super().reset(seed=seed)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self.reset_rng(seed)
        self.begin_episode(options)
        return self.observation(self.render_image()), self.info()

    def step(self, action):
        self._advance(action)
        obs = self.observation(self.render_image())
        info = self.info()
        reward = float(self.compute_reward(obs["achieved_goal"], obs["desired_goal"], info))
        return obs, reward, False, False, info

    def render(self):
        return self.render_image()
