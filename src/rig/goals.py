"""Where goals come from besides the replay buffer: RIG's imagined goals and the task's own.

Both are refreshed whenever the representation changes (after pretraining and every
fine-tuning), since goals live in its feature space.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rig.vae import FittedPrior

Encode = Callable[[np.ndarray], np.ndarray]


class ImaginedGoals:
    """Imagined goals (exploration and ``relabel.prior``), drawn as ``config.imagined_goals``
    says: from a diagonal Gaussian fitted to the latents of stored images (the paper's
    fitted prior), or as the latent of one stored image; ``exploration-*`` use only the
    exploration images, the others the exploration images and the replay buffer."""

    def __init__(self, source: str, latent_dim: int, rng: np.random.Generator):
        self.source = source
        self.rng = rng
        self.prior = FittedPrior.standard(max(latent_dim, 1))
        self.pool: np.ndarray | None = None
        """Latents drawn from (``*-latents`` sources), as of the last fit."""

    def fit(self, exploration_latents: np.ndarray, replay_latents: np.ndarray) -> None:
        """Refit to the latents of the current representation."""
        latents = exploration_latents
        if not self.source.startswith("exploration-"):
            latents = np.concatenate([exploration_latents, replay_latents])
        self.prior = FittedPrior.fit(latents)
        if self.source.endswith("-latents"):
            self.pool = latents.astype(np.float32)

    def sample(self, n: int) -> np.ndarray:
        """``n`` imagined goals ``(n, latent_dim)``."""
        if self.pool is not None:
            return self.pool[self.rng.integers(len(self.pool), size=n)]
        return self.prior.sample(n, self.rng)

    def state_dict(self) -> dict:
        """The fitted prior (read by :meth:`Agent.from_checkpoint` too) and the pool."""
        return {"prior": self.prior.state_dict(), "stored_goal_latents": self.pool}

    def load_state_dict(self, state: dict) -> None:
        self.prior = FittedPrior(**state["prior"])
        self.pool = state.get("stored_goal_latents")


class TaskGoals:
    """A fixed pool of the task's own goals (``relabel.env``): their raw entries (images, or
    states for the oracle) and their features under the current representation."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.raw: np.ndarray | None = None
        """The goals' entries, once drawn from the task (or restored from a checkpoint)."""
        self.features: np.ndarray | None = None

    def state_dict(self) -> dict:
        """The drawn pool (its features follow from the representation)."""
        return {"raw": self.raw}

    def load_state_dict(self, state: dict) -> None:
        self.raw = state["raw"]

    def encode(self, encode: Encode) -> None:
        """(Re-)encode the goals with the current representation."""
        self.features = encode(self.raw)

    def sample(self, n: int) -> np.ndarray:
        """``n`` encoded task goals, drawn with replacement."""
        return self.features[self.rng.integers(len(self.features), size=n)]
