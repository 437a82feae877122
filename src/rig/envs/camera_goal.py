"""Any Gymnasium goal env as an image-goal task: a fixed camera, hidden goal markers and goal
images rendered by putting the simulation in the goal state.

:class:`CameraGoalTask` wraps a goal env (observations ``observation``, ``achieved_goal``,
``desired_goal``) and adds what rig's interface (:mod:`rig.envs.interface`) asks of an image
task: ``image_observation`` from a camera and, at every reset, ``image_desired_goal``, an
image of the simulation put in the episode's goal state by ``reach_goal`` and then restored.
The true states (``state_*``) and ``distance``/``success`` stay in the observations and
``info`` for evaluation (:class:`~rig.envs.goal_env.StateGoalTask`), never shown to the
learner.

A MuJoCo env (``env.unwrapped.model`` and ``.data``) is drawn from ``camera`` (a camera
of its model by name, or a free :class:`~rig.envs.mujoco.render.CameraView`), its state
saved and restored with ``mj_getState``/``mj_setState``. Any other env renders with its own
``render()`` (``render_mode="rgb_array"``) and must offer ``get_state()`` and
``set_state(state)`` on its unwrapped env.

``fetch-reach-pixels`` and ``fetch-push-pixels`` are Gymnasium-Robotics' ``FetchReach-v4``
and ``FetchPush-v4`` seen this way (:func:`fetch_from_pixels`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces
from PIL import Image

from rig.envs import robotics
from rig.envs.goal_env import StateGoalTask
from rig.envs.interface import task_name
from rig.envs.mujoco.render import BatchRenderer, CameraView

ReachGoal = Callable[[Any, np.ndarray], None]
"""``reach_goal(unwrapped_env, desired_goal)``: put the simulation in a state that shows
``desired_goal`` (the wrapper saves the state before and restores it after)."""

_STATE_SPEC = mujoco.mjtState.mjSTATE_INTEGRATION


class CameraGoalTask(StateGoalTask, gym.utils.RecordConstructorArgs):
    """A goal env seen from a camera, with goal images (see the module docstring).

    Args:
        env: a Gymnasium goal env.
        reach_goal: puts the simulation in the goal state, for the goal image (:data:`ReachGoal`).
        camera: the model's camera name or a :class:`CameraView` (MuJoCo envs, where it is
            required); ``None`` for any other env, drawn by its own ``render()``.
        image_size: the images' side in pixels.
        hide: names of the model's sites, geoms and bodies not to draw (goal markers), so
            that the goal is seen only in the goal image.
    """

    def __init__(
        self,
        env: gym.Env,
        reach_goal: ReachGoal,
        camera: str | CameraView | None = None,
        image_size: int = 48,
        hide: Sequence[str] = (),
    ):
        gym.utils.RecordConstructorArgs.__init__(
            self, reach_goal=reach_goal, camera=camera, image_size=image_size, hide=hide
        )
        super().__init__(env)
        self.reach_goal = reach_goal
        self.image_size = image_size
        unwrapped = env.unwrapped
        self._mujoco = hasattr(unwrapped, "model") and hasattr(unwrapped, "data")
        if self._mujoco:
            if camera is None:
                raise ValueError(
                    f"{task_name(env)} is a MuJoCo env: give a camera, by name or as a "
                    "CameraView(lookat, distance, azimuth, elevation)"
                )
            _hide(unwrapped.model, hide)
            self._renderer = BatchRenderer(unwrapped.model, image_size, camera=camera)
        else:
            missing = [m for m in ("get_state", "set_state") if not hasattr(unwrapped, m)]
            if missing or camera is not None or hide:
                raise ValueError(
                    f"{task_name(env)} is not a MuJoCo env (no model and data): it renders with "
                    "its own render(), takes no camera or hide, and needs get_state() and "
                    f"set_state(state) to render goal images (missing: {', '.join(missing)})"
                )
            self._renderer = None
        image = spaces.Box(0, 255, (image_size, image_size, 3), np.uint8)
        self.observation_space = spaces.Dict(
            {
                **self.observation_space.spaces,
                **dict.fromkeys(
                    ("image_observation", "image_achieved_goal", "image_desired_goal"), image
                ),
            }
        )
        self._goal_image = np.zeros(image.shape, np.uint8)

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._goal_image = self.render_goal(obs["desired_goal"])
        return self._observation(obs), self._info(obs, info)

    def render_image(self) -> np.ndarray:
        """The camera's image of the current state, uint8 (S, S, 3), a fresh array."""
        unwrapped = self.env.unwrapped
        if self._renderer is not None:
            return self._renderer.render([unwrapped.model], [unwrapped.data])[0]
        frame = np.asarray(self.env.render())
        if frame.ndim != 3 or frame.shape[-1] != 3:
            raise ValueError(
                f"{task_name(self.env)}.render() must return an RGB image, got {frame.shape}"
            )
        size = (self.image_size, self.image_size)
        return np.asarray(Image.fromarray(frame.astype(np.uint8)).resize(size, Image.BILINEAR))

    def render_goal(self, goal: np.ndarray) -> np.ndarray:
        """Image of the simulation put in ``goal`` by ``reach_goal``; the state is restored."""
        saved = self._state()
        self.reach_goal(self.env.unwrapped, np.asarray(goal))
        image = self.render_image()
        self._restore(saved)
        return image

    def sample_goals(self, n: int) -> dict[str, np.ndarray]:
        """``n`` goals from the task's goal distribution, states and images (call it before an
        episode starts; it leaves the task reset)."""
        goals = super().sample_goals(n)
        images = [self.render_goal(goal) for goal in goals["state_desired_goal"]]
        return {**goals, "image_desired_goal": np.stack(images)}

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
        super().close()

    def _observation(self, obs: dict) -> dict:
        """The goal env's observation with the ``state_*`` entries and the images."""
        image = self.render_image()
        return {
            **super()._observation(obs),
            "image_observation": image,
            "image_achieved_goal": image.copy(),
            "image_desired_goal": self._goal_image.copy(),
        }

    def _state(self):
        unwrapped = self.env.unwrapped
        if not self._mujoco:
            return unwrapped.get_state()
        state = np.empty(mujoco.mj_stateSize(unwrapped.model, _STATE_SPEC))
        mujoco.mj_getState(unwrapped.model, unwrapped.data, state, _STATE_SPEC)
        return state

    def _restore(self, state) -> None:
        unwrapped = self.env.unwrapped
        if not self._mujoco:
            unwrapped.set_state(state)
            return
        mujoco.mj_setState(unwrapped.model, unwrapped.data, state, _STATE_SPEC)
        mujoco.mj_forward(unwrapped.model, unwrapped.data)


def _hide(model: mujoco.MjModel, names: Sequence[str]) -> None:
    """Make the named sites, geoms and bodies (all their geoms and sites) transparent:
    MuJoCo does not draw what has alpha 0."""
    for name in names:
        site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, name)
        geom = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)
        body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
        if site < 0 and geom < 0 and body < 0:
            raise ValueError(
                f"cannot hide {name!r}: the model has no site, geom or body of that name"
            )
        model.site_rgba[(np.arange(model.nsite) == site) | (model.site_bodyid == body), 3] = 0.0
        model.geom_rgba[(np.arange(model.ngeom) == geom) | (model.geom_bodyid == body), 3] = 0.0


# ----- Gymnasium-Robotics' Fetch tasks from pixels -------------------------------------------

FETCH_CAMERA = CameraView(lookat=(1.3, 0.75, 0.45), distance=1.1, azimuth=180.0, elevation=-60.0)
"""Facing the robot across the table, high enough to see the gripper's height and the
whole goal range of the reach and push tasks (±0.15 m around the gripper's start)."""

FETCH_HIDDEN = ("target0", "robot0:mocap")
"""The goal marker, and the mocap target's cross hair (it shows where the gripper is sent)."""

FETCH_SETTLE = (4, 10)
"""Rounds and control steps per round that bring the gripper to a reach goal: after each
round the mocap target is corrected by the gripper's remaining error (the weld holds the
gripper about 2 cm off its target), which leaves under 1 mm where the goal is reachable."""


def fetch_reach_goal(env, goal: np.ndarray) -> None:
    """A Fetch goal state: the object (push, pick-and-place) placed at the goal, or, with no
    object (reach), the gripper driven there by its mocap target."""
    utils = env._utils
    if env.has_object:
        qpos = utils.get_joint_qpos(env.model, env.data, "object0:joint").copy()
        qpos[:3] = goal
        utils.set_joint_qpos(env.model, env.data, "object0:joint", qpos)
        mujoco.mj_forward(env.model, env.data)
        return
    rounds, steps = FETCH_SETTLE
    target = np.array(goal, dtype=np.float64)
    for _ in range(rounds):
        utils.set_mocap_pos(env.model, env.data, "robot0:mocap", target)
        mujoco.mj_step(env.model, env.data, nstep=env.n_substeps * steps)
        target += goal - utils.get_site_xpos(env.model, env.data, "robot0:grip")


def fetch_from_pixels(task: str = "FetchReach-v4", image_size: int = 48) -> CameraGoalTask:
    """A Gymnasium-Robotics Fetch task from :data:`FETCH_CAMERA`, its target marker hidden."""
    robotics.load()
    return CameraGoalTask(
        gym.make(task),
        reach_goal=fetch_reach_goal,
        camera=FETCH_CAMERA,
        image_size=image_size,
        hide=FETCH_HIDDEN,
    )
