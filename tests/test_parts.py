"""The collector, the learner and the representation training, each alone with small fake
parts: what they pass on, and what they store."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch

from rig.collector import Collector
from rig.config import Config, RepresentationConfig, TD3Config
from rig.learner import Learner
from rig.replay import NOTHING, TransitionBatch
from rig.representation_training import RepresentationTraining
from rig.vae_trainer import VAETrainer


# ----- the learner ----------------------------------------------------------------------------
def fixed_batch(n=4, width=3) -> TransitionBatch:
    rng = np.random.default_rng(0)
    return TransitionBatch(
        episode=np.arange(n),
        t=np.zeros(n, np.int64),
        features=rng.normal(size=(n, width)).astype(np.float32),
        next_features=rng.normal(size=(n, width)).astype(np.float32),
        next_achieved=rng.normal(size=(n, width)).astype(np.float32),
        action=rng.normal(size=(n, 2)).astype(np.float32),
        terminal=np.array([False, True, False, False]),
        rollout_goal=np.zeros((n, width), np.float32),
    )


class RecordingTD3:
    """Records each update's tensors; returns the losses it is told to."""

    def __init__(self, losses):
        self.calls, self.losses, self.updates = [], list(losses), 0

    def update(self, obs, action, reward, next_obs, terminal):
        self.calls.append((obs, action, reward, next_obs, terminal))
        self.updates += 1
        return {"td3/critic_loss": torch.tensor(self.losses.pop(0))}


def make_learner(losses, reward_scale=1.0):
    batch = fixed_batch()
    goals = np.full_like(batch.rollout_goal, 7.0)
    buffer = SimpleNamespace(sample=lambda n, images: batch, future_goals=None)
    relabeler = SimpleNamespace(goals=lambda b, future: goals)
    reward = lambda b, g: -np.linalg.norm(b.next_achieved - g, axis=1)  # noqa: E731
    td3 = RecordingTD3(losses)
    config = TD3Config(batch_size=4, reward_scale=reward_scale)
    learner = Learner(td3, buffer, relabeler, reward, config, False, torch.device("cpu"))
    return learner, td3, batch, goals


def test_learner_passes_goal_conditioned_transitions_and_scaled_rewards_to_td3():
    learner, td3, batch, goals = make_learner([1.0], reward_scale=0.5)
    learner.train(1)
    obs, action, reward, next_obs, terminal = (t.numpy() for t in td3.calls[0])
    np.testing.assert_array_equal(obs, np.concatenate([batch.features, goals], axis=1))
    np.testing.assert_array_equal(next_obs, np.concatenate([batch.next_features, goals], axis=1))
    np.testing.assert_array_equal(action, batch.action)
    expected = -0.5 * np.linalg.norm(batch.next_achieved - goals, axis=1)
    np.testing.assert_allclose(reward, expected, rtol=1e-6)
    np.testing.assert_array_equal(terminal, [0.0, 1.0, 0.0, 0.0])


def test_learner_metrics_are_means_over_the_updates_since_last_taken():
    learner, td3, *_ = make_learner([1.0, 3.0, 10.0])
    learner.train(0)
    assert td3.updates == 0
    learner.train(2)
    assert learner.take_metrics() == {"td3/critic_loss": pytest.approx(2.0)}
    learner.train(1)
    assert learner.take_metrics() == {"td3/critic_loss": pytest.approx(10.0)}
    assert learner.take_metrics() == {}


def test_learner_stops_on_a_loss_that_is_not_finite():
    learner, *_ = make_learner([1.0, float("nan")])
    with pytest.raises(FloatingPointError, match="critic_loss became nan"):
        learner.train(2)


# ----- the collector --------------------------------------------------------------------------
class CountingTask(gym.Env):
    """Observations count the steps; episodes end after ``length`` steps."""

    def __init__(self, length=3):
        self.length = length
        box = gym.spaces.Box(-100, 100, (2,), np.float32)
        self.observation_space = gym.spaces.Dict({"observation": box, "desired_goal": box})
        self.action_space = gym.spaces.Box(-1, 1, (2,), np.float32)
        self.t, self.seeds = 0, []

    def _obs(self):
        return {
            "observation": np.full(2, self.t, np.float32),
            "desired_goal": np.ones(2, np.float32),
        }

    def reset(self, seed=None, options=None):
        self.t = 0
        self.seeds.append(seed)
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), 0.0, self.t >= self.length, False, {}


class RecordingBuffer:
    def __init__(self):
        self.starts, self.steps = [], []

    def start_episode(self, *args):
        self.starts.append(args)

    def add_step(self, *args):
        self.steps.append(args)


class FakeAgent:
    """Features are the observation itself; the policy returns the goal minus the features."""

    representation = SimpleNamespace(
        reads_images=False,
        observation_key="observation",
        goal_key="desired_goal",
        achieved_key="observation",
    )

    def encode_entry(self, observation, key):
        return observation[key][None].astype(np.float32)

    def decode(self, latents):
        return np.full((len(latents), 4, 4, 3), 9, np.uint8)

    def act_latent(self, features, goal):
        return goal - features


class AddHalf:
    """Exploration noise that adds 0.5 to every action."""

    def reset(self):
        pass

    def __call__(self, action):
        return action + 0.5


def make_collector(rollout_goals):
    env, buffer = CountingTask(), RecordingBuffer()
    imagined = SimpleNamespace(sample=lambda n: np.full((n, 2), 4.0, np.float32))
    collector = Collector(
        env, FakeAgent(), buffer, AddHalf(), imagined, rollout_goals, np.random.default_rng(0)
    )
    return collector, env, buffer


@pytest.mark.parametrize("rollout_goals", ["prior", "env"])
def test_collector_stores_an_episode_toward_its_goal(rollout_goals):
    collector, env, buffer = make_collector(rollout_goals)
    collector.start_episode()
    steps = 1
    while not collector.step():
        steps += 1
    assert steps == env.length and len(buffer.steps) == env.length
    frame, latent, goal, goal_image, achieved = buffer.starts[0]
    expected_goal = [4.0, 4.0] if rollout_goals == "prior" else [1.0, 1.0]
    np.testing.assert_array_equal(goal, expected_goal)
    np.testing.assert_array_equal(latent, [0.0, 0.0])
    if rollout_goals == "prior":  # the imagined goal's decoded image is stored with it
        assert goal_image.shape == (4, 4, 3) and (goal_image == 9).all()
    assert frame is NOTHING and achieved is NOTHING  # a task without a camera
    for t, (action, _, next_latent, terminal, _) in enumerate(buffer.steps):
        np.testing.assert_allclose(action, np.array(expected_goal) - t + 0.5)
        np.testing.assert_array_equal(next_latent, [t + 1.0, t + 1.0])
        assert terminal == (t + 1 == env.length)


def test_collector_draws_each_reset_seed_from_the_run_generator():
    collector, env, _ = make_collector("env")
    for _ in range(2):
        collector.start_episode()
    rng = np.random.default_rng(0)
    assert env.seeds == [int(rng.integers(2**31)) for _ in range(2)]


# ----- the representation training ----------------------------------------------------------
class ScaledBrightness(torch.nn.Module):
    """A learned representation of one weight: features are the weight times each image's
    mean pixel; training shrinks the weight (its loss is the squared feature)."""

    trainable = True

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(()))

    def features(self, images: np.ndarray) -> np.ndarray:
        brightness = images.reshape(len(images), -1).mean(axis=1, dtype=np.float32)[:, None]
        return brightness * self.weight.item()

    def loss(self, images: torch.Tensor, beta: float) -> dict[str, torch.Tensor]:
        square = (self.weight * images.mean()) ** 2
        return {"loss": square, "recon": square}


class LatentBuffer:
    """Replay images, and the latents it was last re-encoded with."""

    num_frames = 8

    def __init__(self, images):
        self.images, self.latents = images, None

    def sample_images(self, n):
        return self.images[:n]

    def refresh_latents(self, encode):
        self.latents = encode(self.images)

    def stored_latents(self):
        return self.latents


def make_representation_training(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(20, 4, 4, 3), dtype=np.uint8)
    config = Config(
        vae=RepresentationConfig(finetune_every_episodes=5, finetune_steps=3, batch_size=4)
    )
    fitted = []
    imagined = SimpleNamespace(fit=lambda dataset, stored: fitted.append((dataset, stored)))
    no_state = SimpleNamespace(observation_space=gym.spaces.Dict({}))
    representation, buffer, rng = (
        ScaledBrightness(),
        LatentBuffer(images[:8]),
        np.random.default_rng(0),
    )
    training = RepresentationTraining(
        config, representation, buffer, imagined, None, no_state, tmp_path, rng, progress=False
    )
    training.dataset = images
    training.trainer = VAETrainer(representation, images, config.vae, rng)
    return training, representation, buffer, fitted


def test_fine_tuning_changes_the_representation_then_re_encodes_the_buffer_and_refits_goals(
    tmp_path,
):
    training, representation, buffer, fitted = make_representation_training(tmp_path)
    assert not training.finetune_due(episodes=4, env_steps=400)
    assert training.finetune_due(episodes=5, env_steps=500)
    training.finetune(episodes=5, env_steps=500)
    assert representation.weight.item() < 1.0 and training.trainer.steps_trained == 3
    np.testing.assert_allclose(buffer.latents, representation.features(buffer.images))
    dataset_latents, stored = fitted[-1]
    np.testing.assert_allclose(dataset_latents, representation.features(training.dataset))
    assert stored is buffer.latents
    assert training.last_finetune == (5, 500)
    assert not training.finetune_due(episodes=9, env_steps=900)
    assert training.finetune_due(episodes=10, env_steps=1000)


def test_representation_metrics_average_every_fine_tune_since_they_were_last_taken(tmp_path):
    training, *_ = make_representation_training(tmp_path)
    assert training.take_metrics() == {}
    training.finetune(episodes=5, env_steps=500)
    training.finetune(episodes=10, env_steps=1000)
    taken = training.take_metrics()
    assert set(taken) == {"vae/train_loss", "vae/train_recon", "vae/test_loss", "vae/test_recon"}
    assert set(training.take_metrics()) == {"vae/test_loss", "vae/test_recon"}
