"""What does a pick-and-place policy do with the ball? Per kind of goal (ball in the hand or
on the table): how often it shuts the gripper, how low the hand goes, how often the ball is
lifted, and the final hand and ball distances.

Usage:
    python benchmarks/pick_place_behaviour.py runs/pick-place/rig runs/pick-place/oracle \
        [--episodes 60] [--seed 10000]

Each run's checkpoint acts on the same goals and starts (vector-env copy i seeded with
seed + i; the default is the training curve's goals for seed 0). Two references act on them
too: "do nothing" (zero actions) and "OU noise" (the exploration noise of the run config's
defaults added to zero actions: what collecting data with an untrained policy does). The
ball counts as lifted when its centre rises 2 cm above its resting height.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from rig.agent import Agent
from rig.checkpoint import load_checkpoint
from rig.config import NoiseConfig
from rig.envs import make_vector
from rig.envs.mujoco.pick_place import BALL_RADIUS
from rig.noise import ExplorationNoise

LIFTED = BALL_RADIUS + 0.02
"""Ball-centre height (m) above which the ball counts as lifted."""

TASK = "pick-place"


def rollout(envs, act, horizon: int, seed: int) -> dict[str, np.ndarray]:
    """Per episode: goal in hand, fraction of steps gripping, lowest hand, lifted, distances."""
    obs, _ = envs.reset(seed=seed)
    act.set_goal(obs)
    goal = obs["state_desired_goal"]
    gripping = np.zeros(envs.num_envs)
    lowest_hand = np.full(envs.num_envs, np.inf)
    highest_ball = np.zeros(envs.num_envs)
    for _ in range(horizon):
        actions = act(obs)
        gripping += actions[:, 2] > 0
        obs, *_ = envs.step(actions)
        state = obs["state_observation"]
        lowest_hand = np.minimum(lowest_hand, state[:, 1])
        highest_ball = np.maximum(highest_ball, state[:, 3])
    return {
        "in_hand": goal[:, 3] > LIFTED - 0.015,
        "gripping": gripping / horizon,
        "lowest_hand": lowest_hand,
        "lifted": highest_ball > LIFTED,
        "held_at_end": state[:, 3] > LIFTED,
        "hand": np.linalg.norm(state[:, :2] - goal[:, :2], axis=1),
        "ball": np.linalg.norm(state[:, 2:] - goal[:, 2:], axis=1),
    }


class AgentActor:
    def __init__(self, agent: Agent):
        self.policy = agent.goal_policy()

    def set_goal(self, obs: dict) -> None:
        self.policy.set_goal(obs, batched=True)

    def __call__(self, obs: dict) -> np.ndarray:
        return self.policy(obs)


class NoiseActor:
    """Zero actions plus one OU process per episode (``sigma = 0``: do nothing)."""

    def __init__(self, action_space, num_envs: int, sigma: float, seed: int):
        rng = np.random.default_rng(seed)
        config = NoiseConfig(sigma=sigma)
        self.noises = [
            ExplorationNoise(config, action_space.low, action_space.high, rng)
            for _ in range(num_envs)
        ]

    def set_goal(self, obs: dict) -> None:
        for noise in self.noises:
            noise.reset()

    def __call__(self, obs: dict) -> np.ndarray:
        zero = np.zeros_like(self.noises[0].low)
        return np.stack([noise(zero) for noise in self.noises])


def table(rows: dict[str, dict[str, np.ndarray]]) -> str:
    lines = [
        "| policy | goals | n | gripping | lowest hand z | lifted | held at end | hand | ball |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        for kind, chosen in (("in hand", r["in_hand"]), ("on table", ~r["in_hand"])):
            if not chosen.any():
                continue
            cells = [
                f"{r['gripping'][chosen].mean():.2f}",
                f"{r['lowest_hand'][chosen].mean():.3f}",
                f"{r['lifted'][chosen].mean():.2f}",
                f"{r['held_at_end'][chosen].mean():.2f}",
                f"{r['hand'][chosen].mean():.3f}",
                f"{r['ball'][chosen].mean():.3f}",
            ]
            lines.append(f"| {name} | {kind} | {int(chosen.sum())} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("runs", type=Path, nargs="*", help="pick-place run directories")
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--seed", type=int, default=10_000, help="goal seed of copy 0")
    args = parser.parse_args()
    checkpoints = {run: load_checkpoint(run) for run in args.runs}
    for run, checkpoint in checkpoints.items():
        if checkpoint.config.env != TASK:
            parser.error(f"{run} trained on {checkpoint.config.env!r}, not {TASK!r}")
    sizes = {checkpoint.config.image_size for checkpoint in checkpoints.values()} or {48}
    if len(sizes) > 1:
        parser.error(f"the runs use different image sizes {sorted(sizes)}; compare one size")
    envs = make_vector(TASK, args.episodes, image_size=sizes.pop())
    horizon = envs.spec.max_episode_steps
    space = envs.single_action_space
    actors = {
        "do nothing": NoiseActor(space, args.episodes, 0.0, args.seed),
        "OU noise": NoiseActor(space, args.episodes, NoiseConfig().sigma, args.seed),
    }
    for run, checkpoint in checkpoints.items():
        steps = checkpoint.state.get("counters", {}).get("env_steps", "?")
        actors[f"{run.name} ({steps} steps)"] = AgentActor(Agent.from_checkpoint(checkpoint))
    rows = {name: rollout(envs, actor, horizon, args.seed) for name, actor in actors.items()}
    envs.close()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
