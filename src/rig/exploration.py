"""Line 1 of Algorithm 1: collect images with a simple exploration policy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from rig.config import ExplorationDataConfig


def collect_exploration_images(
    env: gym.Env,
    config: ExplorationDataConfig,
    horizon: int,
    rng: np.random.Generator,
    progress: bool = False,
) -> np.ndarray:
    """Images from uniformly random actions, resetting every ``horizon`` steps.

    With probability ``goal_reset_prob`` per step the task is instead put in a
    random goal state (``sample_goals`` + ``set_to_goal``), as the original
    code did, so that the dataset covers the goal distribution (tasks without
    those methods get random actions only).
    """
    task = env.unwrapped
    can_jump = hasattr(task, "sample_goals") and hasattr(task, "set_to_goal")
    obs, _ = env.reset(seed=int(rng.integers(2**31)))
    images = np.empty((config.num_images, *obs["image_observation"].shape), dtype=np.uint8)
    low, high = env.action_space.low, env.action_space.high
    steps_in_episode = 0
    for i in tqdm(range(config.num_images), desc="exploration data", disable=not progress):
        if can_jump and rng.random() < config.goal_reset_prob:
            images[i] = task.set_to_goal(task.sample_goals(1)["state_desired_goal"][0])
        else:
            images[i] = obs["image_observation"]
        obs, _, terminated, truncated, _ = env.step(rng.uniform(low, high).astype(np.float32))
        steps_in_episode += 1
        if terminated or truncated or steps_in_episode >= horizon:
            obs, _ = env.reset()
            steps_in_episode = 0
    return images
