"""What does a pick-and-place policy do with the ball? Per kind of goal (ball in the hand or
on the table): how often it shuts the gripper, how low the hand goes, how often the ball is
lifted, and the final hand and ball distances.

Usage:
    python benchmarks/pick_place_behaviour.py runs/pick-place/rig runs/pick-place/oracle \
        [--episodes 50] [--seed 10000] [--sheet docs/pick_place_finals.png] [--staged 100]

Each run's checkpoint acts on the same goals and starts (vector-env copy i seeded with
seed + i; the defaults are the 50 goals of the training curve of a seed-0 run). Two
references act on them too: "do nothing" (zero actions) and "OU noise" (the default
exploration noise, Table 1's OU process, added to zero actions: what collecting data with an
untrained policy does). The ball counts as lifted when its centre rises 2 cm above its
resting height. ``--sheet`` saves a picture: the first goals that hold the ball (top row),
then each policy's last frame on them, one row per policy. ``--staged N`` also asks each
image run's encoder how far staged end states lie from N goals that hold the ball: the ball
carried 2 cm off, and the ball left on the table under the hand at its goal, fingers shut
(as in the goal image) or open; the latent distance is the reward RIG trains on.
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
from rig.diagnostics import probe_data
from rig.envs import make, make_vector
from rig.envs.mujoco.pick_place import BALL_RADIUS, IN_HAND_HEIGHT
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


CARRY_OFFSET = 0.02
"""How far (m) the staged carried ball and hand lie from their goal."""


def staged_end_states(task, goals: np.ndarray, rng: np.random.Generator) -> dict:
    """Images and true distances of end states staged around goals that hold the ball."""
    staged = {}
    low = np.maximum(task.hand_low, [task.hand_low[0], IN_HAND_HEIGHT + 0.005])  # still held
    for goal in goals:
        direction = rng.normal(size=2)
        carried = goal.copy()
        carried[:2] = goal[:2] + CARRY_OFFSET * direction / np.linalg.norm(direction)
        carried[:2] = np.clip(carried[:2], low, task.hand_high)
        carried[2:] = carried[:2]
        left = goal.copy()
        left[3] = BALL_RADIUS
        for name, state, shut in (
            ("ball carried, 2 cm off", carried, None),
            ("hand at goal, ball on the table, fingers shut", left, True),
            ("hand at goal, ball on the table, fingers open", left, False),
        ):
            task.set_to_goal(state)
            if shut is not None:
                task.set_fingers(shut)
            true = task.metrics(task.true_state(), goal)["distance"]
            staged.setdefault(name, ([], []))[0].append(task.render_image())
            staged[name][1].append(true)
    return {name: (np.stack(images), np.mean(true)) for name, (images, true) in staged.items()}


def staged_table(agents: dict[str, Agent], image_size: int, goals: int, seed: int) -> str:
    """Mean latent distance of each run's encoder from in-hand goals to staged end states."""
    env = make(TASK, image_size=image_size)
    probe = probe_data(env, 4 * goals, seed, pushes=False)
    in_hand = np.flatnonzero(probe.states[:, 3] > IN_HAND_HEIGHT)[:goals]
    staged = staged_end_states(env.unwrapped, probe.states[in_hand], np.random.default_rng(seed))
    env.close()
    lines = [
        f"| encoder | end state ({len(in_hand)} goals in the hand) | true distance "
        "| latent distance |",
        "|---|---|---|---|",
    ]
    for name, agent in agents.items():
        goal_latents = agent.encode(probe.images[in_hand])
        for state, (images, true) in staged.items():
            latent = np.linalg.norm(agent.encode(images) - goal_latents, axis=1).mean()
            lines.append(f"| {name} | {state} | {true:.3f} | {latent:.2f} |")
    return "\n".join(lines)


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
    parser.add_argument("--staged", type=int, default=0, help="goals for the staged table")
    args = parser.parse_args()
    if args.episodes < 1 or args.staged < 0:
        parser.error(f"need --episodes >= 1 and --staged >= 0, got {args.episodes}, {args.staged}")
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
    size = sizes.pop()
    envs = make_vector(TASK, args.episodes, image_size=size)
    horizon = envs.spec.max_episode_steps
    policies = {
        "do nothing": DoNothingPolicy(envs.single_action_space),
        "OU noise": NoisePolicy(envs.single_action_space, args.episodes, args.seed),
    }
    agents = {}
    for run, checkpoint in checkpoints.items():
        steps = checkpoint.state.get("counters", {}).get("env_steps", "?")
        agents[f"{run.name} ({steps} steps)"] = Agent.from_checkpoint(checkpoint)
    policies.update({name: agent.goal_policy() for name, agent in agents.items()})
    rows = {name: rollout(envs, policy, horizon, args.seed) for name, policy in policies.items()}
    envs.close()
    print(table(rows))
    if args.sheet is not None:
        first = next(iter(rows.values()))
        shown = np.flatnonzero(first["in_hand"])[: args.sheet_goals]
        pictures = [first["goal_image"][shown]] + [r["last_frame"][shown] for r in rows.values()]
        iio.imwrite(args.sheet, artifacts.image_grid(pictures))
        print(f"{args.sheet}: goals (top), then the last frame of: " + ", ".join(rows))
    encoders = {name: a for name, a in agents.items() if a.representation.trainable}
    if args.staged and encoders:
        print(staged_table(encoders, size, args.staged, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
