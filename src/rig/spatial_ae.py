"""Deep spatial autoencoder (Finn et al., 2016): the DSAE baseline's representation.

Convolutions end in a spatial softmax; the expected image coordinates of each
of the last layer's ``C`` channels are the "feature points", a ``2C``-vector.
A linear decoder reconstructs a half-resolution grayscale image from them.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rig.vae import encode_in_batches


class SpatialSoftmax(nn.Module):
    """(N, C, H, W) feature maps to (N, 2C) expected (x, y) coordinates in [-1, 1]."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        n, c, h, w = features.shape
        attention = F.softmax(features.reshape(n, c, h * w), dim=-1).reshape(n, c, h, w)
        xs = torch.linspace(-1.0, 1.0, w, device=features.device)
        ys = torch.linspace(-1.0, 1.0, h, device=features.device)
        x = (attention.sum(dim=2) * xs).sum(dim=-1)
        y = (attention.sum(dim=3) * ys).sum(dim=-1)
        return torch.stack([x, y], dim=-1).reshape(n, 2 * c)


class SpatialAutoencoder(nn.Module):
    """Feature points of an image (``latent_dim`` = 2 x number of points)."""

    observation_key = achieved_key = "image_observation"
    goal_key = "image_desired_goal"
    trainable = True
    reads_images = False

    def __init__(self, image_size: int = 48, latent_dim: int = 32):
        super().__init__()
        if latent_dim % 2:
            raise ValueError(
                f"a spatial autoencoder needs an even latent_dim (2 per point), got {latent_dim}"
            )
        self.image_size = image_size
        self.latent_dim = self.goal_dim = latent_dim
        self.target_size = image_size // 2
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, 5, stride=2),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, latent_dim // 2, 3),
            SpatialSoftmax(),
        )
        self.decoder = nn.Linear(latent_dim, self.target_size**2)

    def _target(self, x: torch.Tensor) -> torch.Tensor:
        """The half-resolution grayscale image the decoder reconstructs."""
        return F.avg_pool2d(x.mean(dim=1, keepdim=True), 2).flatten(1)

    def decode(self, points: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(points))

    def loss(self, x: torch.Tensor, beta: float = 0.0) -> dict[str, torch.Tensor]:
        """Squared reconstruction error per image, batch mean (``beta`` is unused)."""
        recon = (self.decode(self.encoder(x)) - self._target(x)).pow(2).sum(dim=1).mean()
        return {"loss": recon, "recon": recon}

    def features(self, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Feature points of uint8 images (N, H, W, 3), float32 (N, latent_dim)."""
        device = next(self.parameters()).device
        return encode_in_batches(self.encoder, images, self.latent_dim, device, batch_size)

    @torch.no_grad()
    def decode_to_images(self, points: np.ndarray) -> np.ndarray:
        """Reconstructions, upsampled to full size and shown as gray RGB uint8 images."""
        device = next(self.parameters()).device
        gray = self.decode(torch.as_tensor(points, dtype=torch.float32, device=device))
        gray = gray.reshape(-1, self.target_size, self.target_size).cpu().numpy()
        gray = gray.repeat(2, axis=1).repeat(2, axis=2)
        return np.repeat((gray[..., None] * 255).round().astype(np.uint8), 3, axis=-1)
