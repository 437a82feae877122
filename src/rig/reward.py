"""Rewards of transitions for their (relabeled) goals: in latent space, or on images."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rig.replay import TransitionBatch
    from rig.representations import Representation


def latent_distance_reward(next_latent: np.ndarray, goal_latent: np.ndarray) -> np.ndarray:
    """RIG's reward: ``-||z' - z_g||`` (Equation 3 with A = I), one value per row."""
    return -np.linalg.norm(next_latent - goal_latent, axis=-1).astype(np.float32)


def log_prob_reward(
    next_latent: np.ndarray, next_log_variance: np.ndarray, goal_latent: np.ndarray
) -> np.ndarray:
    """Figure 4's "Log Probability": ``log q(z_g | s')``, the log-density of the goal under
    the encoder's Gaussian at the next observation (mean ``next_latent``, log-variances
    ``next_log_variance``), one value per row.

    Its quadratic part, ``-(z' - z_g)^T A (z' - z_g) / 2`` with ``A`` the encoder's
    precision, is rlkit's ``vae_mdist``; the rest, ``-(log det(2 pi Sigma)) / 2``, rewards
    observations the encoder is sure of.
    """
    squared = (next_latent - goal_latent) ** 2 * np.exp(-next_log_variance)
    log_density = -0.5 * (squared + next_log_variance + np.log(2 * np.pi))
    return log_density.sum(axis=-1).astype(np.float32)


def mahalanobis_reward(
    next_latent: np.ndarray, next_log_variance: np.ndarray, goal_latent: np.ndarray
) -> np.ndarray:
    """Equation (3) as printed: ``-||z' - z_g||_A``, the Mahalanobis norm with ``A`` the
    encoder's precision at the next observation, one value per row."""
    squared = (next_latent - goal_latent) ** 2 * np.exp(-next_log_variance)
    return -np.sqrt(squared.sum(axis=-1)).astype(np.float32)


_PRECISION_REWARDS = {"log-prob": log_prob_reward, "mahalanobis": mahalanobis_reward}
"""Rewards that read the encoder's variances at the next observation."""


def pixel_mse_reward(next_images: np.ndarray, goal_images: np.ndarray) -> np.ndarray:
    """Minus the mean squared pixel difference, pixels scaled to [0, 1] (uint8 inputs)."""
    diff = (next_images.astype(np.float32) - goal_images.astype(np.float32)) / 255.0
    return -(diff**2).reshape(len(diff), -1).mean(axis=1)


RewardFn = Callable[["TransitionBatch", np.ndarray], np.ndarray]
"""``(batch, goals) -> rewards``: one reward per transition of ``batch`` for its goal."""


@dataclass(frozen=True)
class RewardInputs:
    """What a reward may read besides a batch and its goals: the representation, ``decode``
    (latent goals to images), ``next_images(batch)`` (the frames after the batch's
    transitions) and a goal environment's own ``compute_reward(achieved, desired, info)``."""

    representation: Representation
    decode: Callable[[np.ndarray], np.ndarray]
    next_images: Callable[[TransitionBatch], np.ndarray]
    task_reward: Callable[[np.ndarray, np.ndarray, None], np.ndarray] | None = None


def _task(inputs: RewardInputs) -> RewardFn:
    task_reward = inputs.task_reward
    if task_reward is None:
        raise ValueError("reward 'task' needs a task with compute_reward (a goal environment)")
    return lambda batch, goals: np.asarray(
        task_reward(batch.next_achieved, goals, None), np.float32
    )


def _precision(kind: str) -> Callable[[RewardInputs], RewardFn]:
    def build(inputs: RewardInputs) -> RewardFn:
        reward, rep = _PRECISION_REWARDS[kind], inputs.representation
        return lambda batch, goals: reward(
            batch.next_features, rep.encode_log_variances(inputs.next_images(batch)), goals
        )

    return build


def _pixel_mse(inputs: RewardInputs) -> RewardFn:
    reads_images = inputs.representation.reads_images
    return lambda batch, goals: pixel_mse_reward(
        inputs.next_images(batch), goals if reads_images else inputs.decode(goals)
    )


REWARDS: dict[str, Callable[[RewardInputs], RewardFn]] = {
    "latent-distance": lambda inputs: (
        lambda batch, goals: latent_distance_reward(batch.next_achieved, goals)
    ),
    "task": _task,
    **{kind: _precision(kind) for kind in _PRECISION_REWARDS},
    "pixel-mse": _pixel_mse,
}
"""Every reward by its ``Config.reward`` name: a builder from :class:`RewardInputs` to a
:data:`RewardFn` (``task``: sparse or dense, as the goal environment defines it)."""


def make_reward(kind: str, inputs: RewardInputs) -> RewardFn:
    """The reward ``kind`` (``Config.reward``) in the representation's feature space."""
    if kind not in REWARDS:
        raise ValueError(f"unknown reward {kind!r}; known: {', '.join(REWARDS)}")
    return REWARDS[kind](inputs)
