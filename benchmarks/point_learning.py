"""Does `rig train --env point` learn? RIG's final distance vs a random policy on the same goals.

Usage:
    python benchmarks/point_learning.py                 # trains with defaults into runs/bench-point
    python benchmarks/point_learning.py --run runs/x    # scores an existing run instead

Prints the final evaluation distance of RIG and of uniformly random actions on
the same evaluation goals and starts, their ratio, the wall time, env steps/s
and TD3 updates/s. Exit code 1 if RIG's distance is not below a third of random's.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rig.agent import Agent
from rig.checkpoint import load_checkpoint
from rig.envs import make
from rig.evaluate import GoalBlindPolicy, evaluate


class RandomPolicy(GoalBlindPolicy):
    """Uniformly random actions: this benchmark's baseline."""

    def __init__(self, action_space, seed: int = 0):
        super().__init__(action_space)
        self.rng = np.random.default_rng(seed)

    def actions(self, shape: tuple[int, ...]) -> np.ndarray:
        low, high = self.action_space.low, self.action_space.high
        return self.rng.uniform(low, high, size=shape).astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--run", type=Path, help="existing run directory to score")
    parser.add_argument("--env", default="point")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=100, help="evaluation goals")
    args = parser.parse_args()

    run_dir = args.run
    wall = None
    if run_dir is None:
        run_dir = Path(f"runs/bench-{args.env}-seed{args.seed}")
        cmd = [
            "rig",
            "train",
            "--env",
            args.env,
            "--seed",
            str(args.seed),
            "--out",
            str(run_dir),
            "--overwrite",
        ]
        print("$", " ".join(cmd), flush=True)
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - start

    checkpoint = load_checkpoint(run_dir)
    config = checkpoint.config
    agent = Agent.from_checkpoint(checkpoint)
    env = make(config.env, image_size=config.image_size)
    horizon = config.horizon or env.spec.max_episode_steps
    seed = config.seed + config.eval.seed_offset + 1  # goals not seen during training evaluations
    rig = evaluate(env, agent.goal_policy(), args.episodes, horizon, seed).metrics
    rand = evaluate(env, RandomPolicy(env.action_space, seed), args.episodes, horizon, seed).metrics
    summary = json.loads((run_dir / "summary.json").read_text())

    ratio = rig["eval/final_distance"] / rand["eval/final_distance"]
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {_cores()} cores, "
        f"python {platform.python_version()}"
    )
    print(f"task {config.env}, {args.episodes} evaluation goals, horizon {horizon}")
    print(f"{'policy':<8}{'final distance':>16}{'std':>8}{'success':>9}")
    for name, m in [("rig", rig), ("random", rand)]:
        print(
            f"{name:<8}{m['eval/final_distance']:>16.3f}{m['eval/final_distance_std']:>8.3f}"
            f"{m.get('eval/final_success', np.nan):>9.2f}"
        )
    print(f"ratio rig / random: {ratio:.3f} (target < 0.333)")
    print(f"budget: {summary['env_steps']} env steps, {summary['td3_updates']} TD3 updates")
    if wall is not None:
        print(f"wall time of `rig train` (all phases): {wall:.0f} s")
    print(
        f"RL phase: {summary['rl_seconds']:.0f} s, {summary['env_steps_per_s']:.1f} env steps/s, "
        f"{summary['updates_per_s']:.1f} updates/s (time inside TD3 updates)"
    )
    return 0 if ratio < 1 / 3 else 1


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
