"""Exploration noise: Ornstein-Uhlenbeck (the paper's choice), Gaussian, epsilon-greedy."""

from __future__ import annotations

import numpy as np

from rig.config import NoiseConfig


class ExplorationNoise:
    """Perturbs policy actions inside ``[low, high]``; :meth:`reset` at each episode start."""

    def __init__(self, config: NoiseConfig, low: np.ndarray, high: np.ndarray, rng):
        self.config = config
        self.low = np.asarray(low, dtype=np.float32)
        self.high = np.asarray(high, dtype=np.float32)
        self.rng = rng
        self.state = np.zeros_like(self.low)

    def reset(self) -> None:
        self.state = np.zeros_like(self.low)

    def __call__(self, action: np.ndarray) -> np.ndarray:
        c = self.config
        scale = (self.high - self.low) / 2
        if c.kind == "ou":
            self.state = (
                self.state
                + c.theta * (0.0 - self.state)
                + c.sigma * self.rng.standard_normal(self.state.shape)
            )
            noisy = action + self.state * scale
        elif c.kind == "gaussian":
            noisy = action + c.sigma * scale * self.rng.standard_normal(action.shape)
        elif c.kind == "epsilon-greedy":
            noisy = (
                self.rng.uniform(self.low, self.high) if self.rng.random() < c.epsilon else action
            )
        else:
            raise ValueError(f"unknown noise kind {c.kind!r}; use ou, gaussian or epsilon-greedy")
        return np.clip(noisy, self.low, self.high).astype(np.float32)
