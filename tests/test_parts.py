"""The collector and the learner, each alone with small fake parts: what they pass on, and
what they store."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch

from rig.collector import Collector
from rig.config import TD3Config
from rig.learner import Learner
from rig.replay import NOTHING, TransitionBatch


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
