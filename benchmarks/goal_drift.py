"""How far does a stored rollout goal drift when the buffer re-encodes it?

The buffer keeps each episode's goal as an image (for an imagined goal: the decoded latent
d(z_g)) and re-encodes it after every VAE update, so the latent used for relabeling becomes
e(d(z_g)), not the z_g the policy was given. This measures one such round trip with a run's
current VAE: imagined goals z_g are drawn as the run draws them, decoded and re-encoded.

Usage:
    python benchmarks/goal_drift.py RUN [RUN...] [--goals 1000]

Prints a markdown table, one row per run: the median and 90th percentile of
||e(d(z_g)) - z_g|| and, for scale, the median distance between two independent imagined
goals.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rig.agent import Agent
from rig.checkpoint import load_checkpoint


def round_trip(run: Path, goals: int, seed: int = 0) -> dict[str, float]:
    """Percentiles of the round-trip drift and of the distance between imagined goals."""
    checkpoint = load_checkpoint(run)
    agent = Agent.from_checkpoint(checkpoint)
    imagined = agent.imagined_goals
    imagined.rng = np.random.default_rng(seed)
    z = imagined.sample(goals)
    again = agent.representation.features(agent.decode(z))
    drift = np.linalg.norm(again - z, axis=1)
    apart = np.linalg.norm(z - imagined.sample(goals), axis=1)
    return {
        "env_steps": checkpoint.env_steps,
        "drift_median": float(np.median(drift)),
        "drift_p90": float(np.percentile(drift, 90)),
        "goals_apart_median": float(np.median(apart)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--goals", type=int, default=1000)
    args = parser.parse_args()
    print("| run | env steps | drift, median | drift, 90th pct | two goals apart, median |")
    print("|---|---|---|---|---|")
    for run in args.runs:
        r = round_trip(run, args.goals)
        ratio = r["drift_median"] / r["goals_apart_median"]
        print(
            f"| {run.name} | {r['env_steps']:,} | {r['drift_median']:.3f} ({ratio:.0%}) | "
            f"{r['drift_p90']:.3f} | {r['goals_apart_median']:.3f} |"
        )


if __name__ == "__main__":
    main()
