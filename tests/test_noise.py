import numpy as np
import pytest

from rig.config import Config, NoiseConfig
from rig.noise import make_noise

LOW, HIGH = -np.ones(2, np.float32), np.ones(2, np.float32)


def test_ou_noise_has_the_stationary_statistics_of_its_parameters():
    noise = make_noise(
        NoiseConfig("ou", theta=0.15, sigma=0.3), LOW * 100, HIGH * 100, np.random.default_rng(0)
    )
    samples = []
    for _ in range(40000):
        noise(np.zeros(2, np.float32))
        samples.append(noise.state.copy())
    x = np.array(samples)[1000:, 0]
    # x' = (1 - theta) x + sigma e  =>  var = sigma^2 / (1 - (1 - theta)^2), lag-1 corr = 1 - theta
    assert x.mean() == pytest.approx(0.0, abs=0.05)
    assert x.var() == pytest.approx(0.09 / (1 - 0.85**2), rel=0.1)
    assert np.corrcoef(x[:-1], x[1:])[0, 1] == pytest.approx(0.85, abs=0.02)


def test_ou_reset_zeroes_the_state_and_actions_are_clipped():
    noise = make_noise(NoiseConfig("ou", sigma=5.0), LOW, HIGH, np.random.default_rng(0))
    for _ in range(10):
        action = noise(np.zeros(2, np.float32))
        assert (np.abs(action) <= 1).all()
    noise.reset()
    np.testing.assert_array_equal(noise.state, 0)


def test_gaussian_noise_scale():
    noise = make_noise(
        NoiseConfig("gaussian", sigma=0.1), LOW * 10, HIGH * 10, np.random.default_rng(0)
    )
    actions = np.array([noise(np.zeros(2, np.float32)) for _ in range(20000)])
    # sigma is relative to the half-width of the action box (10)
    assert actions.std() == pytest.approx(1.0, rel=0.05)


def test_epsilon_greedy_fraction():
    noise = make_noise(
        NoiseConfig("epsilon-greedy", epsilon=0.3), LOW, HIGH, np.random.default_rng(0)
    )
    policy_action = np.full(2, 0.123, np.float32)
    actions = np.array([noise(policy_action) for _ in range(20000)])
    kept = np.all(actions == policy_action, axis=1).mean()
    assert kept == pytest.approx(0.7, abs=0.02)


def test_an_unknown_noise_kind_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown noise kind 'brownian'; known: ou, gaussian"):
        make_noise(NoiseConfig("brownian"), LOW, HIGH, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown noise kind 'brownian'"):
        Config(noise=NoiseConfig("brownian")).validate()
