"""Rewards computed from latents, recomputed for every relabeled goal."""

from __future__ import annotations

import numpy as np


def latent_distance_reward(next_latent: np.ndarray, goal_latent: np.ndarray) -> np.ndarray:
    """RIG's reward: ``-||z' - z_g||`` (Equation 3 with A = I), one value per row."""
    return -np.linalg.norm(next_latent - goal_latent, axis=-1).astype(np.float32)
