"""Gymnasium-Robotics' goal tasks (``FetchReach-v4``, ``FetchPush-v4``, ...) in rig.

Install them with ``pip install "rig-rl[fetch]"``. :func:`load` imports
``gymnasium_robotics`` (which registers its ids with Gymnasium) and, where needed, fixes
one incompatibility of gymnasium-robotics 1.4.2 with mujoco >= 3.12: its joint helpers
test ``joint_type in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE)`` with
``joint_type`` a NumPy integer, and since mujoco 3.12 a ``mjtJoint`` member no longer
compares equal to a NumPy integer from the left, so every Fetch task fails at reset. The fix
gives those helpers (and only them) plain integers for ``mjtJoint``; nothing of theirs is
copied here.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import types

import mujoco
import numpy as np

INSTALL_HINT = 'pip install "rig-rl[fetch]"'


def available() -> bool:
    """Whether gymnasium-robotics is installed."""
    return importlib.util.find_spec("gymnasium_robotics") is not None


def joint_types_compare_with_numpy() -> bool:
    """Whether ``np.int32(t) in (mjtJoint member, ...)`` works in this mujoco."""
    hinge = mujoco.mjtJoint.mjJNT_HINGE
    return np.int32(int(hinge)) in (hinge,)


class _MujocoWithIntJointTypes(types.ModuleType):
    """The ``mujoco`` module as seen by gymnasium-robotics' joint helpers: every attribute
    is mujoco's own, except ``mjtJoint``, whose members are plain integers."""

    def __init__(self):
        super().__init__("mujoco")
        names = [n for n in dir(mujoco.mjtJoint) if n.startswith("mjJNT_")]
        self.mjtJoint = types.SimpleNamespace(
            **{n: int(getattr(mujoco.mjtJoint, n)) for n in names}
        )

    def __getattr__(self, name: str):
        return getattr(mujoco, name)


def load() -> None:
    """Import gymnasium-robotics (registering its tasks) with the joint-type fix applied
    where this mujoco needs it; ``ModuleNotFoundError`` names the install command."""
    if not available():
        raise ModuleNotFoundError(
            f"the Gymnasium-Robotics tasks need gymnasium-robotics: {INSTALL_HINT}"
        )
    with contextlib.redirect_stderr(io.StringIO()):  # its release notice is on the Adroit tasks
        importlib.import_module("gymnasium_robotics")
    helpers = importlib.import_module("gymnasium_robotics.utils.mujoco_utils")
    if not joint_types_compare_with_numpy() and helpers.mujoco is mujoco:
        helpers.mujoco = _MujocoWithIntJointTypes()
