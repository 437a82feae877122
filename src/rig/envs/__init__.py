"""Goal-conditioned image tasks, registered with Gymnasium under ``rig/...`` ids; and
third-party goal environments with state observations (Gymnasium-Robotics' Fetch tasks)."""

from __future__ import annotations

import functools
import importlib
import inspect

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

from rig.envs import robotics
from rig.envs.camera_goal import CameraGoalTask
from rig.envs.goal_env import StateGoalTask
from rig.envs.interface import check_eval_task, check_task
from rig.envs.mujoco.render import CameraView
from rig.envs.point import PointEnv

TASKS: dict[str, str] = {
    "point": "rig/PointReach-v0",
    "point-wall": "rig/PointWall-v0",
    "reacher": "rig/VisualReacher-v0",
    "pusher": "rig/VisualPusher-v0",
    "pusher-narrow": "rig/VisualPusherNarrow-v0",
    "multi-pusher": "rig/VisualMultiPusher-v0",
    "multi-pusher-variable": "rig/VisualMultiPusherVariable-v0",
    "door": "rig/VisualDoor-v0",
    "door-reset-free": "rig/VisualDoorResetFree-v0",
    "pick-place": "rig/VisualPickPlace-v0",
    "fetch-reach-pixels": "rig/FetchReachPixels-v0",
    "fetch-push-pixels": "rig/FetchPushPixels-v0",
}
"""CLI task names and the Gymnasium ids they stand for."""

_FETCH_PIXELS = "rig.envs.camera_goal:fetch_from_pixels"
"""Gymnasium-Robotics' Fetch tasks from a camera (``pip install "rig-rl[fetch]"``)."""

_REGISTRATIONS = {
    # id: (entry point, constructor kwargs, episode steps)
    "rig/PointReach-v0": ("rig.envs.point:PointEnv", {"wall": False}, 50),
    "rig/PointWall-v0": ("rig.envs.point:PointEnv", {"wall": True}, 50),
    "rig/VisualReacher-v0": ("rig.envs.mujoco.reacher:ReacherEnv", {}, 50),
    "rig/VisualPusher-v0": ("rig.envs.mujoco.pusher:PusherEnv", {}, 100),
    "rig/VisualPusherNarrow-v0": ("rig.envs.mujoco.pusher:PusherEnv", {"goal_width": 0.75}, 100),
    "rig/VisualMultiPusher-v0": ("rig.envs.mujoco.pusher:MultiPusherEnv", {}, 100),
    "rig/VisualMultiPusherVariable-v0": (
        "rig.envs.mujoco.pusher:MultiPusherEnv",
        {"variable": True},
        100,
    ),
    "rig/VisualDoor-v0": ("rig.envs.mujoco.door:DoorEnv", {}, 100),
    "rig/VisualDoorResetFree-v0": ("rig.envs.mujoco.door:DoorEnv", {"reset_free": True}, 100),
    "rig/VisualPickPlace-v0": ("rig.envs.mujoco.pick_place:PickPlaceEnv", {}, 100),
    "rig/FetchReachPixels-v0": (_FETCH_PIXELS, {"task": "FetchReach-v4"}, 50),
    "rig/FetchPushPixels-v0": (_FETCH_PIXELS, {"task": "FetchPush-v4"}, 50),
}

_MUJOCO_PACKAGE = "rig.envs.mujoco."


def _make_vector_env(entry_point: str, num_envs: int, max_episode_steps: int, **kwargs):
    """Gymnasium vector entry point of the MuJoCo tasks: N copies drawn in one framebuffer."""
    from rig.envs.mujoco.vector import ArmVectorEnv

    task = load_env_creator(entry_point)
    return ArmVectorEnv(lambda: task(**kwargs), num_envs, max_episode_steps)


def register_all() -> None:
    """Register every task with Gymnasium (safe to call more than once)."""
    for gym_id, (entry_point, kwargs, steps) in _REGISTRATIONS.items():
        if gym_id not in gym.registry:
            vector = (
                functools.partial(_make_vector_env, entry_point)
                if entry_point.startswith(_MUJOCO_PACKAGE)
                else None
            )
            gym.register(
                gym_id,
                entry_point,
                max_episode_steps=steps,
                kwargs=kwargs,
                vector_entry_point=vector,
            )


def env_id(name: str) -> str:
    """The Gymnasium id of a task given by CLI name, by registered id (Gymnasium-Robotics'
    ids too, when it is installed), or as ``package.module:EnvId-v0`` (the module is
    imported first, so that it registers its tasks; namespaced ids ``module:ns/Id-v0`` too)."""
    if name in TASKS:
        return TASKS[name]
    if ":" in name:
        return _import_task(name)
    if name not in gym.registry and robotics.available():
        robotics.load()
    if name in gym.registry:
        return name
    known = ", ".join(f"{k} ({v})" for k, v in TASKS.items())
    hint = "" if robotics.available() else f"; for the Fetch tasks: {robotics.INSTALL_HINT}"
    raise ValueError(
        f"unknown task {name!r}; known tasks: {known}, any registered Gymnasium id, "
        f"or 'package.module:EnvId-v0' for a task of your own{hint}"
    )


def _import_task(name: str) -> str:
    """Import the module of ``module:EnvId`` and return the id it registered."""
    module, gym_id = name.split(":", 1)
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise ValueError(
            f"--env {name}: cannot import module {module!r} ({err}); is it on PYTHONPATH?"
        ) from err
    if gym_id not in gym.registry:
        ours = sorted(k for k, v in gym.registry.items() if str(v.entry_point).startswith(module))
        raise ValueError(
            f"--env {name}: module {module!r} registered no task {gym_id!r}; it registers: "
            f"{', '.join(ours) or 'nothing (call gymnasium.register when it is imported)'}"
        )
    return gym_id


def _is_robotics(gym_id: str) -> bool:
    entry_point = gym.spec(gym_id).entry_point
    return isinstance(entry_point, str) and entry_point.startswith("gymnasium_robotics")


def _takes_image_size(gym_id: str) -> bool:
    """Whether the task's constructor accepts ``image_size`` (rig's own tasks do; a task
    of your own may not, and is then made as it is)."""
    spec = gym.spec(gym_id)
    if "image_size" in spec.kwargs:
        return True
    creator = spec.entry_point
    if isinstance(creator, str):
        creator = load_env_creator(creator)
    try:
        parameters = inspect.signature(creator).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "image_size" or p.kind is p.VAR_KEYWORD for p in parameters)


def _resolve(name: str, image_size: int | None, kwargs: dict) -> tuple[str, dict, bool]:
    """The task's Gymnasium id, its constructor arguments (``image_size`` goes to the tasks
    whose constructor takes it), and whether it is a Gymnasium-Robotics goal task (seen
    through :class:`StateGoalTask`)."""
    register_all()
    gym_id = env_id(name)
    robotics_task = _is_robotics(gym_id)
    if image_size is not None and not robotics_task and _takes_image_size(gym_id):
        kwargs = {**kwargs, "image_size": image_size}
    return gym_id, kwargs, robotics_task


def make(name: str, image_size: int | None = None, **kwargs) -> gym.Env:
    """Make a task by CLI name (``point``) or Gymnasium id (``rig/PointReach-v0``,
    ``FetchReach-v4``)."""
    gym_id, kwargs, robotics_task = _resolve(name, image_size, kwargs)
    env = gym.make(gym_id, **kwargs)
    return StateGoalTask(env) if robotics_task else env


def episode_horizon(env: gym.Env | gym.vector.VectorEnv, override: int = 0, name: str = "") -> int:
    """Steps per episode: ``override`` (``--horizon``) if set, else the task's time limit."""
    horizon = override or (env.spec.max_episode_steps if env.spec else 0)
    if not horizon:
        raise ValueError(f"task {name or env.spec} has no time limit; set --horizon")
    return horizon


def make_vector(
    name: str, num_envs: int, image_size: int | None = None, **kwargs
) -> gym.vector.VectorEnv:
    """``num_envs`` copies of a task; the MuJoCo tasks render them all in one framebuffer."""
    gym_id, kwargs, robotics_task = _resolve(name, image_size, kwargs)
    if robotics_task:
        return gym.make_vec(
            gym_id, num_envs, vectorization_mode="sync", wrappers=[StateGoalTask], **kwargs
        )
    return gym.make_vec(gym_id, num_envs, **kwargs)


register_all()

__all__ = [
    "TASKS",
    "CameraGoalTask",
    "CameraView",
    "PointEnv",
    "StateGoalTask",
    "check_eval_task",
    "check_task",
    "env_id",
    "make",
    "make_vector",
    "register_all",
]
