"""What do a run's imagined goals show? Goals drawn from the fitted prior against goals drawn
from the exploration images' latents (the two `imagined_goals` sources), next to the task's
own goal states.

Usage:
    python benchmarks/imagined_goals.py runs/door [--goals 2000] [--probe-states 3000]

The run's encoder maps `--probe-states` rendered goal states of its task to latents. Each
imagined goal is then read as the mean true state of its 5 nearest of those latents
(standardized), and its distance to the nearest one says how far it lies from any image
the task can show. Prints, per source, the mean of each true-state dimension, the share of
goals above the task goals' median of each, and the median distance to the nearest real
latent.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from rig.agent import Agent
from rig.checkpoint import load_checkpoint
from rig.diagnostics import probe_data
from rig.envs import make

NEIGHBOURS = 5


def read_states(
    queries: np.ndarray, latents: np.ndarray, states: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each query's mean state over its nearest latents, and its nearest distance."""
    mean, std = latents.mean(0), latents.std(0) + 1e-8
    known, asked = (latents - mean) / std, (queries - mean) / std
    read, nearest = [], []
    for chunk in np.array_split(asked, max(1, len(asked) // 256)):
        d = ((chunk[:, None, :] - known[None]) ** 2).sum(-1)
        order = np.argsort(d, axis=1)[:, :NEIGHBOURS]
        read.append(states[order].mean(1))
        nearest.append(np.sqrt(np.take_along_axis(d, order[:, :1], 1)[:, 0]))
    return np.concatenate(read), np.concatenate(nearest)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("run", type=Path, help="a finished or checkpointed image run")
    parser.add_argument("--goals", type=int, default=2000, help="imagined goals per source")
    parser.add_argument("--probe-states", type=int, default=3000)
    args = parser.parse_args()
    if args.goals < 1 or args.probe_states < NEIGHBOURS:
        parser.error(f"need --goals >= 1 and --probe-states >= {NEIGHBOURS}")
    try:
        checkpoint = load_checkpoint(args.run)
    except (FileNotFoundError, ValueError) as err:
        parser.error(f"{args.run}: {err}")
    config = checkpoint.config
    exploration = args.run / "exploration_images.npy"
    if not exploration.exists():
        parser.error(f"{args.run} has no exploration_images.npy (not an image run?)")
    agent = Agent.from_checkpoint(checkpoint)
    env = make(config.env, image_size=config.image_size)
    probe = probe_data(env, args.probe_states + args.goals, config.seed, pushes=False)
    env.close()
    encoded = agent.encode(probe.images)
    latents, states = encoded[: args.probe_states], probe.states[: args.probe_states]
    rng = np.random.default_rng(config.seed)
    images = np.load(exploration, mmap_mode="r")
    goals = min(args.goals, len(images))
    chosen = np.sort(rng.choice(len(images), goals, replace=False))
    sources = {
        "task goal states (held out)": encoded[args.probe_states :][:goals],
        "exploration latents": agent.encode(np.asarray(images[chosen])),
        "fitted prior samples": agent.prior.sample(goals, rng),
    }
    medians = np.median(states, axis=0)
    names = probe.names
    print(f"{args.run}: {config.env}, {len(latents)} probe states, {goals} goals per source")
    print("| source | nearest real latent (median) | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for source, queries in sources.items():
        read, nearest = read_states(queries, latents, states)
        cells = [
            f"{read[:, i].mean():.3f} ({np.mean(read[:, i] > medians[i]):.2f} above)"
            for i in range(len(names))
        ]
        print(f"| {source} | {np.median(nearest):.2f} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
