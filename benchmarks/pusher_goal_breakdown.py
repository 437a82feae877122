"""Which pusher goals does a trained agent solve? Final puck distance per goal, binned by how
far the puck must move (its distance if nothing moves it: the do-nothing baseline).

Usage:
    python benchmarks/pusher_goal_breakdown.py runs/sweeps/pusher/pusher/rig/seed0 \
        runs/sweeps/pusher/pusher/oracle/seed0 [--episodes 50]

Each run's checkpoint is evaluated on the run's own evaluation goals (the same 50 goals as
its training curve: vector-env copy i seeded with seed + 10000 + i), and so is a policy that
never moves. Prints a markdown table: per bin of required puck displacement, the number of
goals and each run's mean final puck distance.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from rig.agent import Agent
from rig.checkpoint import load_checkpoint
from rig.envs import make_vector
from rig.evaluate import DoNothingPolicy, evaluate_batched

BINS = (0.0, 0.06, 0.12, 0.16, np.inf)
"""Edges of the bins of the puck's do-nothing distance (m)."""


def puck_distances(run: Path, episodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Final puck distance per goal of the run's agent, and of doing nothing."""
    checkpoint = load_checkpoint(run)
    config = checkpoint.config
    envs = make_vector(config.env, episodes, image_size=config.image_size)
    horizon = config.horizon or envs.spec.max_episode_steps
    seed = config.seed + config.eval.seed_offset
    agent = Agent.from_checkpoint(checkpoint)
    trained = evaluate_batched(envs, agent.goal_policy(), horizon, seed)
    still = evaluate_batched(envs, DoNothingPolicy(envs.single_action_space), horizon, seed)
    envs.close()
    return (
        np.asarray(trained.per_episode["puck_distance"]),
        np.asarray(still.per_episode["puck_distance"]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("runs", type=Path, nargs="+", help="run directories (pusher)")
    parser.add_argument("--episodes", type=int, default=50)
    args = parser.parse_args()
    columns = {}
    for run in args.runs:
        trained, still = puck_distances(run, args.episodes)
        columns[str(run)] = (trained, still)
    names = list(columns)
    print("| puck must move (m) | goals | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for low, high in itertools.pairwise(BINS):
        cells, counts = [], set()
        for name in names:
            trained, still = columns[name]
            chosen = (still >= low) & (still < high)
            counts.add(int(chosen.sum()))
            cells.append(f"{trained[chosen].mean():.3f}" if chosen.any() else "-")
        label = f"{low:.2f}-{high:.2f}" if np.isfinite(high) else f">= {low:.2f}"
        count = "/".join(str(c) for c in sorted(counts))
        print(f"| {label} | {count} | " + " | ".join(cells) + " |")
    means = " | ".join(f"{columns[n][0].mean():.3f}" for n in names)
    print(f"| all | {args.episodes} | {means} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
