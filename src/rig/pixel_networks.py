"""TD3 networks that read images: HER on pixels, with the encoder trained through the critic.

Inputs are uint8 tensors (N, H, W, 6): the observation and goal images stacked
on channels. One convolutional encoder embeds each image; the critic's loss
trains it, and the actor reads its output without gradients (as in SAC-AE and
DrQ), so both share one encoder.
"""

from __future__ import annotations

import torch
from torch import nn

from rig.td3 import Actor, TwinCritic
from rig.vae import CHANNELS, KERNELS, STRIDES, conv_output_size


class PixelEncoder(nn.Module):
    """The VAE's convolutional stack, then a linear layer and LayerNorm to ``feature_dim``."""

    def __init__(self, image_size: int, feature_dim: int = 50):
        super().__init__()
        layers, in_ch = [], 3
        for ch, k, s in zip(CHANNELS, KERNELS, STRIDES):
            layers += [nn.Conv2d(in_ch, ch, k, s), nn.ReLU()]
            in_ch = ch
        flat = CHANNELS[-1] * conv_output_size(image_size) ** 2
        self.net = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(flat, feature_dim), nn.LayerNorm(feature_dim)
        )
        self.feature_dim = feature_dim

    def forward(self, stacked: torch.Tensor) -> torch.Tensor:
        """(N, H, W, 6) uint8 observation + goal images to (N, 2 * feature_dim) features."""
        n = stacked.shape[0]
        images = stacked.reshape(*stacked.shape[:3], 2, 3).permute(0, 3, 4, 1, 2)
        images = images.reshape(2 * n, 3, *stacked.shape[1:3]).float().div_(255.0)
        return self.net(images).reshape(n, 2 * self.feature_dim)


class EncodedActor(nn.Module):
    """``pi(images)``: the shared encoder (no gradient) then the MLP actor."""

    def __init__(self, encoder: PixelEncoder, head: Actor):
        super().__init__()
        self.encoder = encoder
        self.head = head

    @property
    def action_scale(self) -> torch.Tensor:
        return self.head.action_scale

    def forward(self, stacked: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            features = self.encoder(stacked)
        return self.head(features)


class EncodedCritic(nn.Module):
    """``Q1, Q2(images, action)``: the shared encoder (trained here) then the twin critic."""

    def __init__(self, encoder: PixelEncoder, head: TwinCritic):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(
        self, stacked: torch.Tensor, action: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.encoder(stacked), action)

    def first(self, stacked: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.head.first(self.encoder(stacked), action)


def pixel_actor_critic(
    image_size: int, action_dim: int, hidden: tuple[int, ...], action_scale, batched: bool = True
) -> tuple[EncodedActor, EncodedCritic]:
    """An actor and a twin critic sharing one :class:`PixelEncoder`."""
    encoder = PixelEncoder(image_size)
    features = 2 * encoder.feature_dim
    return (
        EncodedActor(encoder, Actor(features, action_dim, hidden, action_scale)),
        EncodedCritic(encoder, TwinCritic(features, action_dim, hidden, batched)),
    )
