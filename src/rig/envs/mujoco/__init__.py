"""The paper's simulated robot tasks on MuJoCo, with batched headless rendering."""

from rig.envs.mujoco.base import ArmEnv
from rig.envs.mujoco.door import DoorEnv
from rig.envs.mujoco.pick_place import PickPlaceEnv
from rig.envs.mujoco.pusher import MultiPusherEnv, PusherEnv
from rig.envs.mujoco.reacher import ReacherEnv
from rig.envs.mujoco.render import BatchRenderer, RenderingUnavailable

__all__ = [
    "ArmEnv",
    "BatchRenderer",
    "DoorEnv",
    "MultiPusherEnv",
    "PickPlaceEnv",
    "PusherEnv",
    "ReacherEnv",
    "RenderingUnavailable",
]
