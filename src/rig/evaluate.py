"""Evaluation on the task's own goals: goal states rendered with ``set_to_goal``, then encoded.

True-state metrics (e.g. the final distance) are read from the task's ``info``
at the last step of each episode and averaged; they are never used for training.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import gymnasium as gym
import numpy as np


class Policy(Protocol):
    """Reads the task's observation dicts; ``set_goal`` gets the episode's first one."""

    goal_reconstruction: np.ndarray | None

    def set_goal(self, observation: dict, batched: bool = False) -> None: ...

    def __call__(self, observation: dict) -> np.ndarray: ...

    def final_metrics(self, observation: dict) -> dict[str, float]: ...


@dataclass
class EvalResult:
    metrics: dict[str, float]
    """``eval/final_<key>`` (mean over episodes) and ``eval/final_<key>_std``."""
    per_episode: dict[str, list[float]]
    frames: list[list[np.ndarray]] = field(default_factory=list)
    """Recorded episodes: per step, the panel [observation | goal | goal reconstruction]."""


def evaluate(
    env: gym.Env,
    policy: Policy,
    episodes: int,
    horizon: int,
    seed: int,
    record_episodes: int = 0,
) -> EvalResult:
    """Run ``episodes`` episodes; the same ``seed`` gives the same goals and starts."""
    finals: dict[str, list[float]] = {}
    recordings = []
    obs, info = env.reset(seed=seed)
    for episode in range(episodes):
        if episode > 0:
            obs, info = env.reset()
        policy.set_goal(obs)
        record = episode < record_episodes
        goal_image = obs["image_desired_goal"] if record else None
        frames = []
        for _ in range(horizon):
            if record:
                frames.append(
                    _panel(obs["image_observation"], goal_image, policy.goal_reconstruction)
                )
            obs, _, terminated, truncated, info = env.step(policy(obs))
            if terminated or truncated:
                break
        if record:
            frames.append(_panel(obs["image_observation"], goal_image, policy.goal_reconstruction))
            recordings.append(frames)
        final = {**info, **policy.final_metrics(obs)}
        for key, value in final.items():
            if isinstance(value, (bool, int, float, np.number, np.bool_)):
                finals.setdefault(key, []).append(float(value))
    return EvalResult(_mean_and_std(finals), finals, recordings)


class GoalBlindPolicy:
    """A baseline that ignores observations and goals: one action per episode (or per copy)."""

    goal_reconstruction = None

    def __init__(self, action_space):
        self.action_space = action_space
        self._shape: tuple[int, ...] = ()

    def set_goal(self, observation: dict, batched: bool = False) -> None:
        self._shape = (len(observation["observation"]),) if batched else ()

    def __call__(self, observation: dict) -> np.ndarray:
        return self.actions((*self._shape, *self.action_space.shape))

    def actions(self, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def final_metrics(self, observation: dict) -> dict[str, float]:
        return {}


class DoNothingPolicy(GoalBlindPolicy):
    """Zero actions: the do-nothing baseline (the distance if the policy never moves)."""

    def actions(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape, np.float32)


def evaluate_batched(
    envs: gym.vector.VectorEnv, policy: Policy, horizon: int, seed: int
) -> EvalResult:
    """One episode in each copy of a vector env, all stepped together: ``num_envs`` goals.

    Copy ``i`` is seeded with ``seed + i``, so the same ``seed`` gives the same goals and
    starts. Each copy's metrics are read from ``info`` at its last step (``horizon``, or
    earlier if its episode ends first).
    """
    obs, info = envs.reset(seed=seed)
    policy.set_goal(obs, batched=True)
    final: dict[str, np.ndarray] = {}
    open_ = np.ones(envs.num_envs, dtype=bool)
    for step in range(horizon):
        obs, _, terminated, truncated, info = envs.step(policy(obs))
        ending = open_ & (np.asarray(terminated) | np.asarray(truncated) | (step == horizon - 1))
        if ending.any():
            ends = {**info, **policy.final_metrics(obs)}
            for key, values in ends.items():
                values = np.asarray(values)
                if (
                    key.startswith("_")
                    or values.shape != (envs.num_envs,)
                    or values.dtype == object
                ):
                    continue
                final.setdefault(key, np.full(envs.num_envs, np.nan))[ending] = values[ending]
            open_ &= ~ending
        if not open_.any():
            break
    finals = {key: [float(v) for v in values] for key, values in final.items()}
    return EvalResult(_mean_and_std(finals), finals)


SPLIT_KEYS = ("num_pucks", "goal_in_hand")
"""``info`` entries that sort evaluation episodes into kinds (Figure 6: how many pucks an
episode of ``multi-pusher-variable`` holds; on ``pick-place``, whether the goal holds the
ball in the hand); where one varies, each kind's means are also reported, as
``eval/<key>=<value>/final_<metric>``."""


def split_column(column: str, split: str, value: int) -> str:
    """The column of ``eval/final_<metric>`` over the episodes where ``split`` is ``value``."""
    return column.replace("eval/", f"eval/{split}={value}/", 1)


def split_kinds(columns: Iterable[str], split: str) -> dict[str, int]:
    """Each value of ``split`` that ``columns`` (runs' logged keys) report apart, by the
    label suffix that names it in figures and tables: `` (num_pucks 0)`` -> 0.

    Raises ValueError when there are none: the runs were not evaluated on a task whose
    episodes vary in ``split``."""
    prefix = f"eval/{split}="
    values = sorted({int(c[len(prefix) :].split("/")[0]) for c in columns if c.startswith(prefix)})
    if not values:
        raise ValueError(
            f"no run logged evaluation episodes split by {split!r}; evaluate on a task whose "
            f"episodes vary in it (e.g. --eval-env multi-pusher-variable)"
        )
    return {f" ({split} {v})": v for v in values}


def _mean_and_std(finals: dict[str, list[float]]) -> dict[str, float]:
    """``eval/final_<key>`` (mean over episodes) and ``eval/final_<key>_std``, and the
    means over each kind of episode (``SPLIT_KEYS``)."""
    metrics = {}
    for key, values in finals.items():
        metrics[f"eval/final_{key}"] = float(np.mean(values))
        metrics[f"eval/final_{key}_std"] = float(np.std(values))
    for split in SPLIT_KEYS:
        kinds = np.asarray(finals.get(split, []))
        if len(np.unique(kinds)) < 2:
            continue
        for value in np.unique(kinds).astype(int):
            chosen = kinds == value
            for key, values in finals.items():
                if key == split:
                    continue
                column = split_column(f"eval/final_{key}", split, value)
                metrics[column] = float(np.mean(np.asarray(values)[chosen]))
    return metrics


def _panel(image: np.ndarray, goal: np.ndarray, reconstruction: np.ndarray | None) -> np.ndarray:
    parts = [image, goal] + ([reconstruction] if reconstruction is not None else [])
    gap = np.full((image.shape[0], 2, 3), 255, dtype=np.uint8)
    pieces = []
    for part in parts:
        pieces += [part, gap]
    return np.concatenate(pieces[:-1], axis=1)


def summarize(per_episode: dict[str, list[float]]) -> str:
    """A plain table: metric, mean, std, 95% confidence interval of the mean, episodes."""
    lines = [f"{'metric':<24}{'mean':>10}{'std':>10}{'95% CI':>22}{'n':>6}"]
    for key, values in per_episode.items():
        v = np.asarray(values, dtype=np.float64)
        half = 1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
        ci = f"[{v.mean() - half:.3f}, {v.mean() + half:.3f}]"
        lines.append(f"{key:<24}{v.mean():>10.3f}{v.std():>10.3f}{ci:>22}{len(v):>6}")
    return "\n".join(lines)
