"""Connect your own robot or simulator: a task that gives the learner camera images only.

`CameraRobot` below is the pattern to copy. It implements the interface of
`rig.envs.interface` by composition: here the "robot" is our point task, but
the learner gets only `image_observation` and `image_desired_goal`; the true
position appears only in `info`, which evaluation reports and training never
reads. Replace `_camera()`, `_move()` and `_goal_image()` with your robot's
camera, controller and a goal picture (e.g. a photo taken with the arm placed by
hand), and keep the rest.

Run:  python examples/camera_only_robot.py --steps 3000 --out runs/camera-only
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rig.config import Config
from rig.envs.point import PointEnv
from rig.trainer import train

ENV_ID = "rig_examples/CameraRobot-v0"


class CameraRobot(gym.Env):
    """A goal-reaching task seen through a camera; no state in the observations."""

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(self, image_size: int = 48):
        self._sim = PointEnv(image_size=image_size)  # stands in for the real robot
        image = spaces.Box(0, 255, (image_size, image_size, 3), dtype=np.uint8)
        self.observation_space = spaces.Dict(
            {"image_observation": image, "image_desired_goal": image}
        )
        self.action_space = self._sim.action_space

    def _camera(self) -> np.ndarray:
        return self._sim.render()

    def _move(self, action) -> dict:
        _, _, _, _, info = self._sim.step(action)
        return info

    def _goal_image(self, obs) -> np.ndarray:
        return obs["image_desired_goal"]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, info = self._sim.reset(seed=seed, options=options)
        self._goal = self._goal_image(obs)
        return {"image_observation": self._camera(), "image_desired_goal": self._goal.copy()}, info

    def step(self, action):
        info = self._move(action)  # info: true metrics, for evaluation only
        obs = {"image_observation": self._camera(), "image_desired_goal": self._goal.copy()}
        return obs, 0.0, False, False, info


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=CameraRobot, max_episode_steps=50)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("runs/camera-only"))
    args = parser.parse_args()
    summary = train(Config(env=ENV_ID, steps=args.steps, out=args.out), overwrite=True)
    print(
        f"final true distance {summary['eval/final_distance']:.3f}, "
        f"final latent distance {summary['eval/final_latent_distance']:.3f}"
    )


if __name__ == "__main__":
    main()
