"""Image env steps per second (physics + 48x48 camera image) on the pusher scene.

Usage:
    python benchmarks/render_speed.py [--steps 2000] [--repeats 3] [--image-size 48]

Measures, in one run and on the same MJCF scene:

* Gymnasium's ``MujocoEnv`` with its default ``rgb_array`` rendering (one
  ``mujoco.Renderer`` per env, default scene flags), doing the same physics:
  with our XML as it is, with MuJoCo's default ``<quality>`` (multisampling,
  fine tessellation) put back, and with the ceiling light casting no shadow
  (to show what the default shadows cost);
* ``rig``'s pusher: one env, and 16 envs in the batched vector env (one
  framebuffer, one pixel read). For 16 envs the figure counts env steps, so
  one vector step counts 16.

Prints one line per configuration: median steps/s over the repeats (which
interleave the configurations), per wall-clock second and per CPU second of this
process (EGL's rendering threads included); the second is steadier when other
programs share the CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco
import numpy as np
from gymnasium import spaces
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

from rig.envs import make, make_vector
from rig.envs.mujoco.base import ASSETS
from rig.envs.mujoco.pusher import PusherEnv


class GymnasiumPusher(MujocoEnv):
    """The pusher scene and physics in Gymnasium's ``MujocoEnv``, observed through ``render()``."""

    def __init__(self, xml: Path, image_size: int):
        super().__init__(
            str(xml),
            frame_skip=1,
            observation_space=spaces.Box(0, 255, (image_size, image_size, 3), np.uint8),
            render_mode="rgb_array",
            width=image_size,
            height=image_size,
            camera_name="topview",
        )
        self._hand = self.model.body("hand").mocapid[0]

    def step(self, action):
        start = self.data.mocap_pos[self._hand, :2].copy()
        target = np.clip(
            start + 0.02 * np.clip(action, -1, 1), PusherEnv.hand_low, PusherEnv.hand_high
        )
        for k in range(1, PusherEnv.substeps + 1):
            self.data.mocap_pos[self._hand, :2] = start + (target - start) * k / PusherEnv.substeps
            mujoco.mj_step(self.model, self.data)
        return self.render(), 0.0, False, False, {}

    def reset_model(self):
        return self.render()

    def activate(self) -> None:
        """Make this env's OpenGL context current (Gymnasium's viewer does not, when rendering)."""
        self.render()
        self.mujoco_renderer.viewer.make_context_current()


def scene_variant(directory: Path, old: str, new: str) -> Path:
    """A copy of the pusher XML files with ``old`` replaced by ``new`` in the shared scene."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pusher.xml").write_text((ASSETS / "pusher.xml").read_text())
    scene = (ASSETS / "scene.xml").read_text()
    if old not in scene:
        raise ValueError(f"scene.xml no longer contains {old!r}")
    (directory / "scene.xml").write_text(scene.replace(old, new))
    return directory / "pusher.xml"


def steps_per_second(step, reset, steps: int, envs_per_step: int) -> tuple[float, float]:
    """Env steps per wall-clock second and per CPU second."""
    reset()
    for _ in range(20):  # warm-up
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    env_steps = steps * envs_per_step
    return env_steps / (time.perf_counter() - wall), env_steps / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--steps", type=int, default=2000, help="timed steps (vector steps for 16 envs)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=48)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    size = args.image_size

    configs = {}
    variants = Path(tempfile.mkdtemp())
    quality = '<quality offsamples="0" numslices="12" numstacks="4" numquads="1"/>'
    for label, xml in (
        ("gymnasium MujocoEnv rgb_array, same XML", ASSETS / "pusher.xml"),
        (
            "gymnasium ..., MuJoCo default <quality>",
            scene_variant(variants / "quality", quality, ""),
        ),
        (
            "gymnasium ..., light casts no shadow",
            scene_variant(
                variants / "light", 'name="ceiling"', 'name="ceiling" castshadow="false"'
            ),
        ),
    ):
        env = GymnasiumPusher(xml, size)
        configs[label] = (
            lambda env=env: env.step(rng.uniform(-1, 1, 2)),
            lambda env=env: (env.reset(seed=0), env.activate()),
            max(args.steps // 10, 50),
            1,
        )
    single = make("pusher", image_size=size)
    configs["rig pusher, 1 env"] = (
        lambda: single.step(rng.uniform(-1, 1, 2).astype(np.float32)),
        lambda: single.reset(seed=0),
        args.steps,
        1,
    )
    vector = make_vector("pusher", 16, image_size=size)
    configs["rig pusher, 16 envs (batched vector env)"] = (
        lambda: vector.step(rng.uniform(-1, 1, (16, 2)).astype(np.float32)),
        lambda: vector.reset(seed=0),
        max(args.steps // 4, 50),
        16,
    )

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, mujoco {mujoco.__version__}, "
        f"MUJOCO_GL={os.environ['MUJOCO_GL']}, "
        f"{size}x{size} images"
    )
    runs = {label: [] for label in configs}
    for _ in range(args.repeats):
        for label, (step, reset, steps, per_step) in configs.items():
            runs[label].append(steps_per_second(step, reset, steps, per_step))
    print(f"{'configuration':55s} {'per wall s':>10s} {'per CPU s':>10s}  wall-clock repeats")
    wall, cpu = {}, {}
    for label, measured in runs.items():
        wall[label] = statistics.median(w for w, _ in measured)
        cpu[label] = statistics.median(c for _, c in measured)
        repeats = ", ".join(f"{w:.0f}" for w, _ in measured)
        print(f"{label:55s} {wall[label]:10.0f} {cpu[label]:10.0f}  ({repeats})")
    baseline = "gymnasium MujocoEnv rgb_array, same XML"
    print(
        f"speed-up of 1 rig env over gymnasium's default rendering of the same XML: "
        f"{wall['rig pusher, 1 env'] / wall[baseline]:.0f}x per wall-clock second, "
        f"{cpu['rig pusher, 1 env'] / cpu[baseline]:.0f}x per CPU second"
    )


if __name__ == "__main__":
    main()
