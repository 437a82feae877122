"""Visual Reacher: move the hand to a goal position in a rectangle above the table."""

from __future__ import annotations

from typing import Any

import numpy as np

from rig.envs.mujoco.base import ArmEnv


class ReacherEnv(ArmEnv):
    """Goal = hand ``(x, y)`` in ``[-0.2, 0.2] x [0.55, 0.75]`` (the hand's whole range)."""

    xml = "reacher.xml"
    camera = "oblique"
    hand_low = np.array([-0.2, 0.55])
    hand_high = np.array([0.2, 0.75])
    state_low = hand_low
    state_high = hand_high
    success_distance = 0.05
    state_names = ("hand_x", "hand_y")

    def _start_state(self) -> np.ndarray:
        return (self.hand_low + self.hand_high) / 2

    def _sample_goal_states(self, n: int) -> np.ndarray:
        return self.np_random.uniform(self.hand_low, self.hand_high, size=(n, 2))

    def metrics(self, state: np.ndarray, goal: np.ndarray) -> dict[str, Any]:
        hand = float(np.linalg.norm(state[:2] - goal[:2]))
        return {"distance": hand, "hand_distance": hand, "success": hand < self.success_distance}
