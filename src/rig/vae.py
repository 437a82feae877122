"""Convolutional beta-VAE with a Bernoulli decoder, and the fitted latent prior."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CHANNELS = (16, 32, 64)
KERNELS = (5, 3, 3)
STRIDES = (3, 2, 2)
DECODER_LAST_KERNEL = 6


def conv_output_size(size: int) -> int:
    """Spatial side of the encoder's last feature map for a square input."""
    for kernel, stride in zip(KERNELS, STRIDES):
        size = (size - kernel) // stride + 1
    return size


def images_to_tensor(images: np.ndarray | torch.Tensor, device: str | torch.device = "cpu"):
    """uint8 images (N, H, W, 3) to float tensors (N, 3, H, W) in [0, 1]."""
    tensor = torch.as_tensor(images, device=device)
    if tensor.dtype != torch.uint8:
        raise TypeError(f"images must be uint8, got {tensor.dtype}")
    if tensor.ndim != 4 or tensor.shape[-1] != 3:
        raise ValueError(f"images must have shape (N, H, W, 3), got {tuple(tensor.shape)}")
    return tensor.permute(0, 3, 1, 2).float().div_(255.0)


@torch.no_grad()
def encode_in_batches(
    encode, images: np.ndarray, latent_dim: int, device: torch.device, batch_size: int = 1024
) -> np.ndarray:
    """``encode`` (float image tensors to latents) over uint8 images (N, H, W, 3), in batches."""
    out = np.empty((len(images), latent_dim), dtype=np.float32)
    for start in range(0, len(images), batch_size):
        batch = images_to_tensor(images[start : start + batch_size], device)
        out[start : start + len(batch)] = encode(batch).cpu().numpy()
    return out


class ConvVAE(nn.Module):
    """The original RIG encoder/decoder: conv 5/3/3, 16/32/64 channels, strides 3/2/2.

    48x48 inputs give a 3x3x64 feature map (84x84: 6x6x64); the decoder mirrors
    the encoder and ends with a 6x6 stride-3 transposed convolution producing
    per-pixel Bernoulli logits.
    """

    observation_key = achieved_key = "image_observation"
    goal_key = "image_desired_goal"
    trainable = True
    reads_images = False

    def __init__(self, image_size: int = 48, latent_dim: int = 4, variational: bool = True):
        super().__init__()
        self.image_size = image_size
        self.latent_dim = self.goal_dim = latent_dim
        self.variational = variational
        side = conv_output_size(image_size)
        layers, in_ch = [], 3
        for ch, k, s in zip(CHANNELS, KERNELS, STRIDES):
            layers += [nn.Conv2d(in_ch, ch, k, s), nn.ReLU()]
            in_ch = ch
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        self.feature_shape = (CHANNELS[-1], side, side)
        flat = CHANNELS[-1] * side * side
        self.fc_mu = nn.Linear(flat, latent_dim)
        self.fc_logvar = nn.Linear(flat, latent_dim)
        self.fc_decode = nn.Linear(latent_dim, flat)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(CHANNELS[2], CHANNELS[1], KERNELS[2], STRIDES[2]),
            nn.ReLU(),
            nn.ConvTranspose2d(CHANNELS[1], CHANNELS[0], KERNELS[1], STRIDES[1]),
            nn.ReLU(),
            nn.ConvTranspose2d(CHANNELS[0], 3, DECODER_LAST_KERNEL, STRIDES[0]),
        )
        out = self.decoder(torch.zeros(1, *self.feature_shape)).shape[-1]
        if out != image_size:
            raise ValueError(f"image_size {image_size} is not supported (decoder gives {out})")

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | x) for images in [0, 1], (N, 3, H, W)."""
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc_decode(z)).view(-1, *self.feature_shape)
        return self.decoder(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli means (pixel intensities in [0, 1]) for latents z."""
        return torch.sigmoid(self.decode_logits(z))

    def loss(self, x: torch.Tensor, beta: float) -> dict[str, torch.Tensor]:
        """Negative ELBO with a beta-weighted KL; per-image sums, batch means.

        A plain autoencoder (``variational=False``) decodes the mean itself and has no KL term.
        """
        mu, logvar = self.encode(x)
        if not self.variational:
            recon = F.binary_cross_entropy_with_logits(self.decode_logits(mu), x, reduction="sum")
            return {"loss": recon / x.shape[0], "recon": recon / x.shape[0]}
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.decode_logits(z)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()
        return {"loss": recon + beta * kl, "recon": recon, "kl": kl}

    def features(self, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Encoder means for uint8 images (N, H, W, 3), as a float32 array (N, latent_dim)."""
        device = next(self.parameters()).device
        return encode_in_batches(
            lambda x: self.encode(x)[0], images, self.latent_dim, device, batch_size
        )

    @torch.no_grad()
    def encode_log_variances(self, images: np.ndarray) -> np.ndarray:
        """Encoder log-variances for uint8 images (N, H, W, 3) (the log-prob reward's precision)."""
        device = next(self.parameters()).device
        return self.encode(images_to_tensor(images, device))[1].cpu().numpy()

    @torch.no_grad()
    def decode_to_images(self, z: np.ndarray) -> np.ndarray:
        """Decoded latents as uint8 images (N, H, W, 3)."""
        device = next(self.parameters()).device
        x = self.decode(torch.as_tensor(z, dtype=torch.float32, device=device))
        return (x.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)


@dataclass
class FittedPrior:
    """Diagonal Gaussian fitted to encoder means: the paper's "fitted prior"."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, latents: np.ndarray) -> FittedPrior:
        latents = np.asarray(latents, dtype=np.float64)
        if latents.ndim != 2 or len(latents) < 2:
            raise ValueError(f"need at least 2 latents of shape (N, D), got {latents.shape}")
        return cls(latents.mean(0).astype(np.float32), latents.std(0).astype(np.float32))

    @classmethod
    def standard(cls, latent_dim: int) -> FittedPrior:
        """The unit Gaussian, before anything has been fitted."""
        return cls(np.zeros(latent_dim, np.float32), np.ones(latent_dim, np.float32))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return (self.mean + self.std * rng.standard_normal((n, len(self.mean)))).astype(np.float32)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "std": self.std}
