import numpy as np
import pytest

from rig.config import RelabelConfig
from rig.relabel import GoalRelabeler, split_counts
from rig.replay import ReplayBuffer
from rig.reward import latent_distance_reward

H = 10


@pytest.mark.parametrize(
    "fractions,expected",
    [
        ((0.5, 0.5, 0.0), {"rollout": 0, "prior": 64, "future": 64, "env": 0}),
        ((0.0, 0.0, 0.0), {"rollout": 128, "prior": 0, "future": 0, "env": 0}),
        ((0.0, 1.0, 0.0), {"rollout": 0, "prior": 0, "future": 128, "env": 0}),
        ((0.3, 0.3, 0.2), {"rollout": 27, "prior": 38, "future": 38, "env": 25}),
    ],
)
def test_split_counts(fractions, expected):
    prior, future, env = fractions
    assert split_counts(128, RelabelConfig(prior=prior, future=future, env=env)) == expected


def filled_buffer():
    rng = np.random.default_rng(0)
    buffer = ReplayBuffer(100, H, (4, 4, 3), 2, 2, rng)
    for k in range(4):
        image = np.zeros((4, 4, 3), np.uint8)
        buffer.start_episode(image, [k, 0], [100 + k, 100 + k], image)
        for t in range(H):
            buffer.add_step([0, 0], image, [k, t + 1], False)
    return buffer


def test_goals_come_from_each_source_in_the_right_amounts():
    buffer = filled_buffer()
    config = RelabelConfig(prior=0.25, future=0.25, env=0.25)
    relabeler = GoalRelabeler(
        config,
        sample_prior=lambda n: np.full((n, 2), -1.0, np.float32),
        sample_env_goals=lambda n: np.full((n, 2), -2.0, np.float32),
    )
    batch = buffer.sample(64)
    goals = relabeler.goals(batch, buffer.future_goals)
    rollout = goals[:, 0] >= 100
    prior = goals[:, 0] == -1
    env = goals[:, 0] == -2
    future = ~(rollout | prior | env)
    assert rollout.sum() == prior.sum() == env.sum() == future.sum() == 16
    np.testing.assert_array_equal(goals[rollout, 0], 100 + batch.episode[rollout])
    # future goals are later frames of the same episode
    np.testing.assert_array_equal(goals[future, 0], batch.episode[future])
    assert (goals[future, 1] > batch.t[future]).all()


def test_env_strategy_needs_a_goal_source():
    with pytest.raises(ValueError, match="task goals"):
        GoalRelabeler(RelabelConfig(prior=0, future=0, env=0.5), lambda n: None, None)


def test_latent_distance_reward_values():
    next_z = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]], np.float32)
    goal = np.array([[0.0, 0.0], [0.0, 0.0], [2.0, 2.0]], np.float32)
    reward = latent_distance_reward(next_z, goal)
    np.testing.assert_allclose(reward, [0.0, -5.0, -np.sqrt(2)], rtol=1e-6)
    assert reward.dtype == np.float32


def test_future_relabeling_gives_zero_reward_when_goal_is_next_state():
    buffer = filled_buffer()
    relabeler = GoalRelabeler(RelabelConfig(prior=0, future=1.0), lambda n: None)
    batch = buffer.sample(2000)
    goals = relabeler.goals(batch, buffer.future_goals)
    reward = latent_distance_reward(batch.next_features, goals)
    last = batch.t == H - 1  # only one future frame: the next one
    np.testing.assert_array_equal(reward[last], 0.0)
    assert (reward <= 0).all() and (reward < 0).any()


def test_every_relabeling_source_is_a_fraction_of_the_relabel_config():
    from dataclasses import fields

    from rig.relabel import RELABEL_SOURCES

    fractions = {f.name for f in fields(RelabelConfig) if f.type in ("float", float)}
    assert set(RELABEL_SOURCES) == fractions == {"prior", "future", "env"}
