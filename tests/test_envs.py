import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rig.envs import PointEnv, env_id, make

IMAGE_KEYS = ("image_observation", "image_achieved_goal", "image_desired_goal")
STATE_KEYS = ("state_observation", "state_achieved_goal", "state_desired_goal")


@pytest.mark.parametrize("name", ["point", "point-wall", "rig/PointReach-v0", "rig/PointWall-v0"])
def test_registered_tasks_pass_gymnasium_checker(name):
    env = make(name)
    check_env(env.unwrapped)
    assert env.spec.max_episode_steps == 50


@pytest.mark.parametrize("size", [48, 84])
def test_observation_contract(size):
    env = make("point", image_size=size)
    obs, info = env.reset(seed=1)
    for key in IMAGE_KEYS:
        assert obs[key].shape == (size, size, 3) and obs[key].dtype == np.uint8
    for key in STATE_KEYS:
        assert obs[key].shape == (2,) and obs[key].dtype == np.float32
    np.testing.assert_array_equal(obs["observation"], obs["image_observation"])
    np.testing.assert_array_equal(obs["desired_goal"], obs["image_desired_goal"])
    assert info["distance"] == pytest.approx(
        np.linalg.norm(obs["state_observation"] - obs["state_desired_goal"]), abs=1e-5
    )


def test_state_goal_keys_and_vectorized_reward():
    env = PointEnv(goal_keys="state")
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs["achieved_goal"], obs["state_achieved_goal"])
    achieved = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 4.0]])
    desired = np.zeros((3, 2))
    np.testing.assert_allclose(env.compute_reward(achieved, desired, {}), [0.0, -np.sqrt(2), -5.0])


def test_image_reward_is_minus_pixel_mse():
    env = PointEnv(goal_keys="image")
    a = np.zeros((2, 48, 48, 3), np.uint8)
    d = np.zeros((2, 48, 48, 3), np.uint8)
    d[1] = 255
    np.testing.assert_allclose(env.compute_reward(a, d, {}), [0.0, -1.0])


def test_step_reward_matches_compute_reward():
    env = make("point")
    env.reset(seed=3)
    obs, reward, *_ = env.step(np.array([0.5, -0.5], np.float32))
    assert reward == pytest.approx(
        env.unwrapped.compute_reward(obs["achieved_goal"], obs["desired_goal"], {})
    )


def test_goals_sampled_in_free_space_and_rendered():
    env = PointEnv(wall=True)
    env.reset(seed=0)
    goals = env.sample_goals(500)
    assert goals["state_desired_goal"].shape == (500, 2)
    assert goals["image_desired_goal"].shape == (500, 48, 48, 3)
    assert not env._blocked(goals["state_desired_goal"]).any()
    assert np.abs(goals["state_desired_goal"]).max() <= env.arena_half_size


def test_set_to_goal_renders_goal_state_and_render_goal_restores():
    env = PointEnv()
    obs, _ = env.reset(seed=5)
    goal = obs["state_desired_goal"]
    np.testing.assert_array_equal(env.render_goal(goal), obs["image_desired_goal"])
    np.testing.assert_allclose(env.true_state(), obs["state_observation"])  # restored
    image = env.set_to_goal({"state_desired_goal": goal})
    np.testing.assert_array_equal(image, obs["image_desired_goal"])
    np.testing.assert_allclose(env.true_state(), goal)
    assert env._info()["distance"] == pytest.approx(0.0, abs=1e-6)


def test_point_moves_by_action_and_stays_in_arena():
    env = PointEnv()
    env.reset(seed=0)
    env.set_to_goal(np.array([0.0, 0.0]))
    obs, *_ = env.step(np.array([1.0, -0.5], np.float32))
    np.testing.assert_allclose(obs["state_observation"], [1.0, -0.5], atol=1e-6)
    for _ in range(20):
        obs, *_ = env.step(np.array([1.0, 1.0], np.float32))
    limit = env.arena_half_size - env.point_radius
    np.testing.assert_allclose(obs["state_observation"], [limit, limit], atol=1e-6)


def test_wall_blocks_straight_crossing():
    env = PointEnv(wall=True)
    env.reset(seed=0)
    env.set_to_goal(np.array([0.0, 2.0]))
    for _ in range(10):
        obs, *_ = env.step(np.array([0.0, -1.0], np.float32))
    assert obs["state_observation"][1] > 0  # still above the wall
    env_no_wall = PointEnv(wall=False)
    env_no_wall.reset(seed=0)
    env_no_wall.set_to_goal(np.array([0.0, 2.0]))
    for _ in range(10):
        obs, *_ = env_no_wall.step(np.array([0.0, -1.0], np.float32))
    assert obs["state_observation"][1] < 0


def test_determinism_by_seed():
    def rollout(seed):
        env = make("point-wall")
        obs, _ = env.reset(seed=seed)
        images = [obs["image_observation"]]
        rng = np.random.default_rng(0)
        for _ in range(10):
            obs, *_ = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
            images.append(obs["image_observation"])
        return np.stack(images), obs["state_desired_goal"]

    a, b, c = rollout(7), rollout(7), rollout(8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_unknown_task_and_bad_arguments():
    with pytest.raises(ValueError, match=r"unknown task 'nope'.*point-wall"):
        env_id("nope")
    with pytest.raises(ValueError, match="goal_keys"):
        PointEnv(goal_keys="pixels")
    with pytest.raises(ValueError, match="inside the wall"):
        env = PointEnv(wall=True)
        env.reset(seed=0)
        env.set_to_goal(np.array([0.0, 0.0]))


def test_time_limit_truncates():
    env = gym.make("rig/PointReach-v0")
    env.reset(seed=0)
    truncated = False
    for _ in range(50):
        *_, truncated, _ = env.step(env.action_space.sample())
    assert truncated


def test_import_rig_alone_registers_every_task_with_gymnasium():
    import subprocess
    import sys

    code = (
        "import gymnasium, rig; "
        "from rig.envs import TASKS; "
        "print(all(gymnasium.spec(i).max_episode_steps for i in TASKS.values())); "
        "print(gymnasium.make('rig/PointReach-v0').spec.id)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "rig/PointReach-v0"]
