"""Headless MuJoCo rendering: one OpenGL context, many environments, one pixel read.

The backend is EGL by default and OSMesa when EGL is unavailable (``MUJOCO_GL``
picks one explicitly). Reflections, skybox, haze, post-processing and multisampling
are off: at 48x48 they cost far more than everything else (see DESIGN.md and
benchmarks/RESULTS.md). Shadows are drawn only for a model with a light that casts
them (the door's lamp, a depth cue for the hand), from a small shadow map.
"""

from __future__ import annotations

import atexit
import functools
import os
import subprocess
import sys
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from rig.errors import RigError

_REQUESTED = os.environ.get("MUJOCO_GL", "").lower()
os.environ.setdefault("MUJOCO_GL", "egl")  # for mujoco.Renderer and Gymnasium's renderer too

SYSTEM_PACKAGES = {"egl": "libegl1 libegl-mesa0 libgl1-mesa-dri", "osmesa": "libosmesa6"}
"""Debian packages that provide each backend."""


class RenderingUnavailable(RigError, RuntimeError):
    """Neither EGL nor OSMesa could create an OpenGL context."""


def _use_pyopengl_platform(name: str) -> None:
    """Point PyOpenGL at ``name``; forget a platform chosen by an earlier, failed attempt."""
    if os.environ.get("PYOPENGL_PLATFORM", name) != name:
        for module in [m for m in sys.modules if m == "OpenGL" or m.startswith("OpenGL.")]:
            del sys.modules[module]
    os.environ["PYOPENGL_PLATFORM"] = name


def _egl_context(width: int, height: int):
    _use_pyopengl_platform("egl")
    from mujoco.egl import GLContext

    return GLContext(width, height)


def _osmesa_context(width: int, height: int):
    _use_pyopengl_platform("osmesa")
    from mujoco.osmesa import GLContext

    return GLContext(width, height)


BACKENDS = {"egl": _egl_context, "osmesa": _osmesa_context}


@functools.cache
def egl_error() -> str | None:
    """Why EGL cannot make a context, or None if it can.

    Tried in a child process: a failed EGL attempt leaves libEGL loaded, after
    which OSMesa no longer works in this process.
    """
    code = "from mujoco.egl import GLContext; GLContext(8, 8).make_current()"
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    lines = result.stderr.strip().splitlines()
    return (
        None
        if result.returncode == 0
        else (lines[-1] if lines else f"exit code {result.returncode}")
    )


def create_gl_context(width: int, height: int):
    """An OpenGL context made current.

    ``MUJOCO_GL=egl|osmesa`` given by the user is tried first, then the other;
    otherwise EGL if it works (checked once), else OSMesa.
    """
    errors = []
    if _REQUESTED in BACKENDS:
        order = [_REQUESTED] + [b for b in BACKENDS if b != _REQUESTED]
    elif egl_error() is None:
        order = list(BACKENDS)
    else:
        order = ["osmesa"]
        errors.append(f"egl: {egl_error()}")
    for backend in order:
        try:
            context = BACKENDS[backend](width, height)
            context.make_current()
            os.environ["MUJOCO_GL"] = backend  # child processes use the backend that works
            return context
        except Exception as err:
            errors.append(f"{backend}: {type(err).__name__}: {err}")
    packages = " ".join(SYSTEM_PACKAGES[b] for b in BACKENDS)
    raise RenderingUnavailable(
        "no headless OpenGL backend works (" + "; ".join(errors) + "). "
        f"On Debian/Ubuntu install them with: apt-get install {packages}"
    )


def disable_costly_effects(model: mujoco.MjModel) -> None:
    """Turn off multisampling; shadows, reflections and skybox are scene flags (below)."""
    model.vis.quality.offsamples = 0


@dataclass(frozen=True)
class CameraView:
    """A free camera: it looks at ``lookat`` (world coordinates, metres) from ``distance``
    metres away, at ``azimuth`` and ``elevation`` degrees (MuJoCo's ``mjvCamera``)."""

    lookat: tuple[float, float, float]
    distance: float
    azimuth: float = 90.0
    elevation: float = -45.0

    def camera(self) -> mujoco.MjvCamera:
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.lookat[:] = self.lookat
        camera.distance, camera.azimuth, camera.elevation = (
            self.distance,
            self.azimuth,
            self.elevation,
        )
        return camera


def model_camera(model: mujoco.MjModel, camera: str | CameraView) -> mujoco.MjvCamera:
    """The camera of ``model`` named ``camera``, or the free camera ``camera`` describes."""
    if isinstance(camera, CameraView):
        return camera.camera()
    fixed = mujoco.MjvCamera()
    fixed.type = mujoco.mjtCamera.mjCAMERA_FIXED
    fixed.fixedcamid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
    if fixed.fixedcamid < 0:
        names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_CAMERA, i) for i in range(model.ncam)]
        raise ValueError(
            f"the model has no camera named {camera!r} (it has: {', '.join(names) or 'none'}; "
            "or give a CameraView(lookat, distance, azimuth, elevation))"
        )
    return fixed


class BatchRenderer:
    """Renders up to ``capacity`` (model, data) pairs as viewports of one offscreen framebuffer.

    All views share the first model's assets (the pairs must be copies of one
    scene) and are read back with a single ``mjr_readPixels``. ``camera`` is the name of
    one of the model's cameras or a free :class:`CameraView`.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        image_size: int,
        capacity: int = 1,
        camera: str | CameraView = "topview",
    ):
        self.image_size = image_size
        self.capacity = capacity
        self.columns = int(np.ceil(np.sqrt(capacity)))
        self.rows = int(np.ceil(capacity / self.columns))
        width, height = self.columns * image_size, self.rows * image_size
        disable_costly_effects(model)
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, height)
        self._gl = create_gl_context(width, height)
        self._context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._context)
        self._scene = mujoco.MjvScene(model, maxgeom=max(100, 2 * model.ngeom))
        self.shadows = bool(model.light_castshadow.any())
        self._scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = self.shadows
        for flag in (
            "mjRND_REFLECTION",
            "mjRND_SKYBOX",
            "mjRND_HAZE",
            "mjRND_POST_PROCESSING",
        ):
            self._scene.flags[getattr(mujoco.mjtRndFlag, flag)] = 0
        self._option = mujoco.MjvOption()
        self._option.flags[mujoco.mjtVisFlag.mjVIS_RANGEFINDER] = 0  # rays of depth sensors
        self._camera = model_camera(model, camera)
        self._viewports = [
            mujoco.MjrRect(
                (i % self.columns) * image_size,
                (self.rows - 1 - i // self.columns) * image_size,
                image_size,
                image_size,
            )
            for i in range(capacity)
        ]
        self._pixels = np.empty((height, width, 3), dtype=np.uint8)
        self._full = mujoco.MjrRect(0, 0, width, height)
        self._release = weakref.finalize(self, _release, self._gl, self._context)
        self._release.atexit = False
        atexit.register(self._release)  # runs before the GL backend's own exit handler

    def render(
        self, models: Sequence[mujoco.MjModel], datas: Sequence[mujoco.MjData]
    ) -> np.ndarray:
        """Images of each (model, data) pair, uint8 ``(n, S, S, 3)``, top row first."""
        n = len(datas)
        if n > self.capacity:
            raise ValueError(f"{n} views requested; this renderer holds {self.capacity}")
        self._gl.make_current()
        for model, data, viewport in zip(models, datas, self._viewports):
            mujoco.mjv_updateScene(
                model,
                data,
                self._option,
                None,
                self._camera,
                mujoco.mjtCatBit.mjCAT_ALL,
                self._scene,
            )
            mujoco.mjr_render(viewport, self._scene, self._context)
        rows = self.rows if n > (self.rows - 1) * self.columns else int(np.ceil(n / self.columns))
        height = rows * self.image_size
        self._full.bottom = (self.rows - rows) * self.image_size
        self._full.height = height
        pixels = self._pixels[:height]
        mujoco.mjr_readPixels(pixels, None, self._full, self._context)
        s = self.image_size
        grid = pixels[::-1].reshape(rows, s, self.columns, s, 3).transpose(0, 2, 1, 3, 4)
        return grid.reshape(rows * self.columns, s, s, 3)[:n].copy()

    def close(self) -> None:
        """Release the OpenGL resources (also done on garbage collection and at exit)."""
        self._release()


def _release(gl, context: mujoco.MjrContext) -> None:
    gl.make_current()
    context.free()
    gl.free()
