"""How far does the latent distance keep growing with the true distance? RIG's reward is minus
the latent distance, so a push is rewarded only over the range where that distance still grows.

Usage:
    python benchmarks/latent_distance_range.py RUN [RUN...] [--pairs 400]

For each run (a pusher or multi-pusher run; its last checkpoint is loaded), goal states of the
task are drawn, one object (the hand, then each puck) is displaced by a fixed distance in a
random direction within its goal region, both states are rendered, and the distance between
their latents is measured. Pairs where any puck comes within 8 cm of the hand (so that one
hides the other) are left out. Prints a markdown table: per displacement, the mean latent
distance of each object's moves, for each run (for the state oracle, the true distance).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rig.agent import Agent
from rig.checkpoint import load_checkpoint
from rig.envs import make

DISPLACEMENTS = (0.02, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
"""True displacements (m) of one object."""
MIN_SEPARATION = 0.08
"""Pairs with a puck closer than this to the hand (m) are left out (partly hidden)."""


def latent_distances(run: Path, pairs: int, seed: int = 0) -> dict[str, dict[float, float]]:
    """Mean latent distance per object and displacement (NaN where no pair was admissible)."""
    checkpoint = load_checkpoint(run)
    config = checkpoint.config
    agent = Agent.from_checkpoint(checkpoint)
    env = make(config.env, image_size=config.image_size)
    env.reset(seed=seed)
    task = env.unwrapped
    rng = np.random.default_rng(seed)
    goals = task.sample_goals(pairs)["state_desired_goal"]
    objects = {"hand": (slice(0, 2), task.hand_low, task.hand_high)}
    for i in range(task.num_pucks):
        low, high = task.puck_goal_low[i], task.puck_goal_high[i]
        objects[f"puck{i}"] = (slice(2 + 2 * i, 4 + 2 * i), low, high)
    table: dict[str, dict[float, float]] = {}
    for name, (where, low, high) in objects.items():
        table[name] = {}
        for displacement in DISPLACEMENTS:
            distances = []
            for goal in goals:
                direction = rng.normal(size=2)
                moved = goal.copy()
                moved[where] += direction / np.linalg.norm(direction) * displacement
                if np.any(moved[where] < low) or np.any(moved[where] > high):
                    continue
                if min(_closest_puck(s, task.num_pucks) for s in (goal, moved)) < MIN_SEPARATION:
                    continue
                images = np.stack([task.set_to_goal(goal), task.set_to_goal(moved)])
                reads_states = agent.observation_key == "state_observation"
                latents = agent.encode(np.stack([goal, moved]) if reads_states else images)
                distances.append(float(np.linalg.norm(latents[0] - latents[1])))
            table[name][displacement] = float(np.mean(distances)) if distances else np.nan
    env.close()
    return table


def _closest_puck(state: np.ndarray, num_pucks: int) -> float:
    pucks = state[2 : 2 + 2 * num_pucks].reshape(num_pucks, 2)
    return float(np.linalg.norm(pucks - state[:2], axis=1).min())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("runs", type=Path, nargs="+", help="pusher or multi-pusher run directories")
    parser.add_argument("--pairs", type=int, default=400, help="goal states per displacement")
    args = parser.parse_args()
    tables = {str(run): latent_distances(run, args.pairs) for run in args.runs}
    objects = next(iter(tables.values())).keys()
    header = [f"{name} ({run})" for run in tables for name in objects]
    print("| displacement (m) | " + " | ".join(header) + " |")
    print("|---" * (len(header) + 1) + "|")
    for displacement in DISPLACEMENTS:
        cells = [f"{t[name][displacement]:.2f}" for t in tables.values() for name in objects]
        print(f"| {displacement:.2f} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
