"""Image-based 2-D point reaching, drawn with NumPy (no OpenGL).

A point moves in a square arena; the action is its 2-D velocity. The learner
sees 48x48 (or 84x84) RGB images; the true position is exposed under the
``state_*`` keys for evaluation and for the state oracle.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rig.envs.interface import (
    check_task_arguments,
    goal_observation,
    goal_observation_space,
    goal_reward,
)

GoalKeys = Literal["image", "state"]

BACKGROUND = np.array([235, 235, 235], dtype=np.float32)
POINT_COLOR = np.array([30, 90, 220], dtype=np.float32)
WALL_COLOR = np.array([70, 70, 70], dtype=np.float32)


class PointEnv(gym.Env):
    """A point in the arena ``[-4, 4]^2`` reaching goal positions, seen from above.

    Args:
        wall: put a wall across the middle of the arena (``rig/PointWall-v0``).
        image_size: side of the square RGB images, in pixels.
        goal_keys: what the standard goal-env keys ``observation``,
            ``achieved_goal`` and ``desired_goal`` hold: ``"image"`` (uint8
            images, reward = minus pixel MSE) or ``"state"`` (positions, reward
            = minus Euclidean distance).
        render_mode: ``"rgb_array"`` returns the current observation image.
    """

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"], "render_fps": 10}

    arena_half_size = 4.0
    point_radius = 1.0
    max_speed = 1.0
    wall_half_length = 1.25
    wall_half_thickness = 0.25
    success_distance = 0.5
    state_names = ("x", "y")

    def __init__(
        self,
        wall: bool = False,
        image_size: int = 48,
        goal_keys: GoalKeys = "image",
        render_mode: str | None = None,
    ):
        check_task_arguments(image_size, goal_keys, render_mode)
        self.wall = wall
        self.image_size = image_size
        self.goal_keys = goal_keys
        self.render_mode = render_mode

        lim = self.arena_half_size
        image_space = spaces.Box(0, 255, (image_size, image_size, 3), dtype=np.uint8)
        state_space = spaces.Box(-lim, lim, (2,), dtype=np.float32)
        self.observation_space = goal_observation_space(image_space, state_space, goal_keys)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)

        pixel_centres = (np.arange(image_size) + 0.5) / image_size * 2 * lim - lim
        self._px_x = pixel_centres[None, :]
        self._px_y = -pixel_centres[:, None]  # image rows go down, y goes up
        self._pixels_per_unit = image_size / (2 * lim)
        self._background = self._draw_background()

        self._position = np.zeros(2, dtype=np.float64)
        self._goal = np.zeros(2, dtype=np.float64)
        self._goal_image = self._background.copy()

    # ----- geometry -------------------------------------------------------
    def _blocked(self, positions: np.ndarray) -> np.ndarray:
        """Whether the point centred at each position overlaps the wall."""
        if not self.wall:
            return np.zeros(positions.shape[:-1], dtype=bool)
        reach_x = self.wall_half_length + self.point_radius
        reach_y = self.wall_half_thickness + self.point_radius
        return (np.abs(positions[..., 0]) < reach_x) & (np.abs(positions[..., 1]) < reach_y)

    def _free_positions(self, n: int) -> np.ndarray:
        """``n`` uniform positions where the point fits (not inside the wall)."""
        lim = self.arena_half_size - self.point_radius
        out = self.np_random.uniform(-lim, lim, size=(n, 2))
        bad = self._blocked(out)
        while bad.any():
            out[bad] = self.np_random.uniform(-lim, lim, size=(int(bad.sum()), 2))
            bad = self._blocked(out)
        return out

    def _move(self, position: np.ndarray, velocity: np.ndarray) -> np.ndarray:
        """Move by ``velocity``, clipped to the arena, sliding along the wall."""
        lim = self.arena_half_size - self.point_radius
        target = np.clip(position + velocity, -lim, lim)
        if not self._blocked(target):
            return target
        for axis in (0, 1):  # slide along one axis if the full move is blocked
            partial = position.copy()
            partial[axis] = target[axis]
            if not self._blocked(partial):
                return partial
        return position.copy()

    # ----- drawing --------------------------------------------------------
    def _draw_background(self) -> np.ndarray:
        image = np.broadcast_to(BACKGROUND, (self.image_size, self.image_size, 3)).copy()
        if self.wall:
            inside = (np.abs(self._px_x) <= self.wall_half_length) & (
                np.abs(self._px_y) <= self.wall_half_thickness
            )
            image[inside] = WALL_COLOR
        return image

    def _draw(self, position: np.ndarray) -> np.ndarray:
        distance = np.hypot(self._px_x - position[0], self._px_y - position[1])
        coverage = np.clip((self.point_radius - distance) * self._pixels_per_unit + 0.5, 0, 1)
        coverage = coverage[..., None]
        image = self._background * (1 - coverage) + POINT_COLOR * coverage
        return np.rint(image).astype(np.uint8)

    # ----- goal-env API ---------------------------------------------------
    def compute_reward(self, achieved_goal, desired_goal, info=None) -> np.ndarray:
        """Vectorized reward for (batches of) goals held under the standard keys.

        State goals: minus the Euclidean distance. Image goals: minus the mean
        squared pixel difference, pixels scaled to [0, 1].
        """
        return goal_reward(achieved_goal, desired_goal, self.goal_keys)

    def sample_goals(self, n: int) -> dict[str, np.ndarray]:
        """``n`` goals from the task's goal distribution, as states and rendered images."""
        states = self._free_positions(n)
        images = np.stack([self._draw(s) for s in states])
        return {"state_desired_goal": states.astype(np.float32), "image_desired_goal": images}

    def set_to_goal(self, goal: dict[str, np.ndarray] | np.ndarray) -> np.ndarray:
        """Put the point at a goal state (a position or a goal dict); return its image."""
        state = goal["state_desired_goal"] if isinstance(goal, dict) else goal
        state = np.asarray(state, dtype=np.float64).reshape(2)
        if self._blocked(state):
            raise ValueError(f"goal {state.tolist()} lies inside the wall")
        self._position = state.copy()
        return self._draw(self._position)

    def render_goal(self, goal: dict[str, np.ndarray] | np.ndarray) -> np.ndarray:
        """Image of a goal state, rendered with ``set_to_goal``; the current state is restored."""
        saved = self._position.copy()
        image = self.set_to_goal(goal)
        self._position = saved
        return image

    def true_state(self) -> np.ndarray:
        """The current position (for evaluation only)."""
        return self._position.astype(np.float32)

    # ----- gymnasium API --------------------------------------------------
    def _observation(self, image: np.ndarray) -> dict[str, Any]:
        return goal_observation(
            image, self._goal_image.copy(), self._position, self._goal, self.goal_keys
        )

    def _info(self) -> dict[str, Any]:
        distance = float(np.linalg.norm(self._position - self._goal))
        return {"distance": distance, "success": distance < self.success_distance}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "goal" in options:
            self._goal = np.asarray(options["goal"], dtype=np.float64).reshape(2)
        else:
            self._goal = self._free_positions(1)[0]
        self._goal_image = self.render_goal(self._goal)
        self._position = self._free_positions(1)[0]
        return self._observation(self._draw(self._position)), self._info()

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        self._position = self._move(self._position, action * self.max_speed)
        obs = self._observation(self._draw(self._position))
        info = self._info()
        reward = float(self.compute_reward(obs["achieved_goal"], obs["desired_goal"], info))
        return obs, reward, False, False, info

    def render(self):
        return self._draw(self._position)
