"""Visual Door: hook the door's handle and pull the door open to a goal angle.

State layout: hand ``(x, y, z)``, then the door angle (radians, 0 = closed).
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
    """The original ``SawyerDoorHookResetFreeEnv-v1`` door, with resets: a 3-D hand carrying
    a hook moves in ``[-0.1, 0.05] x [0.45, 0.65] x [0.1, 0.25]`` from (-0.05, 0.635, 0.225);
    the door (0.4 m wide, hinged at x = 0.21, y = 0.725) starts closed and opens toward the
    arm when the hook, dropped behind the handle bar, pulls it.

    Goals: a hand position in the hand's box and a door angle in ``[0, 0.83]`` rad, the
    hand clear of the door at that angle. ``distance`` is the door angle difference;
    ``success``: within 0.02 rad (the original's threshold).

    Args:
        reset_free: the original's training protocol: an episode starts where the last
            one ended (hand and door); only a seeded reset starts afresh.
    """

    xml = "door.xml"
    camera = "door_oblique"
    state_names = ("hand_x", "hand_y", "hand_z", "door_angle")
    hand_axes = (0, 1, 2)
    hand_low = np.array([-0.1, 0.45, 0.1])
    hand_high = np.array([0.05, 0.65, 0.25])
    state_low = np.array([-0.1, 0.45, 0.1, -0.1])
    state_high = np.array([0.05, 0.65, 0.25, 1.15])
    """The door angle's bounds leave room for its joint limits' softness (0 to 1.047 rad)."""
    hinge = np.array([0.21, 0.725])
    door_width = 0.41
    """From the hinge to the door's far edge, metres."""
    hook_reach = 0.06
    """How far in front of the hand (+y) the hook's tip hangs."""
    hand_start = np.array([-0.05, 0.635, 0.225])
    angle_goal_high = 0.83
    goal_clearance = 0.03
    success_angle = 0.02

    def __init__(self, reset_free: bool = False, **kwargs):
        self.reset_free = reset_free
        self._continuing = False
        super().__init__(**kwargs)

    def _bind(self) -> None:
        self._hinge_qpos = self.model.joint("door_hinge").qposadr[0]
        self._hook = self.model.body("hook").mocapid[0]
        finger = self.model.geom("finger").id  # the hook replaces the pusher's finger
        self.model.geom_rgba[finger, 3] = 0
        self.model.geom_contype[finger] = self.model.geom_conaffinity[finger] = 0
        self.model.light_active[self.model.light("ceiling").id] = 0  # the lamp replaces it

    def _place_hook(self) -> None:
        self.data.mocap_pos[self._hook] = self.arm.position(self.data)

    def _substep(self) -> None:
        self._place_hook()

    def _object_state(self) -> np.ndarray:
        return self.data.qpos[[self._hinge_qpos]].copy()

    def _set_objects(self, state: np.ndarray) -> None:
        self.data.qpos[self._hinge_qpos] = state[0]
        self._place_hook()

    def reset_rng(self, seed: int | None) -> None:
        super().reset_rng(seed)
        if seed is not None:
            self._continuing = False

    def _start_state(self) -> np.ndarray:
        if self.reset_free and self._continuing:
            return self.true_state()
        self._continuing = True
        return np.array([*self.hand_start, 0.0])

    def door_segments(self, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The door's ends in the table plane at each angle: the hinge and the far edge."""
        far = self.hinge - self.door_width * np.stack([np.cos(angles), np.sin(angles)], -1)
        return np.broadcast_to(self.hinge, far.shape), far

    def _sample_goal_states(self, n: int) -> np.ndarray:
        angles = self.np_random.uniform(0, self.angle_goal_high, size=n)
        hinge, far = self.door_segments(angles)
        tip = np.array([0.0, self.hook_reach])

        def touching_the_door(hands: np.ndarray) -> np.ndarray:
            xy = hands[:, :2]
            gaps = [_segment_distance(p, hinge, far) for p in (xy, xy + tip)]
            return np.minimum(*gaps) < self.goal_clearance

        hands = self._uniform_clear_of(
            np.tile(self.hand_low, (n, 1)), np.tile(self.hand_high, (n, 1)), touching_the_door
        )
        return np.concatenate([hands, angles[:, None]], axis=1)

    def metrics(self, state: np.ndarray, goal: np.ndarray) -> dict[str, Any]:
        hand = float(np.linalg.norm(state[:3] - goal[:3]))
        angle = float(abs(state[3] - goal[3]))
        return {
            "distance": angle,
            "hand_distance": hand,
            "angle_difference": angle,
            "hand_plus_angle": hand + angle,  # the paper's "objects, including the arm"
            "success": angle < self.success_angle,
        }
