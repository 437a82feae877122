"""Third-party goal environments with state observations: Gymnasium-Robotics' Fetch tasks
(supplementary 9.4) through rig's interface, buffer, reward and training loop."""

import dataclasses
import json

import mujoco
import numpy as np
import pytest

from rig.agent import Agent
from rig.cli import main
from rig.config import Config
from rig.envs import make, robotics
from rig.presets import resolve
from rig.replay import ReplayBuffer

needs_fetch = pytest.mark.skipif(
    not robotics.available(),
    reason=f"gymnasium-robotics is not installed ({robotics.INSTALL_HINT})",
)


def mujoco_version() -> tuple[int, int]:
    major, minor = mujoco.__version__.split(".")[:2]
    return int(major), int(minor)


def test_the_joint_type_check_tells_which_mujoco_needs_the_fix():
    assert robotics.joint_types_compare_with_numpy() == (mujoco_version() < (3, 12))


@needs_fetch
@pytest.mark.parametrize("task", ["FetchReach-v4", "FetchPush-v4", "FetchPickAndPlace-v4"])
def test_fetch_tasks_step_through_rig_with_state_entries_and_metrics(task):
    env = make(task)
    obs, info = env.reset(seed=0)
    for key in ("observation", "achieved_goal", "desired_goal"):
        np.testing.assert_array_equal(obs[f"state_{key}"], obs[key].astype(np.float32))
        assert obs[f"state_{key}"].dtype == np.float32
    obs, _, _, _, info = env.step(env.action_space.sample())
    assert info["success"] in (0.0, 1.0)
    assert info["distance"] == pytest.approx(
        np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"])
    )
    assert env.observation_space.contains(obs)


@needs_fetch
def test_fetch_goals_come_from_resets_and_rewards_from_the_task():
    env = make("FetchReach-v4")
    env.reset(seed=0)
    goals = env.get_wrapper_attr("sample_goals")(20)["state_desired_goal"]
    assert goals.shape == (20, 3) and len(np.unique(goals, axis=0)) == 20
    sparse, dense = (
        make(t).unwrapped.compute_reward for t in ("FetchReach-v4", "FetchReachDense-v4")
    )
    achieved = goals + np.array([0.01, 0.0, 0.0], np.float32)
    far = goals + np.array([0.2, 0.0, 0.0], np.float32)
    np.testing.assert_array_equal(sparse(achieved, goals, None), 0.0)
    np.testing.assert_array_equal(sparse(far, goals, None), -1.0)
    np.testing.assert_allclose(dense(far, goals, None), -0.2, rtol=1e-5)


@needs_fetch
def test_image_methods_refuse_a_task_without_a_camera(tmp_path, capsys):
    assert main(["train", "--env", "FetchReach-v4", "--out", str(tmp_path), "--quiet"]) == 2
    assert "has no camera images: only state-based methods" in capsys.readouterr().err


def test_unknown_fetch_task_names_the_install_command(monkeypatch):
    from rig.envs import env_id

    monkeypatch.setattr(robotics, "available", lambda: False)
    with pytest.raises(ValueError, match=r"rig-rl\[fetch\]"):
        env_id("FetchNoSuchTask-v9")


def test_the_task_reward_needs_the_state_representation():
    with pytest.raises(ValueError, match="reward 'task'"):
        Config(reward="task").validate()
    ours = resolve("her-env-64")
    negative = dataclasses.replace(ours, td3=dataclasses.replace(ours.td3, updates_per_episode=-1))
    with pytest.raises(ValueError, match="updates_per_episode must be >= 0"):
        negative.validate()


def test_figure_12_presets_relabel_as_the_paper_says():
    her, ours = resolve("her-future-64"), resolve("her-env-256")
    assert (her.relabel.future, her.relabel.env, her.relabel.prior) == (0.8, 0.0, 0.0)
    # "Ours": with probability 0.5 HER's future strategy (k = 4), else a goal-space goal.
    assert (ours.relabel.future, ours.relabel.env) == (0.4, 0.5)
    assert (her.td3.updates_per_episode, ours.td3.updates_per_episode) == (64, 256)
    assert her.td3.batch_size == ours.td3.batch_size == 256
    assert her.reward == ours.reward == "task"


def test_buffer_caches_achieved_goals_apart_for_goal_environments():
    rng = np.random.default_rng(0)
    buffer = ReplayBuffer(100, 4, (0,), 2, 5, rng, goal_dim=3, achieved_dim=3)
    assert not buffer.stores_images
    nothing = np.zeros(0, np.uint8)
    buffer.start_episode(nothing, np.full(5, 0.0), np.full(3, -1.0), nothing, np.full(3, 0.0))
    for t in range(1, 5):
        buffer.add_step([t, t], nothing, np.full(5, t), False, np.full(3, 10.0 * t))
    batch = buffer.sample(64)
    assert batch.features.shape == (64, 5) and batch.rollout_goal.shape == (64, 3)
    np.testing.assert_array_equal(batch.next_achieved[:, 0], 10.0 * (batch.t + 1))
    future = buffer.future_goals(batch.episode, batch.t)
    assert future.shape == (64, 3)
    assert np.all(future[:, 0] >= 10.0 * (batch.t + 1)) and np.all(future[:, 0] <= 40.0)


@needs_fetch
@pytest.mark.slow
def test_fetch_reach_trains_with_updates_at_episode_ends(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--env", "FetchReach-v4", "--method", "her-env-64", "--steps", "300"]
    args += ["--learning-starts", "100", "--eval.every-steps", "100", "--eval.episodes", "2"]
    assert main([*args, "--td3.hidden-sizes", "32", "32", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    # 6 episodes of 50 steps; updates after the episodes that end at or after step 100.
    assert summary["td3_updates"] == 64 * 5
    assert summary["eval/final_success"] in (0.0, 0.5, 1.0)  # two episodes, each 0 or 1
    assert not (out / "rollouts.gif").exists()  # no camera, no video
    agent = Agent.load(out)
    env = make("FetchReach-v4")
    obs, _ = env.reset(seed=1)
    action = agent.act(obs["observation"], obs["desired_goal"])
    assert action.shape == (4,) and np.all(np.abs(action) <= 1.0)
