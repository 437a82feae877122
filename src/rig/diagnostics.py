"""Does the representation see every object, and does its distance reward moving them?

After each (re)training of the representation, fresh goal states of the task are
rendered and encoded, and two questions are answered:

* **R^2** (``repr/r2_<dim>``): a small regression (an MLP probe) from latents to the true
  state is fitted on part of them and scored on the rest. Each dimension's held-out R^2
  says how much of it the latents carry: a puck the VAE misses shows up as a low R^2 long
  before RL fails to push it.
* **Monotonicity** (``repr/monotone_<object>``): each object alone is moved in a straight
  line to its place in a goal state, and the fraction of steps along which the latent
  distance to that goal falls is counted. The latent-distance reward can only teach a push
  it rewards all the way: 1.0 means every step toward the goal is rewarded; a latent space
  that folds (the puck first seems to move *away* from a far goal) scores lower, even at an
  R^2 near 1.
* **Reach** (``repr/reach_<object>``): the fraction of the same moves whose first step
  already lowers the latent distance by a fair share (a quarter) of the move's mean step. A
  latent distance that flattens far from a goal (a VAE's latents saturate) rewards the end of
  a long move but not its start, so RL learns long moves late or never. 1.0: every move is
  guided from its start.

The true state is used for this report only, never for training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from gymnasium.utils import seeding
from torch import nn

PROBE_SEED_OFFSET = 5000
"""Probe states are drawn with ``evaluation seed + PROBE_SEED_OFFSET``, so that they are not
the evaluation goals (evaluation copy ``i`` is seeded with ``evaluation seed + i``)."""


PUSH_STEPS = 8
"""Points (after the start) of each straight-line move of the monotonicity test."""
PUSH_MIN_DISTANCE = 0.05
"""Moves shorter than this (in the task's state units) are left out of that test."""
REACH_FIRST_STEP = 0.25
"""A move is guided from its start if its first step gains at least this share of its mean
step (a latent distance that has flattened far from the goal gains almost nothing there)."""


@dataclass(frozen=True)
class ProbeData:
    """Rendered goal states of a task: ``states`` ``(N, D)`` and their ``images``; and for
    each object, ``pushes[object]``: images ``(M, PUSH_STEPS + 1, H, W, 3)`` of that object
    moved in a straight line to its place in a goal state (the last image is the goal), and
    ``push_lengths[object]``: the length ``(M,)`` of each move."""

    states: np.ndarray
    images: np.ndarray
    names: tuple[str, ...]
    pushes: dict[str, np.ndarray] = field(default_factory=dict)
    push_lengths: dict[str, np.ndarray] = field(default_factory=dict)


def state_names(task, dim: int) -> tuple[str, ...]:
    """Names of the task's true-state dimensions (``hand_x``, ``puck0_y``, ...)."""
    names = getattr(task, "state_names", None)
    if names is not None and len(names) == dim:
        return tuple(names)
    return tuple(f"state_{i}" for i in range(dim))


def probe_data(env, n: int, seed: int, pushes: bool = True) -> ProbeData:
    """``n`` goal states of ``env``'s task and their images, drawn with a generator seeded with
    ``seed + PROBE_SEED_OFFSET`` (give the evaluation seed); ``pushes``: also render each
    object's straight moves to its goal place."""
    task = env.unwrapped
    saved = task.np_random
    task.np_random, _ = seeding.np_random(seed + PROBE_SEED_OFFSET)
    try:
        goals = task.sample_goals(n)
    finally:
        task.np_random = saved
    states = np.asarray(goals["state_desired_goal"], dtype=np.float64)
    names = state_names(task, states.shape[1])
    moves, lengths = {}, {}
    if pushes and hasattr(task, "set_to_goal"):
        for name, dims in object_dimensions(names).items():
            moves[name], lengths[name] = _render_pushes(task.set_to_goal, states, dims)
    return ProbeData(states, goals["image_desired_goal"], names, moves, lengths)


def object_dimensions(names: tuple[str, ...]) -> dict[str, list[int]]:
    """State dimensions grouped by object, from their names: ``hand_x``, ``hand_y`` -> hand;
    names without an object prefix (``x``, ``y``) make one object, ``object``."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(name.rsplit("_", 1)[0] if "_" in name else "object", []).append(i)
    return groups


def _render_pushes(
    render, states: np.ndarray, dims: list[int], pairs: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Images of one object moved from state ``j``'s place to goal ``i``'s, others at goal,
    and the length of each move."""
    n = len(states)
    goal_index = np.arange(n)
    start_index = np.roll(goal_index, n // 2)
    moved = np.linalg.norm(states[start_index][:, dims] - states[:, dims], axis=1)
    chosen = goal_index[moved >= PUSH_MIN_DISTANCE][:pairs]
    fractions = np.linspace(0.0, 1.0, PUSH_STEPS + 1)
    sequences = []
    for i in chosen:
        goal, start = states[i], states[start_index[i]]
        frames = []
        for f in fractions:
            state = goal.copy()
            state[dims] = start[dims] + f * (goal[dims] - start[dims])
            frames.append(render(state))
        sequences.append(np.stack(frames))
    if not sequences:
        return np.zeros((0,), np.uint8), np.zeros(0)
    return np.stack(sequences), moved[chosen]


def probe_r2(
    latents: np.ndarray,
    states: np.ndarray,
    test_fraction: float = 0.25,
    hidden: int = 64,
    steps: int = 500,
    seed: int = 0,
) -> np.ndarray:
    """Held-out R^2 of each state dimension, predicted from ``latents`` by a small MLP.

    Inputs and targets are standardized on the training split; the MLP (two hidden
    layers of ``hidden`` units) is fitted with full-batch Adam for ``steps`` steps.
    R^2 = 1 - SSE / SST on the held-out split (1: fully carried; <= 0: not at all).
    """
    latents = np.asarray(latents, dtype=np.float64)
    states = np.asarray(states, dtype=np.float64)
    if len(latents) != len(states) or len(latents) < 8:
        raise ValueError(
            f"need at least 8 paired latents and states, got {len(latents)}, {len(states)}"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(latents))
    n_test = max(2, round(len(latents) * test_fraction))
    test, train = order[:n_test], order[n_test:]

    def standardize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[train].mean(0), x[train].std(0) + 1e-8

    x_mean, x_std = standardize(latents)
    y_mean, y_std = standardize(states)
    x = torch.as_tensor((latents - x_mean) / x_std, dtype=torch.float32)
    y = torch.as_tensor((states - y_mean) / y_std, dtype=torch.float32)
    net = _probe_network(x.shape[1], hidden, y.shape[1], seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = (net(x[train]) - y[train]).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        predicted = net(x[test]).numpy()
    truth = y[test].numpy()
    sse = ((predicted - truth) ** 2).sum(0)
    sst = ((truth - truth.mean(0)) ** 2).sum(0)
    return 1.0 - sse / np.maximum(sst, 1e-12)


def _probe_network(inputs: int, hidden: int, outputs: int, seed: int) -> nn.Module:
    """A two-hidden-layer MLP initialised from ``seed``, leaving the global torch RNG as it was."""
    generator_state = torch.get_rng_state()
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Linear(inputs, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, outputs),
    )
    torch.set_rng_state(generator_state)
    return net


def report_values(report: dict[str, float], kind: str) -> dict[str, float]:
    """One part of a report by name, without its minimum: ``kind`` ``"r2"`` gives
    ``{"hand_x": ..., ...}``, ``"monotone"`` or ``"reach"`` give ``{"hand": ..., "puck0": ...}``."""
    prefix = f"repr/{kind}_"
    return {
        k.removeprefix(prefix): v
        for k, v in report.items()
        if k.startswith(prefix) and k != f"{prefix}min"
    }


def distances_to_goal(encode: Callable[[np.ndarray], np.ndarray], pushes: np.ndarray) -> np.ndarray:
    """Latent distance ``(M, K + 1)`` from each image of the ``pushes`` to the last (the goal)."""
    m, k = pushes.shape[:2]
    latents = encode(pushes.reshape(m * k, *pushes.shape[2:])).reshape(m, k, -1)
    return np.linalg.norm(latents - latents[:, -1:], axis=-1)


def monotone_fraction(distances: np.ndarray) -> float:
    """Fraction of the steps of the moves along which the latent distance to the goal falls."""
    return float((np.diff(distances, axis=1) < 0).mean())


def reach_fraction(distances: np.ndarray) -> float:
    """Fraction of the moves whose first step lowers the latent distance to the goal by at
    least ``REACH_FIRST_STEP`` of the move's mean step: the moves the reward guides from
    their start, not only once the object is near its goal."""
    mean_step = (distances[:, 0] - distances[:, -1]) / (distances.shape[1] - 1)
    first_step = distances[:, 0] - distances[:, 1]
    return float(((mean_step > 0) & (first_step >= REACH_FIRST_STEP * mean_step)).mean())


def representation_report(
    encode: Callable[[np.ndarray], np.ndarray], data: ProbeData
) -> dict[str, float]:
    """``repr/r2_<name>`` for each true-state dimension and ``repr/r2_min``; with pushes,
    ``repr/monotone_<object>`` and ``repr/reach_<object>`` for each object, and their
    ``_min``."""
    r2 = probe_r2(encode(data.images), data.states)
    report = {f"repr/r2_{name}": float(v) for name, v in zip(data.names, r2)}
    report["repr/r2_min"] = float(r2.min())
    distances = {
        name: distances_to_goal(encode, pushes)
        for name, pushes in data.pushes.items()
        if len(pushes)
    }
    if distances:
        parts = {
            "monotone": {name: monotone_fraction(d) for name, d in distances.items()},
            "reach": {name: reach_fraction(d) for name, d in distances.items()},
        }
        for kind, values in parts.items():
            report.update({f"repr/{kind}_{name}": v for name, v in values.items()})
            report[f"repr/{kind}_min"] = min(values.values())
    return report
