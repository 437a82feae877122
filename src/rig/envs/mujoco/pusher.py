"""Visual Pusher tasks: push one or two pucks (and bring the hand) to goal positions.

State layout: hand ``(x, y)``, then ``(x, y)`` of each puck.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rig.envs.mujoco.base import ArmEnv


class PusherEnv(ArmEnv):
    """One puck, as the original ``SawyerPushNIPS`` task: the hand moves in
    ``[-0.1, 0.1] x [0.5, 0.7]`` and starts at (0, 0.4) (clipped into its box on the
    first step), the puck starts at (0, 0.6); puck goals in ``[-0.2, 0.2] x [0.5, 0.7]``,
    hand goals in ``[-0.05, 0.05] x [0.55, 0.65]``. Seen by the oblique camera.

    ``distance`` is the paper's metric, hand distance + puck distance; success is
    that sum below 0.06 (the original code's threshold).

    Args:
        goal_width: the puck goal box's lateral (x) width as a fraction of the above,
            about its centre. Supplementary 9.3 runs Figure 11 on a pusher whose goal space
            is three quarters as wide (``pusher-narrow``: puck goals in x ``[-0.15, 0.15]``,
            as multiworld's ``puck_goal_low``/``high`` of ±0.15). The hand's goal box is
            kept: narrower, it could not keep ``hand_goal_clearance`` from a central puck.
    """

    xml = "pusher.xml"
    camera = "oblique"
    hand_low = np.array([-0.1, 0.5])
    hand_high = np.array([0.1, 0.7])
    puck_low = np.array([-0.3, 0.3])
    """Bounds of puck positions (the table's walls at +-0.26 and 0.34..0.86, with slack)."""
    puck_high = np.array([0.3, 0.9])
    hand_start = np.array([0.0, 0.4])
    puck_starts = np.array([[0.0, 0.6]])
    puck_goal_low = np.array([[-0.2, 0.5]])
    puck_goal_high = np.array([[0.2, 0.7]])
    hand_goal_low = np.array([-0.05, 0.55])
    hand_goal_high = np.array([0.05, 0.65])
    hand_goal_clearance = 0.07
    """Goal hand positions keep this far from goal pucks (puck radius 0.04 + finger 0.022 +
    margin): a goal the finger would have to share with a puck cannot be reached."""
    success_distance = 0.06

    def __init__(self, goal_width: float = 1.0, **kwargs):
        if not 0 < goal_width <= 1:
            raise ValueError(f"goal_width must be in (0, 1], got {goal_width}")
        self.puck_goal_low, self.puck_goal_high = _narrowed(
            self.puck_goal_low, self.puck_goal_high, goal_width
        )
        self.num_pucks = len(self.puck_starts)
        hand_low = np.minimum(self.hand_low, self.hand_start)
        hand_high = np.maximum(self.hand_high, self.hand_start)
        self.state_low = np.concatenate([hand_low, np.tile(self.puck_low, self.num_pucks)])
        self.state_high = np.concatenate([hand_high, np.tile(self.puck_high, self.num_pucks)])
        super().__init__(**kwargs)

    @property
    def state_names(self) -> tuple[str, ...]:
        pucks = [f"puck{i}_{a}" for i in range(self.num_pucks) for a in "xy"]
        return ("hand_x", "hand_y", *pucks)

    def _bind(self) -> None:
        self._puck_qpos = np.array(
            [
                [self.model.joint(f"puck{i}_{a}").qposadr[0] for a in "xy"]
                for i in range(self.num_pucks)
            ]
        )

    def _object_state(self) -> np.ndarray:
        return self.data.qpos[self._puck_qpos.ravel()].copy()

    def _set_objects(self, state: np.ndarray) -> None:
        self.data.qpos[self._puck_qpos.ravel()] = state

    def _start_state(self) -> np.ndarray:
        return np.concatenate([self.hand_start, self.puck_starts.ravel()])

    def _sample_goal_states(self, n: int) -> np.ndarray:
        pucks = self._sample_puck_goals(n)
        hands = self._uniform_clear_of(
            np.tile(self.hand_goal_low, (n, 1)),
            np.tile(self.hand_goal_high, (n, 1)),
            lambda hands: (
                np.linalg.norm(hands[:, None] - pucks, axis=-1).min(-1) < self.hand_goal_clearance
            ),
        )
        return np.concatenate([hands, pucks.reshape(n, -1)], axis=1)

    def _sample_puck_goals(self, n: int) -> np.ndarray:
        return self.np_random.uniform(
            self.puck_goal_low, self.puck_goal_high, size=(n, self.num_pucks, 2)
        )

    def puck_distances(self, state: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Distance of each puck to its goal."""
        return np.linalg.norm((state[2:] - goal[2:]).reshape(-1, 2), axis=-1)

    def metrics(self, state: np.ndarray, goal: np.ndarray) -> dict[str, Any]:
        hand = float(np.linalg.norm(state[:2] - goal[:2]))
        puck = float(self.puck_distances(state, goal)[0])
        return {
            "distance": hand + puck,
            "hand_distance": hand,
            "puck_distance": puck,
            "success": hand + puck < self.success_distance,
        }


def _narrowed(low: np.ndarray, high: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Goal box bounds (``[..., (x, y)]``) with the x extent scaled by ``width`` about its
    centre; y unchanged."""
    centre, half = (low + high) / 2, (high - low) / 2
    scale = np.array([width, 1.0])
    return centre - half * scale, centre + half * scale


class MultiPusherEnv(PusherEnv):
    """Two pucks, as the original two-puck pusher (multiworld's
    ``SawyerPushAndReachXYDoublePuckEnv``): pucks of radius 0.07 start at (-0.1, 0.6) and
    (0.1, 0.6) in a 0.6 m square arena (walls at x = +-0.3, y = 0.3 and 0.9); the hand moves
    in ``[-0.28, 0.28] x [0.3, 0.9]`` from (0, 0.4). Goals: puck 0 in the left half,
    ``[-0.2, 0] x [0.4, 0.8]``, puck 1 in the right, ``[0, 0.2] x [0.4, 0.8]``, the hand in
    ``[-0.25, 0.25] x [0.3, 0.875]``; goals where two bodies would overlap are redrawn.
    Seen by a wider oblique camera that frames the arena.

    Args:
        variable: the test-time variant: each episode holds 0, 1 or 2 of the pucks
            (uniformly); absent pucks are hidden, stay at their start and count as
            reached. ``info["num_pucks"]`` tells how many are present.
    """

    xml = "multi_pusher.xml"
    camera = "oblique_arena"
    hand_low = np.array([-0.28, 0.3])
    hand_high = np.array([0.28, 0.9])
    puck_low = np.array([-0.23, 0.37])
    """Bounds of puck centres: the arena's walls less the puck radius."""
    puck_high = np.array([0.23, 0.83])
    puck_starts = np.array([[-0.1, 0.6], [0.1, 0.6]])
    puck_goal_low = np.array([[-0.2, 0.4], [0.0, 0.4]])
    puck_goal_high = np.array([[0.0, 0.8], [0.2, 0.8]])
    hand_goal_low = np.array([-0.25, 0.3])
    hand_goal_high = np.array([0.25, 0.875])
    puck_radius = 0.07
    hand_goal_clearance = puck_radius + 0.022 + 0.01
    success_distance = 0.06

    def __init__(self, variable: bool = False, **kwargs):
        self.variable = variable
        super().__init__(**kwargs)

    def _bind(self) -> None:
        super()._bind()
        self.present = np.ones(self.num_pucks, dtype=bool)
        self._geoms = [self.model.body(f"puck{i}").geomadr[0] for i in range(self.num_pucks)]
        self._rgba = self.model.geom_rgba[self._geoms].copy()

    def _show_pucks(self, present: np.ndarray) -> None:
        self.present = present
        for geom, rgba, shown in zip(self._geoms, self._rgba, present):
            self.model.geom_rgba[geom] = rgba if shown else 0.0
            self.model.geom_contype[geom] = self.model.geom_conaffinity[geom] = int(shown)

    def begin_episode(self, options: dict | None = None) -> None:
        if self.variable:
            count = self.np_random.integers(self.num_pucks + 1)
            present = np.zeros(self.num_pucks, dtype=bool)
            present[self.np_random.permutation(self.num_pucks)[:count]] = True
            self._show_pucks(present)
        super().begin_episode(options)

    def _sample_puck_goals(self, n: int) -> np.ndarray:
        """Puck goals in their halves, redrawn where the two pucks would overlap."""
        low = np.broadcast_to(self.puck_goal_low.ravel(), (n, 2 * self.num_pucks))
        high = np.broadcast_to(self.puck_goal_high.ravel(), (n, 2 * self.num_pucks))
        apart = 2 * self.puck_radius

        def overlapping(pucks: np.ndarray) -> np.ndarray:
            return np.linalg.norm(pucks[:, :2] - pucks[:, 2:4], axis=-1) < apart

        pucks = self._uniform_clear_of(low.copy(), high.copy(), overlapping)
        return pucks.reshape(n, self.num_pucks, 2)

    def _sample_goal_states(self, n: int) -> np.ndarray:
        goals = super()._sample_goal_states(n)
        pucks = goals[:, 2:].reshape(n, self.num_pucks, 2)
        pucks[:, ~self.present] = self.puck_starts[~self.present]
        return goals

    def metrics(self, state: np.ndarray, goal: np.ndarray) -> dict[str, Any]:
        hand = float(np.linalg.norm(state[:2] - goal[:2]))
        pucks = self.puck_distances(state, goal) * self.present
        mean = float(pucks.sum() / max(self.present.sum(), 1))
        return {
            "distance": hand + float(pucks.sum()),
            "hand_distance": hand,
            "puck_distance": mean,
            **{f"puck{i}_distance": float(d) for i, d in enumerate(pucks)},
            "num_pucks": int(self.present.sum()),
            "success": bool((pucks < self.success_distance).all() and hand < self.success_distance),
        }
