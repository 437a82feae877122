"""Visual Door: hook the door's handle with the hand and open the door to a goal angle.

State layout: hand ``(x, y)``, then the door angle (radians, 0 = closed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rig.envs.mujoco.base import ArmEnv


def _segment_distance(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distance of each point ``(n, 2)`` to the segments ``start -> end`` (each ``(n, 2)``)."""
    along = end - start
    t = np.clip(np.sum((points - start) * along, -1) / np.sum(along * along, -1), 0, 1)
    return np.linalg.norm(points - (start + t[:, None] * along), axis=-1)


class DoorEnv(ArmEnv):
    """Door hinged at (-0.15, 0.8), 0.25 m wide, opening up to 1 rad toward the arm.

    Goals: door angle in ``[0, 0.8]`` rad and a hand position in
    ``[-0.2, 0.2] x [0.45, 0.7]`` clear of the door at that angle.
    ``distance`` is the door angle difference; success: within 0.1 rad.
    """

    xml = "door.xml"
    hand_low = np.array([-0.25, 0.4])
    hand_high = np.array([0.25, 0.765])
    state_low = np.array([-0.25, 0.4, -0.1])
    state_high = np.array([0.25, 0.765, 1.1])
    hinge = np.array([-0.15, 0.8])
    door_reach = 0.26
    """From the hinge to the far end of the handle, metres."""
    hand_start = np.array([0.15, 0.55])
    hand_goal_low = np.array([-0.2, 0.45])
    hand_goal_high = np.array([0.2, 0.7])
    angle_goal_high = 0.8
    success_angle = 0.1

    def _bind(self) -> None:
        self._hinge_qpos = self.model.joint("door_hinge").qposadr[0]

    def _object_state(self) -> np.ndarray:
        return self.data.qpos[[self._hinge_qpos]].copy()

    def _set_objects(self, state: np.ndarray) -> None:
        self.data.qpos[self._hinge_qpos] = state[0]

    def _start_state(self) -> np.ndarray:
        return np.array([*self.hand_start, 0.0])

    def _sample_goal_states(self, n: int) -> np.ndarray:
        angles = self.np_random.uniform(0, self.angle_goal_high, size=n)
        ends = self.hinge + self.door_reach * np.stack([np.cos(angles), -np.sin(angles)], -1)
        hands = self._uniform_clear_of(
            np.tile(self.hand_goal_low, (n, 1)),
            np.tile(self.hand_goal_high, (n, 1)),
            lambda hands: (
                _segment_distance(hands, np.broadcast_to(self.hinge, ends.shape), ends) < 0.12
            ),
        )
        return np.concatenate([hands, angles[:, None]], axis=1)

    def metrics(self, state: np.ndarray, goal: np.ndarray) -> dict[str, Any]:
        hand = float(np.linalg.norm(state[:2] - goal[:2]))
        angle = float(abs(state[2] - goal[2]))
        return {
            "distance": angle,
            "hand_distance": hand,
            "angle_difference": angle,
            "success": angle < self.success_angle,
        }
