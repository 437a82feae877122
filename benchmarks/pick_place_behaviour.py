"""What does a pick-and-place policy do with the ball? Per kind of goal (ball in the hand or
on the table): how often it shuts the gripper, how low the hand goes, how often the ball is
lifted, and the final hand and ball distances.

Usage:
    python benchmarks/pick_place_behaviour.py runs/pick-place/rig runs/pick-place/oracle \
        [--episodes 50] [--seed 10000] [--sheet docs/pick_place_finals.png]

Each run's checkpoint acts on the same goals and starts (vector-env copy i seeded with
seed + i; the defaults are the 50 goals of the training curve of a seed-0 run). Two
references act on them too: "do nothing" (zero actions) and "OU noise" (the default
exploration noise, Table 1's OU process, added to zero actions: what collecting data with an
untrained policy does). The ball counts as lifted when its centre rises 2 cm above its
resting height. ``--sheet`` saves a picture: the first goals that hold the ball (top row),
then each policy's last frame on them, one row per policy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from rig import artifacts
from rig.agent import Agent
from rig.checkpoint import load_checkpoint
from rig.config import NoiseConfig
from rig.envs import make_vector
from rig.envs.mujoco.pick_place import BALL_RADIUS
from rig.evaluate import DoNothingPolicy
from rig.noise import ExplorationNoise

LIFTED = BALL_RADIUS + 0.02
"""Ball-centre height (m) above which the ball counts as lifted."""

TASK = "pick-place"


def rollout(envs, policy, horizon: int, seed: int) -> dict[str, np.ndarray]:
    """Per episode: goal in hand, fraction of steps gripping, lowest hand, lifted, distances,
    and the goal image and last frame."""
    obs, _ = envs.reset(seed=seed)
    goal_images = obs["image_desired_goal"].copy()
    policy.set_goal(obs, batched=True)
    gripping = np.zeros(envs.num_envs)
    lowest_hand = np.full(envs.num_envs, np.inf)
    highest_ball = np.zeros(envs.num_envs)
    for _ in range(horizon):
        actions = policy(obs)
        gripping += actions[:, 2] > 0
        obs, _, _, _, info = envs.step(actions)
        state = obs["state_observation"]
        lowest_hand = np.minimum(lowest_hand, state[:, 1])
        highest_ball = np.maximum(highest_ball, state[:, 3])
    return {  # the task's own metrics at the last step, and what the state showed on the way
        "in_hand": np.asarray(info["goal_in_hand"]) == 1,
        "gripping": gripping / horizon,
        "lowest_hand": lowest_hand,
        "lifted": highest_ball > LIFTED,
        "held_at_end": state[:, 3] > LIFTED,
        "hand": np.asarray(info["hand_distance"]),
        "ball": np.asarray(info["object_distance"]),
        "goal_image": goal_images,
        "last_frame": obs["image_observation"].copy(),
    }


class NoisePolicy:
    """Zero actions plus the default exploration noise: one OU process per episode."""

    def __init__(self, action_space, num_envs: int, seed: int):
        bounds = (action_space.low, action_space.high)
        low, high = (np.tile(bound, (num_envs, 1)) for bound in bounds)
        self.noise = ExplorationNoise(NoiseConfig(), low, high, np.random.default_rng(seed))

    def set_goal(self, obs: dict, batched: bool = True) -> None:
        self.noise.reset()

    def __call__(self, obs: dict) -> np.ndarray:
        return self.noise(np.zeros_like(self.noise.low))


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
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=10_000, help="goal seed of copy 0")
    parser.add_argument("--sheet", type=Path, help="PNG of goals in the hand and last frames")
    parser.add_argument("--sheet-goals", type=int, default=10)
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    checkpoints = {}
    for run in args.runs:
        try:
            checkpoints[run] = load_checkpoint(run)
        except (FileNotFoundError, ValueError) as err:
            parser.error(f"{run}: {err}")
        if checkpoints[run].config.env != TASK:
            parser.error(f"{run} trained on {checkpoints[run].config.env!r}, not {TASK!r}")
    sizes = {checkpoint.config.image_size for checkpoint in checkpoints.values()} or {48}
    if len(sizes) > 1:
        parser.error(f"the runs use different image sizes {sorted(sizes)}; compare one size")
    envs = make_vector(TASK, args.episodes, image_size=sizes.pop())
    horizon = envs.spec.max_episode_steps
    policies = {
        "do nothing": DoNothingPolicy(envs.single_action_space),
        "OU noise": NoisePolicy(envs.single_action_space, args.episodes, args.seed),
    }
    for run, checkpoint in checkpoints.items():
        steps = checkpoint.state.get("counters", {}).get("env_steps", "?")
        policies[f"{run.name} ({steps} steps)"] = Agent.from_checkpoint(checkpoint).goal_policy()
    rows = {name: rollout(envs, policy, horizon, args.seed) for name, policy in policies.items()}
    envs.close()
    print(table(rows))
    if args.sheet is not None:
        shown = np.flatnonzero(next(iter(rows.values()))["in_hand"])[: args.sheet_goals]
        first = next(iter(rows.values()))
        pictures = [first["goal_image"][shown]] + [r["last_frame"][shown] for r in rows.values()]
        iio.imwrite(args.sheet, artifacts.image_grid(pictures))
        print(f"{args.sheet}: goals (top), then the last frame of: " + ", ".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
