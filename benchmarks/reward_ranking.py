"""Does a run's latent-distance reward prefer what the task's true distance prefers?

Usage:
    python benchmarks/reward_ranking.py JUDGE_RUN POLICY_RUNS... [--episodes 50] [--seed 10000]

Every policy (do nothing, and each run's checkpoint: RIG, the oracle, ...) acts on the same
goals and starts (vector-env copy i seeded with seed + i; the defaults are the 50 goals of
the training curve of a seed-0 run). Along each episode, JUDGE_RUN's encoder scores the
reward RIG trains on, -||z_{t+1} - z_g|| (encoder means), and the task scores the true one,
-distance; both are summed with the judge's TD3 discount. Prints per policy (and per kind of
goal where the task's goals vary, e.g. ball in hand or on the table) the mean of each
return, and for each pair of policies the share of goals on which the latent return prefers
the policy the true return prefers. A reward that ranks a policy that reaches the goals
below one that does not cannot teach the better behaviour, however long RL runs.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from rig.agent import Agent
from rig.checkpoint import Checkpoint, load_checkpoint
from rig.envs import make_vector
from rig.evaluate import SPLIT_KEYS, DoNothingPolicy


def rollout(envs, policy, judge: Agent, horizon: int, seed: int, discount: float) -> dict:
    """Per episode: the discounted latent and true returns, the final true and latent
    distances, and the goal's kind (the first of ``SPLIT_KEYS`` the task reports, else 0)."""
    obs, info = envs.reset(seed=seed)
    policy.set_goal(obs, batched=True)
    goal_latent = judge.encode(obs["image_desired_goal"])
    latent_return, true_return = np.zeros(envs.num_envs), np.zeros(envs.num_envs)
    for t in range(horizon):
        obs, _, _, _, info = envs.step(policy(obs))
        latent = judge.encode(obs["image_observation"])
        latent_distance = np.linalg.norm(latent - goal_latent, axis=1)
        latent_return -= discount**t * latent_distance
        true_return -= discount**t * np.asarray(info["distance"])
    split = next((key for key in SPLIT_KEYS if key in info), None)
    kinds = np.asarray(info[split]) if split else np.zeros(envs.num_envs, int)
    return {
        "latent": latent_return,
        "true": true_return,
        "final": np.asarray(info["distance"]),
        "final_latent": latent_distance,
        "kind": kinds,
        "split": split,
    }


def tables(rows: dict[str, dict]) -> str:
    """Returns per policy and goal kind; then, per pair of policies, how often the two
    returns prefer the same one."""
    first = next(iter(rows.values()))
    kinds = [
        (f"{first['split']} {k}" if first["split"] else "all", first["kind"] == k)
        for k in np.unique(first["kind"])
    ]
    lines = [
        "| policy | goals | n | latent return | true return | final latent distance "
        "| final distance |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        for label, chosen in kinds:
            lines.append(
                f"| {name} | {label} | {int(chosen.sum())} | {r['latent'][chosen].mean():.2f} "
                f"| {r['true'][chosen].mean():.2f} | {r['final_latent'][chosen].mean():.2f} "
                f"| {r['final'][chosen].mean():.3f} |"
            )
    lines += [
        "",
        "| A vs B | goals | true return prefers A | latent return prefers A | agree "
        "| final distance: true prefers A | latent prefers A | agree |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (a, ra), (b, rb) in itertools.combinations(rows.items(), 2):
        for label, chosen in kinds:
            cells = []
            for true, latent in (("true", "latent"), ("final", "final_latent")):
                sign = 1 if true == "true" else -1  # returns: higher is better; distances: lower
                true_a = sign * ra[true][chosen] > sign * rb[true][chosen]
                latent_a = sign * ra[latent][chosen] > sign * rb[latent][chosen]
                cells += [true_a.mean(), latent_a.mean(), (true_a == latent_a).mean()]
            lines.append(
                f"| {a} vs {b} | {label} | " + " | ".join(f"{c:.2f}" for c in cells) + " |"
            )
    return "\n".join(lines)


def load(parser: argparse.ArgumentParser, run: Path) -> Checkpoint:
    try:
        return load_checkpoint(run)
    except (FileNotFoundError, ValueError) as err:
        parser.error(f"{run}: {err}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("judge", type=Path, help="an image run whose latent reward is judged")
    parser.add_argument("runs", type=Path, nargs="*", help="runs whose policies act")
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=10_000, help="goal seed of copy 0")
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    judged = load(parser, args.judge)
    judge = Agent.from_checkpoint(judged)
    if not judge.representation.trainable:
        parser.error(
            f"{args.judge} learned no image encoder; the judge must be a run of rig, lr-ae or dsae"
        )
    task, size = judged.config.env, judged.config.image_size
    checkpoints = {run: load(parser, run) for run in args.runs}
    for run, checkpoint in checkpoints.items():
        if (checkpoint.config.env, checkpoint.config.image_size) != (task, size):
            parser.error(
                f"{run} trained on {checkpoint.config.env!r} at "
                f"{checkpoint.config.image_size} px; the judge on {task!r} at {size} px"
            )
    envs = make_vector(task, args.episodes, image_size=size)
    policies = {"do nothing": DoNothingPolicy(envs.single_action_space)}
    for run, checkpoint in checkpoints.items():
        steps = checkpoint.state.get("counters", {}).get("env_steps", "?")
        policies[f"{run.name} ({steps} steps)"] = Agent.from_checkpoint(checkpoint).goal_policy()
    horizon, discount = envs.spec.max_episode_steps, judged.config.td3.discount
    rows = {
        name: rollout(envs, policy, judge, horizon, args.seed, discount)
        for name, policy in policies.items()
    }
    envs.close()
    print(f"judge: {args.judge} ({task}), discount {discount}, {args.episodes} goals")
    print(tables(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
