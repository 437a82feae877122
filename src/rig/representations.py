"""What the policy conditions on: one representation per method family.

Every representation maps a batch of observations (the values of its
``observation_key``, or of ``goal_key`` for goals) to the feature vectors the
TD3 networks see, with ``features(observations)``:

* ``vae``: beta-VAE encoder means (RIG);
* ``ae``: a plain autoencoder's codes (L&R);
* ``spatial-ae``: spatial-softmax feature points (DSAE);
* ``state``: the task's true state, unchanged (the oracle);
* ``pixels``: the raw uint8 images; a convolutional encoder inside the TD3
  networks is trained through the critic (HER on pixels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from torch import nn

from rig.config import Config
from rig.pixel_networks import pixel_actor_critic
from rig.spatial_ae import SpatialAutoencoder
from rig.td3 import Actor, TwinCritic
from rig.vae import ConvVAE


class Representation(Protocol):
    """What the trainer, the learner and the agent use of a representation."""

    observation_key: str
    """The observation entry it reads (``image_observation`` or ``state_observation``)."""
    goal_key: str
    """The goal entry it reads (``image_desired_goal`` or ``state_desired_goal``)."""
    achieved_key: str
    """The entry compared with goals: what an observation achieves (for images, the image
    itself; for states, ``state_achieved_goal``, which a goal environment may make a part
    of a larger observation)."""
    trainable: bool
    """Learned from the exploration images before RL and fine-tuned during it."""
    reads_images: bool
    """Its features are the images themselves: the buffer caches nothing and batches,
    future goals and rollout goals are frames."""
    latent_dim: int
    """Width of its feature vectors (0 for images)."""
    image_size: int
    """Side of the square camera images it reads (representations of images only)."""
    goal_dim: int
    """Width of its goal feature vectors (``latent_dim`` unless the task's goals are a part
    of its state)."""

    def features(self, observations: np.ndarray) -> np.ndarray:
        """Feature vectors (or images) of a batch of observations."""
        ...


def achieved_apart(representation: Representation) -> bool:
    """Whether what an observation achieves is read apart from the observation (a goal
    environment, whose goals are a part of its state), so the buffer caches it apart."""
    return representation.achieved_key != representation.observation_key


class StateIdentity(nn.Module):
    """The true state as features: the state oracle's representation."""

    observation_key = "state_observation"
    goal_key = "state_desired_goal"
    achieved_key = "state_achieved_goal"
    trainable = False
    reads_images = False

    def __init__(self, state_dim: int, goal_dim: int):
        super().__init__()
        self.latent_dim = state_dim
        self.goal_dim = goal_dim

    def features(self, states: np.ndarray) -> np.ndarray:
        """States or goals, as float32 rows."""
        return np.asarray(states, dtype=np.float32).reshape(len(states), -1)


class RawPixels(nn.Module):
    """Images passed through unchanged; the TD3 networks hold the encoder."""

    observation_key = achieved_key = "image_observation"
    goal_key = "image_desired_goal"
    trainable = False
    reads_images = True
    latent_dim = goal_dim = 0

    def __init__(self, image_size: int):
        super().__init__()
        self.image_size = image_size

    def features(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(images, dtype=np.uint8)


RepresentationFactory = Callable[[Config, int, int], nn.Module]
"""``(config, state_dim, goal_dim) -> representation``, untrained: an ``nn.Module`` with the
attributes and ``features`` of :class:`Representation`."""


def _state_identity(config: Config, state_dim: int, goal_dim: int) -> nn.Module:
    if state_dim == 0:
        raise ValueError(
            f"representation 'state' needs a task with state_observation; {config.env} has none"
        )
    return StateIdentity(state_dim, goal_dim)


REPRESENTATIONS: dict[str, RepresentationFactory] = {
    "vae": lambda c, s, g: ConvVAE(c.image_size, c.vae.latent_dim),
    "ae": lambda c, s, g: ConvVAE(c.image_size, c.vae.latent_dim, variational=False),
    "spatial-ae": lambda c, s, g: SpatialAutoencoder(c.image_size, c.vae.latent_dim),
    "state": _state_identity,
    "pixels": lambda c, s, g: RawPixels(c.image_size),
}
"""Every representation by its ``Config.representation`` name; a new one is one entry here
(and a method preset that names it)."""


def make_representation(config: Config, state_dim: int, goal_dim: int | None = None) -> nn.Module:
    """The representation named by ``config.representation``, untrained (``state_dim`` and
    ``goal_dim``: the task's true state and goal widths, 0 if it has none; goals as wide as
    states by default)."""
    factory = REPRESENTATIONS.get(config.representation)
    if factory is None:
        raise ValueError(
            f"unknown representation {config.representation!r}; known: {', '.join(REPRESENTATIONS)}"
        )
    return factory(config, state_dim, state_dim if goal_dim is None else goal_dim)


def make_networks(
    config: Config, representation: nn.Module, action_dim: int, action_scale
) -> tuple[nn.Module, nn.Module]:
    """The TD3 actor and critic for a representation: MLPs on ``[z, z_g]``, or for raw
    pixels, MLPs behind a convolutional encoder that both share."""
    hidden, batched = config.td3.hidden_sizes, config.td3.batched_critics
    if isinstance(representation, RawPixels):
        return pixel_actor_critic(
            representation.image_size, action_dim, hidden, action_scale, batched
        )
    features = representation.latent_dim + representation.goal_dim
    return Actor(features, action_dim, hidden, action_scale), TwinCritic(
        features, action_dim, hidden, batched
    )
