"""Visual Pick and Place: grasp a small ball and put it at a goal, on the table or in the air.

Seen from the side. The hand moves in the vertical ``(y, z)`` plane; a third
action entry closes (> 0) or opens (<= 0) the gripper. A closed gripper holds
the ball when the ball lies between its fingers; an open one drops it.
State layout: hand ``(y, z)``, then ball ``(y, z)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from rig.envs.mujoco.base import ArmEnv

BALL_RADIUS = 0.025


class PickPlaceEnv(ArmEnv):
    """Ball goals: y in ``[0.45, 0.75]``; half of them in the air (z in ``[0.05, 0.25]``,
    held by the hand), the rest on the table with the hand somewhere above it.
    ``distance`` is the ball's distance to its goal; success: within 0.04 m.
    """

    xml = "pick_place.xml"
    camera = "sideview"
    state_names = ("hand_y", "hand_z", "ball_y", "ball_z")
    hand_axes = (1, 2)
    extra_actions = 1
    hand_low = np.array([0.4, BALL_RADIUS])
    hand_high = np.array([0.8, 0.3])
    state_low = np.array([0.4, BALL_RADIUS, 0.3, 0.0])
    state_high = np.array([0.8, 0.3, 0.9, 0.35])
    goal_low = np.array([0.45, 0.05])
    goal_high = np.array([0.75, 0.25])
    air_fraction = 0.5
    grasp_radius = 0.03
    finger_gap: ClassVar[dict[bool, float]] = {False: 0.04, True: BALL_RADIUS + 0.006}
    """Half distance between the fingers, open and closed."""
    success_distance = 0.04

    def _bind(self) -> None:
        self._ball_qpos = [self.model.joint(f"ball_{a}").qposadr[0] for a in "yz"]
        self._ball_qvel = [self.model.joint(f"ball_{a}").dofadr[0] for a in "yz"]
        self._fingers = [self.model.body(f"{s}_finger").mocapid[0] for s in ("left", "right")]
        pusher_finger = self.model.geom("finger").id  # the gripper replaces it
        self.model.geom_rgba[pusher_finger, 3] = 0
        self.model.geom_contype[pusher_finger] = self.model.geom_conaffinity[pusher_finger] = 0
        self.closed = False
        self.held = False

    def _place_fingers(self) -> None:
        hand = self.arm.position(self.data)
        gap = self.finger_gap[self.closed]
        for finger, side in zip(self._fingers, (-1, 1)):
            self.data.mocap_pos[finger] = hand + np.array([0.0, side * gap, 0.0])

    def _ball_near_hand(self) -> bool:
        return bool(
            np.linalg.norm(self._object_state() - self.arm.hand(self.data)) < self.grasp_radius
        )

    def _actuate(self, extra: np.ndarray) -> None:
        self.closed = bool(extra[0] > 0)
        self.held = self.closed and (self.held or self._ball_near_hand())

    def _substep(self) -> None:
        if self.held:
            self.data.qpos[self._ball_qpos] = self.arm.hand(self.data)
            self.data.qvel[self._ball_qvel] = 0
        self._place_fingers()

    def _object_state(self) -> np.ndarray:
        return self.data.qpos[self._ball_qpos].copy()

    def _set_objects(self, state: np.ndarray) -> None:
        self.data.qpos[self._ball_qpos] = state
        self.held = self.closed = bool(state[1] > BALL_RADIUS + 0.01 and self._ball_near_hand())
        self._place_fingers()

    def _start_state(self) -> np.ndarray:
        ball_y = self.np_random.uniform(self.goal_low[0], self.goal_high[0])
        return np.array([0.6, 0.15, ball_y, BALL_RADIUS])

    def _sample_goal_states(self, n: int) -> np.ndarray:
        balls = self.np_random.uniform(self.goal_low, self.goal_high, size=(n, 2))
        hands = self.np_random.uniform(self.goal_low, self.goal_high, size=(n, 2))
        in_air = self.np_random.random(n) < self.air_fraction
        balls[~in_air, 1] = BALL_RADIUS
        hands[in_air] = balls[in_air]
        return np.concatenate([hands, balls], axis=1)

    def metrics(self, state: np.ndarray, goal: np.ndarray) -> dict[str, Any]:
        hand = float(np.linalg.norm(state[:2] - goal[:2]))
        ball = float(np.linalg.norm(state[2:] - goal[2:]))
        return {
            "distance": ball,
            "hand_distance": hand,
            "object_distance": ball,
            "success": ball < self.success_distance,
        }
