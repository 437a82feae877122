"""The arm shared by every MuJoCo task: a mocap hand moved by the action, links placed by IK.

The hand (the only part that touches objects) is a mocap body that the action
moves. The upper arm and forearm are drawn as capsules whose poses come from
two-link inverse kinematics from a fixed shoulder to the wrist above the hand,
so the arm appears, and hides what lies beneath it, as a real arm would.
"""

from __future__ import annotations

import mujoco
import numpy as np


def _capsule_pose(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and quaternion of a capsule (along its local z) joining ``start`` and ``end``."""
    direction = (end - start) / np.linalg.norm(end - start)
    quat = np.array([1.0 + direction[2], -direction[1], direction[0], 0.0])
    return (start + end) / 2, quat / np.linalg.norm(quat)


class Arm:
    """Moves the hand of a loaded scene (``assets/scene.xml``) and keeps the links attached."""

    shoulder = np.array([0.0, -0.25, 0.34])
    link_length = 0.6
    wrist_above_hand = 0.15

    def __init__(self, model: mujoco.MjModel, axes: tuple[int, ...] = (0, 1)):
        self.axes = list(axes)
        """The coordinates (of x, y, z) the hand moves along; the others keep their rest value."""
        self._hand = model.body("hand").mocapid[0]
        self._upper = model.body("upper_arm").mocapid[0]
        self._fore = model.body("forearm").mocapid[0]
        self.rest = model.body("hand").pos.copy()

    def position(self, data: mujoco.MjData) -> np.ndarray:
        """Hand position ``(x, y, z)``."""
        return data.mocap_pos[self._hand].copy()

    def hand(self, data: mujoco.MjData) -> np.ndarray:
        """Hand coordinates along ``axes``."""
        return data.mocap_pos[self._hand, self.axes].copy()

    def move_hand(self, data: mujoco.MjData, coords: np.ndarray) -> None:
        """Move the hand only (cheap; for the physics substeps)."""
        data.mocap_pos[self._hand, self.axes] = coords

    def place(self, data: mujoco.MjData, coords: np.ndarray) -> None:
        """Move the hand to ``coords`` and pose the upper arm and forearm to reach it."""
        self.move_hand(data, coords)
        wrist = data.mocap_pos[self._hand] + np.array([0.0, 0.0, self.wrist_above_hand])
        reach = wrist - self.shoulder
        horizontal = np.hypot(reach[0], reach[1])
        distance = min(np.hypot(horizontal, reach[2]), 2 * self.link_length - 1e-6)
        angle = np.arctan2(reach[2], horizontal) + np.arccos(distance / (2 * self.link_length))
        out = self.link_length * np.cos(angle)
        elbow = self.shoulder + np.array(
            [
                out * reach[0] / horizontal,
                out * reach[1] / horizontal,
                self.link_length * np.sin(angle),
            ]
        )
        for body, (start, end) in (
            (self._upper, (self.shoulder, elbow)),
            (self._fore, (elbow, wrist)),
        ):
            data.mocap_pos[body], data.mocap_quat[body] = _capsule_pose(start, end)
