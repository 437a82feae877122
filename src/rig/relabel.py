"""Goal relabeling: each sampled transition gets a goal from one of four sources.

* rollout: the goal the episode actually pursued;
* prior: a latent sampled from the fitted VAE prior (RIG's imagined goals);
* future: the latent of a later frame of the same episode (HER's "future");
* env: a goal from the task's own goal distribution, rendered and encoded.

The number of goals per source in a batch of ``B`` is ``floor(B * fraction)``;
the remainder keeps the rollout goal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rig.config import RelabelConfig
from rig.replay import TransitionBatch

FutureGoals = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(episode, t) -> goals`` of frames drawn from later in the same episodes."""


@dataclass(frozen=True)
class GoalDraw:
    """What a relabeling source may draw from for ``n`` transitions of a batch."""

    batch: TransitionBatch
    part: slice
    """The transitions (a slice of the batch) that get this source's goals."""
    n: int
    sample_prior: Callable[[int], np.ndarray]
    sample_env_goals: Callable[[int], np.ndarray] | None
    sample_future: FutureGoals


RELABEL_SOURCES: dict[str, Callable[[GoalDraw], np.ndarray]] = {
    "prior": lambda d: d.sample_prior(d.n),
    "future": lambda d: d.sample_future(d.batch.episode[d.part], d.batch.t[d.part]),
    "env": lambda d: d.sample_env_goals(d.n),
}
"""Relabeling sources by name, in batch order after the rollout goals; each name is a
fraction of :class:`~rig.config.RelabelConfig`. A new source is one entry and one field."""

SOURCES = ("rollout", *RELABEL_SOURCES)


def split_counts(batch_size: int, config: RelabelConfig) -> dict[str, int]:
    """How many goals of a batch come from each source."""
    counts = {
        name: int(np.floor(batch_size * getattr(config, name) + 1e-9)) for name in RELABEL_SOURCES
    }
    rollout = batch_size - sum(counts.values())
    if rollout < 0:
        raise ValueError(f"relabeling fractions sum over 1: {config}")
    return {"rollout": rollout, **counts}


class GoalRelabeler:
    """Replaces the goals of a sampled batch according to :class:`RelabelConfig`.

    Args:
        config: fractions per source.
        sample_prior: ``n -> (n, D)`` latents from the fitted prior.
        sample_env_goals: ``n -> (n, D)`` encoded task goals (needed only if ``config.env > 0``).
    """

    def __init__(
        self,
        config: RelabelConfig,
        sample_prior: Callable[[int], np.ndarray],
        sample_env_goals: Callable[[int], np.ndarray] | None = None,
    ):
        if config.env > 0 and sample_env_goals is None:
            raise ValueError("relabel.env > 0 needs a source of task goals")
        self.config = config
        self.sample_prior = sample_prior
        self.sample_env_goals = sample_env_goals

    def goals(self, batch: TransitionBatch, sample_future: FutureGoals) -> np.ndarray:
        """Relabeled goals for ``batch``, in batch order.

        ``sample_future(episode, t)`` gives the goal of a later frame of each episode
        (e.g. :meth:`ReplayBuffer.future_goals`); goals have the rollout goals' shape.
        """
        counts = split_counts(len(batch.t), self.config)
        goals = batch.rollout_goal.copy()
        start = counts["rollout"]
        for source, draw in RELABEL_SOURCES.items():
            n = counts[source]
            if n:
                part = slice(start, start + n)
                goals[part] = draw(
                    GoalDraw(
                        batch, part, n, self.sample_prior, self.sample_env_goals, sample_future
                    )
                )
                start += n
        return goals
