"""Adding a representation takes one class, one registry entry and one method preset: a
fixed random projection of the camera image (a toy, not shipped) trains, checkpoints and
loads like any other."""

import numpy as np
import pytest
import torch
from conftest import train_tiny
from torch import nn

from rig import presets, representations
from rig.agent import Agent
from rig.config import Config
from rig.logger import read_progress


class RandomProjection(nn.Module):
    """Features: the image's pixels times a fixed random matrix (never trained)."""

    observation_key = achieved_key = "image_observation"
    goal_key = "image_desired_goal"
    trainable = False
    reads_images = False

    def __init__(self, image_size: int, latent_dim: int):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        pixels = image_size * image_size * 3
        self.register_buffer("weights", torch.randn(pixels, latent_dim, generator=generator))
        self.latent_dim = self.goal_dim = latent_dim
        self.image_size = image_size

    def features(self, images: np.ndarray) -> np.ndarray:
        flat = torch.as_tensor(np.asarray(images), dtype=torch.float32).reshape(len(images), -1)
        return (flat / 255.0 @ self.weights / flat.shape[1] ** 0.5).numpy()


@pytest.mark.slow
def test_a_registered_representation_trains_checkpoints_and_loads(tmp_path, monkeypatch):
    monkeypatch.setitem(
        representations.REPRESENTATIONS,
        "projection",
        lambda config, state_dim, goal_dim: RandomProjection(config.image_size, 4),
    )
    changes = {
        "representation": "projection",
        "rollout_goals": "env",  # not learned: no fitted prior to imagine goals from
        "relabel.prior": 0.0,
        "relabel.future": 0.5,
        "relabel.env": 0.5,
    }
    method = presets.Method("projection", "toy", "none", changes)
    monkeypatch.setitem(presets.METHODS, "projection", method)

    out = train_tiny(tmp_path / "run", "--method", "projection")
    rows = read_progress(out / "progress.csv")
    assert rows[-1]["env_steps"] == 300
    assert np.isfinite(rows[-1]["eval/final_latent_distance"])
    agent = Agent.load(out)
    assert isinstance(agent.representation, RandomProjection)
    image = np.zeros((48, 48, 3), np.uint8)
    assert agent.act(image, image).shape == (2,)


def test_an_unregistered_representation_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown representation 'projection'; known: vae, ae"):
        Config(representation="projection").validate()
