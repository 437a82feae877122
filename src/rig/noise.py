"""Exploration noise: Ornstein-Uhlenbeck (the paper's choice), Gaussian, epsilon-greedy.

Each kind is a subclass of :class:`ExplorationNoise` registered by name in :data:`NOISES`;
``noise.kind`` in a configuration picks one, and a new kind is one class and one entry.
"""

from __future__ import annotations

import numpy as np

from rig.config import NoiseConfig


class ExplorationNoise:
    """Perturbs policy actions inside ``[low, high]``; :meth:`reset` at each episode start."""

    def __init__(self, config: NoiseConfig, low: np.ndarray, high: np.ndarray, rng):
        self.config = config
        self.low = np.asarray(low, dtype=np.float32)
        self.high = np.asarray(high, dtype=np.float32)
        self.scale = (self.high - self.low) / 2
        """Half-width of the action box: the unit of ``sigma``."""
        self.rng = rng

    def reset(self) -> None:
        """A new episode starts (stateless kinds ignore it)."""

    def __call__(self, action: np.ndarray) -> np.ndarray:
        return np.clip(self.perturb(action), self.low, self.high).astype(np.float32)

    def perturb(self, action: np.ndarray) -> np.ndarray:
        """The noisy action, before clipping into the action box."""
        raise NotImplementedError


class OrnsteinUhlenbeck(ExplorationNoise):
    """Temporally correlated noise, ``x' = x + theta (0 - x) + sigma e``, reset each episode."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reset()

    def reset(self) -> None:
        self.state = np.zeros_like(self.low)

    def perturb(self, action: np.ndarray) -> np.ndarray:
        c = self.config
        noise = self.rng.standard_normal(self.state.shape)
        self.state = self.state + c.theta * (0.0 - self.state) + c.sigma * noise
        return action + self.state * self.scale


class Gaussian(ExplorationNoise):
    """Independent normal noise of scale ``sigma`` at every step."""

    def perturb(self, action: np.ndarray) -> np.ndarray:
        return action + self.config.sigma * self.scale * self.rng.standard_normal(action.shape)


class EpsilonGreedy(ExplorationNoise):
    """A uniformly random action with probability ``epsilon``, else the policy's."""

    def perturb(self, action: np.ndarray) -> np.ndarray:
        if self.rng.random() < self.config.epsilon:
            return self.rng.uniform(self.low, self.high)
        return action


NOISES: dict[str, type[ExplorationNoise]] = {
    "ou": OrnsteinUhlenbeck,
    "gaussian": Gaussian,
    "epsilon-greedy": EpsilonGreedy,
}
"""Exploration noise kinds by the name ``noise.kind`` gives."""


def make_noise(config: NoiseConfig, low: np.ndarray, high: np.ndarray, rng) -> ExplorationNoise:
    """The exploration noise ``config.kind`` names, for actions in ``[low, high]``."""
    kind = NOISES.get(config.kind)
    if kind is None:
        raise ValueError(f"unknown noise kind {config.kind!r}; known: {', '.join(NOISES)}")
    return kind(config, low, high, rng)
