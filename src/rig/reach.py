"""`rig reach`: drive a trained agent's task toward a goal given as an image file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rig import artifacts
from rig.agent import Agent
from rig.checkpoint import load_checkpoint
from rig.envs import episode_horizon, make
from rig.evaluate import evaluate
from rig.images import check_goal_state, load_goal_image


class _FixedGoalEnv:
    """Serves one episode whose desired goal image is the user's image."""

    def __init__(self, env, goal_image: np.ndarray, goal_state: np.ndarray | None):
        self.env = env
        self.goal_image = goal_image
        self.goal_state = goal_state

    def reset(self, seed=None):
        options = {"goal": self.goal_state} if self.goal_state is not None else None
        obs, info = self.env.reset(seed=seed, options=options)
        return {**obs, "image_desired_goal": self.goal_image}, info

    def step(self, action):
        return self.env.step(action)


def reach(
    run_dir: Path, goal_path: Path, out: Path | None = None, seed: int = 0
) -> dict[str, float]:
    """Load the agent of ``run_dir``, drive toward ``goal_path`` for one episode, write a video.

    Prints the final latent distance and, when the goal file carries its true
    state (files written by ``rig goal``), the final true distance.
    """
    checkpoint = load_checkpoint(run_dir)
    config = checkpoint.config
    agent = Agent.from_checkpoint(checkpoint)
    if agent.goal_key != "image_desired_goal":
        raise ValueError(
            f"rig reach drives toward goal images, but method {config.method!r} "
            f"reads {agent.goal_key}"
        )
    goal_image, notes, goal_state = load_goal_image(goal_path, config.image_size)
    for note in notes:
        print(f"note: {goal_path}: {note}")
    env = make(config.env, image_size=config.image_size)
    if goal_state is not None:
        goal_space = env.observation_space.spaces.get("state_desired_goal")
        size = goal_space.shape[0] if goal_space is not None else 0
        goal_state = check_goal_state(goal_path, goal_state, size)
    horizon = episode_horizon(env, config.horizon, config.env)
    result = evaluate(
        _FixedGoalEnv(env, goal_image, goal_state),
        agent.goal_policy(),
        episodes=1,
        horizon=horizon,
        seed=seed,
        record_episodes=1,
    )
    out = Path(out) if out else Path(run_dir) / "reach.gif"
    artifacts.save_rollout_video(result.frames, out)
    metrics = {
        k.removeprefix("eval/final_"): v
        for k, v in result.metrics.items()
        if not k.endswith("_std")
    }
    print(f"video written to {out}")
    print(f"final latent distance to the goal: {metrics['latent_distance']:.3f}")
    if goal_state is not None and "distance" in metrics:
        print(f"final true distance to the goal: {metrics['distance']:.3f}")
    else:
        print("true distance unknown: the goal image carries no true state (see 'rig goal')")
    return metrics
