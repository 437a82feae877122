"""Representations, rewards and networks used by the baselines and ablations."""

import numpy as np
import pytest
import torch

from rig.agent import Agent
from rig.config import Config, RelabelConfig, TD3Config
from rig.pixel_networks import pixel_actor_critic
from rig.representations import RawPixels, StateIdentity, make_networks, make_representation
from rig.reward import log_prob_reward, mahalanobis_reward, pixel_mse_reward
from rig.run import build_run
from rig.spatial_ae import SpatialAutoencoder, SpatialSoftmax
from rig.td3 import TD3
from rig.vae import ConvVAE, FittedPrior, images_to_tensor


def test_log_prob_reward_is_the_goals_log_density_under_the_encoder():
    next_z = np.array([[1.0, 2.0], [0.0, 0.0]], np.float32)
    goal = np.array([[0.0, 0.0], [0.0, 0.0]], np.float32)
    variance = np.array([[0.5, 4.0], [1.0, 1.0]], np.float32)
    expected = [
        sum(norm_log_pdf(g, mean=z, variance=v) for z, g, v in zip(*rows, strict=True))
        for rows in zip(next_z, goal, variance, strict=True)
    ]
    np.testing.assert_allclose(log_prob_reward(next_z, np.log(variance), goal), expected, rtol=1e-6)


def test_mahalanobis_reward_is_minus_the_precision_weighted_norm():
    next_z = np.array([[1.0, 2.0], [0.0, 0.0]], np.float32)
    goal = np.zeros_like(next_z)
    log_var = np.log(np.array([[0.5, 4.0], [1.0, 1.0]], np.float32))
    np.testing.assert_allclose(
        mahalanobis_reward(next_z, log_var, goal), [-np.sqrt(1 / 0.5 + 4 / 4.0), 0.0], rtol=1e-6
    )


def norm_log_pdf(x: float, mean: float, variance: float) -> float:
    """The textbook Gaussian log-density, written out apart from the code under test."""
    return -((x - mean) ** 2) / (2 * variance) - 0.5 * np.log(2 * np.pi * variance)


def test_pixel_mse_reward_scales_pixels_to_unit_range():
    a = np.zeros((2, 4, 4, 3), np.uint8)
    b = np.zeros((2, 4, 4, 3), np.uint8)
    b[0] = 255
    b[1, 0, 0, 0] = 255
    np.testing.assert_allclose(pixel_mse_reward(a, b), [-1.0, -1.0 / 48], rtol=1e-6)


def test_spatial_softmax_finds_the_peak_of_each_channel():
    maps = torch.full((1, 2, 5, 9), -50.0)
    maps[0, 0, 0, 8] = 50.0  # top right: x = 1, y = -1
    maps[0, 1, 2, 4] = 50.0  # centre
    points = SpatialSoftmax()(maps)[0]
    np.testing.assert_allclose(points.numpy(), [1.0, -1.0, 0.0, 0.0], atol=1e-4)


def test_spatial_autoencoder_shapes_and_learns():
    torch.manual_seed(0)
    model = SpatialAutoencoder(48, latent_dim=8)
    images = np.random.default_rng(0).integers(0, 256, (6, 48, 48, 3), dtype=np.uint8)
    assert model.features(images).shape == (6, 8)
    assert model.decode_to_images(model.features(images)).shape == (6, 48, 48, 3)
    x = images_to_tensor(images)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = model.loss(x)["loss"].item()
    for _ in range(30):
        loss = model.loss(x)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.8 * first


def test_plain_autoencoder_has_no_kl_and_decodes_its_mean():
    torch.manual_seed(0)
    ae = ConvVAE(48, 4, variational=False)
    x = images_to_tensor(np.random.default_rng(1).integers(0, 256, (3, 48, 48, 3), dtype=np.uint8))
    losses = ae.loss(x, beta=5.0)
    assert set(losses) == {"loss", "recon"}
    torch.testing.assert_close(ae.loss(x, beta=5.0)["loss"], losses["loss"])  # deterministic


def test_pixel_networks_share_one_encoder_trained_by_the_critic_only():
    actor, critic = pixel_actor_critic(48, 2, (32, 32), [1.0, 1.0])
    assert actor.encoder is critic.encoder
    td3 = TD3(0, 2, [1.0, 1.0], TD3Config(hidden_sizes=(32, 32)), networks=(actor, critic))
    encoder_ids = {id(p) for p in actor.encoder.parameters()}
    actor_trained = {id(p) for g in td3.actor_optimizer.param_groups for p in g["params"]}
    assert not encoder_ids & actor_trained
    stacked = torch.randint(0, 256, (5, 48, 48, 6), dtype=torch.uint8)
    assert actor(stacked).shape == (5, 2)
    before = [p.clone() for p in actor.encoder.parameters()]
    td3.update(stacked, torch.zeros(5, 2), torch.ones(5), stacked, torch.zeros(5))
    assert any(not torch.equal(b, p) for b, p in zip(before, actor.encoder.parameters()))


def test_state_representation_and_agent_validate_state_inputs():
    config = Config(representation="state", rollout_goals="env", relabel=RelabelConfig(0, 0.5, 0.5))
    representation = make_representation(config, state_dim=2)
    assert isinstance(representation, StateIdentity)
    actor, _ = make_networks(config, representation, 2, [1.0, 1.0])
    agent = Agent(representation, actor, FittedPrior.standard(2))
    assert agent.act(np.zeros(2), np.ones(2)).shape == (2,)
    with pytest.raises(ValueError, match=r"state must have shape \(2,\)"):
        agent.act(np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="needs a task with state_observation"):
        make_representation(config, state_dim=0)


def test_pixel_agent_acts_on_images():
    config = Config(
        method="her-pixel",
        representation="pixels",
        reward="pixel-mse",
        rollout_goals="env",
        relabel=RelabelConfig(0, 0.8, 0),
    )
    representation = make_representation(config, state_dim=2)
    assert isinstance(representation, RawPixels)
    actor, _ = make_networks(config, representation, 2, [1.0, 1.0])
    agent = Agent(representation, actor, FittedPrior.standard(1))
    image = np.zeros((48, 48, 3), np.uint8)
    assert agent.act(image, image).shape == (2,)


def test_evaluation_task_can_differ_from_the_training_task(tmp_path):
    run = build_run(
        Config(env="point", eval_env="point-wall", out=tmp_path), tmp_path, progress=False
    )
    assert run.env.spec.id == "rig/PointReach-v0"
    assert run.eval_env.spec.id == "rig/PointWall-v0"


def test_threads_setting_sets_pytorch_threads(tmp_path):
    before = torch.get_num_threads()
    try:
        build_run(Config(threads=1, out=tmp_path), tmp_path, progress=False)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
