"""A trained RIG agent: encoder, fitted prior and goal-conditioned policy, on raw images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rig.images import check_image
from rig.td3 import Actor
from rig.vae import ConvVAE, FittedPrior


class Agent:
    """Acts from uint8 camera images toward a goal image, through the VAE's latent space."""

    def __init__(self, vae: ConvVAE, actor: Actor, prior: FittedPrior):
        self.vae = vae
        self.actor = actor
        self.prior = prior
        self.device = next(actor.parameters()).device

    @torch.no_grad()
    def encode(self, images: np.ndarray) -> np.ndarray:
        """Encoder means of uint8 images (N, H, W, 3)."""
        return self.vae.encode_images(images)

    @torch.no_grad()
    def act_latent(self, latent: np.ndarray, goal_latent: np.ndarray) -> np.ndarray:
        """Deterministic actions for batches of (z, z_g)."""
        obs = torch.as_tensor(np.concatenate([latent, goal_latent], axis=-1), device=self.device)
        return self.actor(obs).cpu().numpy()

    def act(self, image: np.ndarray, goal_image: np.ndarray) -> np.ndarray:
        """Action for one uint8 HxWx3 observation and goal image."""
        size = self.vae.image_size
        image = check_image(image, size, "image")
        goal_image = check_image(goal_image, size, "goal image")
        z = self.encode(np.stack([image, goal_image]))
        return self.act_latent(z[:1], z[1:])[0]

    def goal_policy(self) -> LatentGoalPolicy:
        return LatentGoalPolicy(self)

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "cpu") -> Agent:
        """Load the agent from a run directory's latest checkpoint."""
        from rig.checkpoint import load_checkpoint

        return load_checkpoint(Path(run_dir), device).agent()


class LatentGoalPolicy:
    """Encodes the goal image once per episode, then acts on each observation image."""

    def __init__(self, agent: Agent):
        self.agent = agent
        self.goal_latent = None
        self.goal_reconstruction = None

    def set_goal(self, goal_image: np.ndarray) -> None:
        self.goal_latent = self.agent.encode(goal_image[None])
        self.goal_reconstruction = self.agent.vae.decode_to_images(self.goal_latent)[0]

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.agent.act_latent(self.agent.encode(image[None]), self.goal_latent)[0]

    def final_metrics(self, image: np.ndarray) -> dict[str, float]:
        """Latent distance between the final observation and the goal (needs no true state)."""
        return {"latent_distance": float(np.linalg.norm(self.agent.encode(image[None]) - self.goal_latent))}


class RandomPolicy:
    """Uniformly random actions; the baseline of the learning benchmark."""

    goal_reconstruction = None

    def __init__(self, action_space, seed: int = 0):
        self.action_space = action_space
        self.rng = np.random.default_rng(seed)

    def set_goal(self, goal_image: np.ndarray) -> None:
        pass

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.rng.uniform(self.action_space.low, self.action_space.high).astype(np.float32)

    def final_metrics(self, image: np.ndarray) -> dict[str, float]:
        return {}

