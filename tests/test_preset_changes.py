"""Each baseline and ablation preset changes one thing from RIG; each test here checks that
one thing on the run's own parts (built from the preset, as ``rig train`` builds them), so
it fails if the preset is set back to RIG's values."""

import copy

import numpy as np
import pytest
import torch

from rig.config import replace_fields
from rig.presets import preset
from rig.relabel import SOURCES
from rig.reward import latent_distance_reward, log_prob_reward, pixel_mse_reward
from rig.run import Run, build_run
from rig.spatial_ae import SpatialAutoencoder
from rig.vae import ConvVAE

SMALL = {
    "env": "point",
    "buffer_size": 2000,
    "exploration.num_images": 64,
    "vae.batch_size": 8,
    "td3.hidden_sizes": (32, 32),
    "td3.batch_size": 100,
    "relabel.env_goal_pool": 16,
}
"""Sizes only: no field that a preset below sets."""


def build(name: str, tmp_path, episodes: int = 2) -> Run:
    """The preset's parts on ``point``, with exploration data, a fitted prior and
    ``episodes`` stored episodes (no training)."""
    run_dir = tmp_path / name
    run_dir.mkdir()
    parts = build_run(replace_fields(preset(name), SMALL), run_dir, progress=False)
    parts.prepare_untrained(episodes)
    return parts


def source_counts(parts: Run, batch_size: int = 100) -> dict[str, int]:
    """How many goals of a batch the run's relabeler takes from each source, told apart by
    marking each source's goals with its own value."""
    batch = parts.buffer.sample(batch_size, parts.learner.reads_images)
    marks = {source: float(i + 1) for i, source in enumerate(SOURCES)}
    shape = batch.rollout_goal.shape[1:]
    batch.rollout_goal[:] = marks["rollout"]
    relabeler = copy.copy(parts.learner.relabeler)
    relabeler.sample_prior = lambda n: np.full((n, *shape), marks["prior"])
    relabeler.sample_env_goals = lambda n: np.full((n, *shape), marks["env"])
    goals = relabeler.goals(batch, lambda e, t: np.full((len(e), *shape), marks["future"]))
    first = goals.reshape(batch_size, -1)[:, 0]
    return {source: int(np.sum(first == mark)) for source, mark in marks.items()}


@pytest.mark.parametrize(
    "name,expected",
    [
        ("rig", {"rollout": 0, "prior": 50, "future": 50, "env": 0}),
        ("relabel-none", {"rollout": 100, "prior": 0, "future": 0, "env": 0}),
        ("relabel-future", {"rollout": 0, "prior": 0, "future": 100, "env": 0}),
        ("relabel-vae", {"rollout": 0, "prior": 100, "future": 0, "env": 0}),
        ("her-pixel", {"rollout": 20, "prior": 0, "future": 80, "env": 0}),
        ("lr-ae", {"rollout": 0, "prior": 0, "future": 50, "env": 50}),
        ("oracle", {"rollout": 0, "prior": 0, "future": 50, "env": 50}),
    ],
)
def test_each_preset_draws_its_relabeled_goals_from_its_own_sources(name, expected, tmp_path):
    assert source_counts(build(name, tmp_path)) == expected


def test_baselines_pursue_the_tasks_goals_and_rig_its_imagined_goals(tmp_path):
    for name, imagined in (("rig", 1), ("lr-ae", 0)):
        parts = build(name, tmp_path, episodes=0)
        drawn = []
        sample = parts.imagined_goals.sample
        parts.imagined_goals.sample = lambda n, sample=sample, drawn=drawn: (
            drawn.append(n) or sample(n)
        )
        parts.collector.start_episode()
        assert len(drawn) == imagined, name


def rewards(parts: Run) -> tuple[np.ndarray, object, np.ndarray]:
    """The run's rewards for a fixed batch and goals, with the batch and goals."""
    torch.manual_seed(0)
    batch = parts.buffer.sample(16, parts.learner.reads_images)
    goals = parts.buffer.sample(16, parts.learner.reads_images).next_features
    return parts.learner.reward(batch, goals), batch, goals


def test_rig_rewards_minus_the_latent_distance(tmp_path):
    r, batch, goals = rewards(build("rig", tmp_path))
    np.testing.assert_allclose(r, -np.linalg.norm(batch.next_features - goals, axis=1), 1e-5)


def test_log_prob_preset_rewards_the_goals_log_density(tmp_path):
    parts = build("rig-log-prob", tmp_path)
    r, batch, goals = rewards(parts)
    log_var = parts.agent.representation.encode_log_variances(parts.buffer.next_images(batch))
    np.testing.assert_allclose(r, log_prob_reward(batch.next_features, log_var, goals), 1e-5)
    assert not np.allclose(r, latent_distance_reward(batch.next_features, goals), atol=1e-3)


@pytest.mark.parametrize("name", ["rig-pixel-mse", "her-pixel"])
def test_pixel_presets_reward_minus_the_pixel_mse(name, tmp_path):
    parts = build(name, tmp_path)
    r, batch, goals = rewards(parts)
    next_images = parts.buffer.next_images(batch)
    goal_images = goals if parts.learner.reads_images else parts.agent.decode(goals)
    np.testing.assert_allclose(r, pixel_mse_reward(next_images, goal_images), 1e-5)
    assert np.all(r <= 0) and not np.allclose(r, r[0])


def vae_steps_before_rl(parts: Run) -> int:
    training = parts.representation_training
    training.pretrain(lambda: None, lambda: False)
    return training.trainer.steps_trained


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,pretrained,fine_tuned",
    [
        ("rig", 1000, True),
        ("vae-frozen", 1000, False),
        ("vae-online", 0, True),
        ("vae-untrained", 0, False),
    ],
)
def test_vae_presets_train_the_vae_before_and_during_rl_as_named(
    name, pretrained, fine_tuned, tmp_path
):
    parts = build(name, tmp_path, episodes=1)
    before = copy.deepcopy(parts.agent.representation.state_dict())
    assert vae_steps_before_rl(parts) == pretrained
    after = parts.agent.representation.state_dict()
    unchanged = all(torch.equal(before[k], after[k]) for k in before)
    assert unchanged == (pretrained == 0)
    assert parts.representation_training.finetune_due(episodes=60, env_steps=6000) == fine_tuned


@pytest.mark.parametrize("name,every_steps", [("vae-online", True), ("rig", False)])
def test_the_online_vae_retrains_every_3000_env_steps_whatever_the_horizon(
    name, every_steps, tmp_path
):
    due = build(name, tmp_path).representation_training.finetune_due
    assert due(episodes=30, env_steps=3000)  # the pusher's horizon, 100
    assert due(episodes=59, env_steps=2950) != every_steps  # point's, 50: rig's K = 20 episodes
    assert due(episodes=20, env_steps=1000) != every_steps


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,encoder,variational",
    [("rig", ConvVAE, True), ("lr-ae", ConvVAE, False), ("dsae", SpatialAutoencoder, None)],
)
def test_learned_baselines_pretrain_their_own_encoder(name, encoder, variational, tmp_path):
    parts = build(name, tmp_path, episodes=1)
    representation = parts.agent.representation
    assert type(representation) is encoder and representation.trainable
    assert getattr(representation, "variational", None) == variational
    before = copy.deepcopy(representation.state_dict())
    vae_steps_before_rl(parts)
    after = representation.state_dict()
    assert not all(torch.equal(before[k], after[k]) for k in before)


def test_oracle_reads_true_states_and_trains_no_encoder(tmp_path):
    parts = build("oracle", tmp_path, episodes=1)
    representation = parts.agent.representation
    assert not representation.trainable and not representation.reads_images
    batch = parts.buffer.sample(8)
    assert batch.features.shape[1] == parts.spaces.state_dim


def test_her_on_pixels_trains_its_conv_encoder_through_the_critic(tmp_path):
    parts = build("her-pixel", tmp_path)
    assert not parts.agent.representation.trainable and parts.learner.reads_images
    critic = parts.learner.td3.critic
    convs = [p for n, p in critic.named_parameters() if "conv" in n or "encoder" in n]
    assert convs, [n for n, _ in critic.named_parameters()]
    before = [p.detach().clone() for p in convs]
    parts.learner.train(2)
    assert any(not torch.equal(b, p) for b, p in zip(before, convs, strict=True))
