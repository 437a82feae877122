"""Visual Pick and Place: grasp a ball and put it at a goal, on the table or in the air.

The original YZ pick-up task (multiworld's ``SawyerPickupEnvYZEasy``), seen from the side.
The hand moves in the vertical ``(y, z)`` plane; a third action entry closes (> 0) or
opens (<= 0) the gripper. Its two fingers slide along y under position actuators and
hold the ball by contact friction: a grasp is physical, nothing attaches the ball.
State layout: hand ``(y, z)``, then ball ``(y, z)``.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from rig.envs.mujoco.base import ArmEnv

BALL_RADIUS = 0.02
IN_HAND_HEIGHT = BALL_RADIUS + 0.005
"""A ball centre above this height (m) is off the table: held in the hand."""


class PickPlaceEnv(ArmEnv):
    """The hand (the point between the fingertips) moves in ``y in [0.55, 0.65]``,
    ``z in [0.02, 0.10]``, from (0.6, 0.10) above the ball, which starts on the table at
    y = 0.6 and stays in the same y range while on the table (the original's bounds).

    Goals: hand uniform in its box; the ball in the hand with probability 0.75 (the
    original's ``p_obj_in_hand``), else on the table with the hand clear of it.
    ``distance`` is hand + ball distance (the original's ``hand_and_obj_distance``);
    ``success``: below 0.06 (its ``indicator_threshold``).
    """

    xml = "pick_place.xml"
    camera = "sideview"
    state_names = ("hand_y", "hand_z", "ball_y", "ball_z")
    hand_axes = (1, 2)
    extra_actions = 1
    hand_low = np.array([0.55, 0.02])
    hand_high = np.array([0.65, 0.10])
    state_low = np.array([0.55, 0.02, 0.55, 0.0])
    state_high = np.array([0.65, 0.10, 0.65, 0.12])
    hand_start = np.array([0.6, 0.10])
    ball_start = np.array([0.6, BALL_RADIUS])
    in_hand_prob = 0.75
    finger_open = 0.045
    """Finger centre's distance from the hand when open; closed, the target is 0 (they
    stop at the ball, or at their joint limit)."""
    goal_clearance = 0.07
    """Hand to ball, for goals with the ball on the table: the open fingers clear of it."""
    success_distance = 0.06
    substeps = 10
    """Twice the other tasks' physics steps per action: the welded gripper lags the hand less."""

    def _bind(self) -> None:
        self._ball_qpos = [self.model.joint(f"ball_{a}").qposadr[0] for a in "yz"]
        self._fingers = [self.model.joint(f"{s}_finger").qposadr[0] for s in ("left", "right")]
        self._touching = self.model.geom("ball").size[0] + self.model.geom("left_pad").size[1]
        """Finger centre to ball centre when a finger touches the ball."""
        gripper = self.model.joint("gripper")
        self._gripper_qpos = slice(gripper.qposadr[0], gripper.qposadr[0] + 7)
        self._gripper_qvel = slice(gripper.dofadr[0], gripper.dofadr[0] + 6)
        pusher_finger = self.model.geom("finger").id  # the gripper replaces it
        self.model.geom_rgba[pusher_finger, 3] = 0
        self.model.geom_contype[pusher_finger] = self.model.geom_conaffinity[pusher_finger] = 0

    def _grip(self, closed: bool) -> None:
        opening = 0.0 if closed else self.finger_open
        self.data.ctrl[:] = [-opening, opening]

    def _place_gripper(self) -> None:
        """Put the gripper at the hand, at rest (between episodes and for goal images)."""
        self.data.qpos[self._gripper_qpos] = [*self.arm.position(self.data), 1, 0, 0, 0]
        self.data.qvel[self._gripper_qvel] = 0

    def set_fingers(self, shut: bool) -> None:
        """Put the fingers at rest, shut (touching each other) or open, whatever holds the
        ball: to stage an end state, e.g. the goal's shut gripper with the ball left behind."""
        self._rest_fingers(shut)
        mujoco.mj_forward(self.model, self.data)

    def _rest_fingers(self, shut: bool) -> None:
        self._grip(shut)
        self.data.qpos[self._fingers] = self.data.ctrl

    def _actuate(self, extra: np.ndarray) -> None:
        self._grip(bool(extra[0] > 0))

    def _object_state(self) -> np.ndarray:
        return self.data.qpos[self._ball_qpos].copy()

    def _set_objects(self, state: np.ndarray) -> None:
        """The ball at ``state``; a ball off the table is held: the fingers shut on it."""
        self.data.qpos[self._ball_qpos] = state
        if state[1] > IN_HAND_HEIGHT:  # held
            self._grip(True)
            centre = state[0] - self.arm.hand(self.data)[0]
            self.data.qpos[self._fingers] = [centre - self._touching, centre + self._touching]
        else:
            self._rest_fingers(shut=False)
        self._place_gripper()

    def _start_state(self) -> np.ndarray:
        return np.concatenate([self.hand_start, self.ball_start])

    def _sample_goal_states(self, n: int) -> np.ndarray:
        low, high = np.tile(self.hand_low, (n, 1)), np.tile(self.hand_high, (n, 1))
        in_hand = self.np_random.random(n) < self.in_hand_prob
        table_y = self.np_random.uniform(self.hand_low[0], self.hand_high[0], n)
        balls = np.column_stack([table_y, np.full(n, BALL_RADIUS)])
        hands = self._uniform_clear_of(
            low,
            high,
            lambda h: ~in_hand & (np.linalg.norm(h - balls, axis=1) < self.goal_clearance),
        )
        balls[in_hand] = hands[in_hand]
        return np.concatenate([hands, balls], axis=1)

    def metrics(self, state: np.ndarray, goal: np.ndarray) -> dict[str, Any]:
        hand = float(np.linalg.norm(state[:2] - goal[:2]))
        ball = float(np.linalg.norm(state[2:] - goal[2:]))
        return {
            "distance": hand + ball,
            "hand_distance": hand,
            "object_distance": ball,
            "goal_in_hand": int(goal[3] > IN_HAND_HEIGHT),
            "success": hand + ball < self.success_distance,
        }
