"""Does the representation see every object? A probe of latents against the true state.

After each (re)training of the representation, fresh goal states of the task are
rendered and encoded; a small regression (an MLP probe) from latents to the true
state is fitted on part of them and scored on the rest. Each state dimension's
held-out R^2 says how much of it the latents carry: a puck the VAE misses shows
up as a low R^2 long before RL fails to push it. The true state is used for this
report only, never for training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from gymnasium.utils import seeding
from torch import nn

PROBE_SEED_OFFSET = 5000
"""Probe states are drawn with ``evaluation seed + PROBE_SEED_OFFSET``, so that they are not
the evaluation goals (evaluation copy ``i`` is seeded with ``evaluation seed + i``)."""


@dataclass(frozen=True)
class ProbeData:
    """Rendered goal states of a task: ``states`` ``(N, D)`` and their ``images``."""

    states: np.ndarray
    images: np.ndarray
    names: tuple[str, ...]


def state_names(task, dim: int) -> tuple[str, ...]:
    """Names of the task's true-state dimensions (``hand_x``, ``puck0_y``, ...)."""
    names = getattr(task, "state_names", None)
    if names is not None and len(names) == dim:
        return tuple(names)
    return tuple(f"state_{i}" for i in range(dim))


def probe_data(env, n: int, seed: int) -> ProbeData:
    """``n`` goal states of ``env``'s task and their images, drawn with a generator seeded with
    ``seed + PROBE_SEED_OFFSET`` (give the evaluation seed)."""
    task = env.unwrapped
    saved = task.np_random
    task.np_random, _ = seeding.np_random(seed + PROBE_SEED_OFFSET)
    try:
        goals = task.sample_goals(n)
    finally:
        task.np_random = saved
    states = np.asarray(goals["state_desired_goal"], dtype=np.float64)
    return ProbeData(states, goals["image_desired_goal"], state_names(task, states.shape[1]))


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
    generator_state = torch.get_rng_state()
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Linear(x.shape[1], hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, y.shape[1]),
    )
    torch.set_rng_state(generator_state)
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


def representation_report(
    encode: Callable[[np.ndarray], np.ndarray], data: ProbeData
) -> dict[str, float]:
    """``repr/r2_<name>`` for each true-state dimension, and ``repr/r2_min``."""
    r2 = probe_r2(encode(data.images), data.states)
    report = {f"repr/r2_{name}": float(v) for name, v in zip(data.names, r2)}
    report["repr/r2_min"] = float(r2.min())
    return report
