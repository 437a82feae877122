"""CameraGoalTask: any goal env as an image-goal task (a camera, hidden markers, goal images)."""

import warnings
from typing import ClassVar

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from rig.envs import CameraGoalTask, CameraView, check_task, make, robotics
from rig.envs.camera_goal import FETCH_HIDDEN

needs_fetch = pytest.mark.skipif(
    not robotics.available(),
    reason=f"gymnasium-robotics is not installed ({robotics.INSTALL_HINT})",
)


class CanvasWithoutStateAccess(gym.Env):
    """A non-MuJoCo goal env: a dot moved on a 2-D canvas, drawn by its own render()."""

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"]}
    render_mode = "rgb_array"

    def __init__(self):
        box = spaces.Box(0.0, 1.0, (2,), np.float64)
        self.observation_space = spaces.Dict(
            {"observation": box, "achieved_goal": box, "desired_goal": box}
        )
        self.action_space = spaces.Box(-0.1, 0.1, (2,), np.float32)
        self.position, self.goal = np.full(2, 0.5), np.zeros(2)

    def _obs(self):
        return {
            "observation": self.position.copy(),
            "achieved_goal": self.position.copy(),
            "desired_goal": self.goal.copy(),
        }

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position, self.goal = np.full(2, 0.5), self.np_random.uniform(0, 1, 2)
        return self._obs(), {}

    def step(self, action):
        self.position = np.clip(self.position + action, 0, 1)
        return self._obs(), 0.0, False, False, {"is_success": False}

    def render(self):
        canvas = np.zeros((64, 64, 3), np.uint8)
        x, y = (self.position * 60).astype(int)
        canvas[y : y + 4, x : x + 4] = 255
        return canvas


class DotOnACanvas(CanvasWithoutStateAccess):
    """The canvas, with the state access that goal images need."""

    def get_state(self):
        return self.position.copy()

    def set_state(self, state):
        self.position = state.copy()


def put_dot_at_goal(env, goal):
    env.position = np.asarray(goal, float).copy()


def test_a_non_mujoco_env_gets_goal_images_from_its_own_render_and_keeps_its_state():
    task = CameraGoalTask(DotOnACanvas(), reach_goal=put_dot_at_goal, image_size=32)
    check_task(task, 32)
    obs, info = task.reset(seed=3)
    inner = task.unwrapped
    np.testing.assert_array_equal(inner.position, [0.5, 0.5])  # the goal image restored it
    inner.position = inner.goal.copy()
    np.testing.assert_array_equal(obs["image_desired_goal"], task.render_image())
    assert not np.array_equal(obs["image_observation"], obs["image_desired_goal"])
    assert info["distance"] == pytest.approx(np.linalg.norm(inner.goal - 0.5))
    np.testing.assert_array_equal(obs["state_desired_goal"], inner.goal.astype(np.float32))


def test_a_non_mujoco_env_without_state_access_is_refused_in_one_line():
    with pytest.raises(ValueError, match="missing: get_state, set_state"):
        CameraGoalTask(CanvasWithoutStateAccess(), reach_goal=put_dot_at_goal)
    with pytest.raises(ValueError, match="takes no camera"):
        CameraGoalTask(DotOnACanvas(), reach_goal=put_dot_at_goal, camera="top")


@needs_fetch
@pytest.mark.parametrize("name", ["fetch-reach-pixels", "fetch-push-pixels"])
def test_fetch_from_pixels_meets_the_interface_and_passes_gymnasiums_checker(name):
    env = make(name, image_size=48)
    check_task(env, 48)
    task = env
    while not isinstance(task, CameraGoalTask):
        task = task.env
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(task, skip_render_check=True)  # also: the same seed gives the same goal image
    expected = ("infinity", "different from the unwrapped")  # Fetch's state bounds; a wrapper
    ours = [str(w.message) for w in caught if not any(e in str(w.message) for e in expected)]
    assert not ours
    obs, info = env.reset(seed=0)
    assert "distance" in info
    next_obs, *_ = env.step(env.action_space.sample())
    for key in ("image_observation", "image_desired_goal"):
        assert not np.shares_memory(obs[key], next_obs[key])
    assert obs["image_observation"] is not obs["image_achieved_goal"]


@needs_fetch
def test_fetch_reach_goal_image_shows_the_gripper_at_the_goal_and_restores_the_state():
    env = make("fetch-reach-pixels", image_size=48)
    obs, _ = env.reset(seed=1)
    fetch = env.unwrapped
    before = fetch.data.qpos.copy(), fetch.data.qvel.copy(), fetch.data.mocap_pos.copy()
    goal_image = env.get_wrapper_attr("render_goal")(obs["desired_goal"])
    for saved, now in zip(before, (fetch.data.qpos, fetch.data.qvel, fetch.data.mocap_pos)):
        np.testing.assert_array_equal(saved, now)
    np.testing.assert_array_equal(goal_image, obs["image_desired_goal"])  # same goal, same image
    assert np.abs(goal_image.astype(int) - obs["image_observation"]).sum() > 0
    env.get_wrapper_attr("reach_goal")(fetch, obs["desired_goal"])
    gripper = fetch._utils.get_site_xpos(fetch.model, fetch.data, "robot0:grip")
    assert np.linalg.norm(gripper - obs["desired_goal"]) < 0.002


@needs_fetch
def test_fetch_push_goal_image_puts_the_object_at_the_goal():
    env = make("fetch-push-pixels", image_size=48)
    obs, _ = env.reset(seed=2)
    fetch = env.unwrapped
    env.get_wrapper_attr("reach_goal")(fetch, obs["desired_goal"])
    block = fetch._utils.get_site_xpos(fetch.model, fetch.data, "object0")
    np.testing.assert_allclose(block, obs["desired_goal"], atol=1e-6)


@needs_fetch
def test_hidden_markers_are_not_drawn_and_sample_goals_renders_images():
    env = make("fetch-reach-pixels", image_size=48)
    model = env.unwrapped.model
    target = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "target0")
    mocap = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, FETCH_HIDDEN[1])
    assert model.site_rgba[target, 3] == 0
    assert (model.geom_rgba[model.geom_bodyid == mocap, 3] == 0).all()
    assert (model.geom_bodyid == mocap).sum() > 0
    env.reset(seed=0)
    goals = env.get_wrapper_attr("sample_goals")(3)
    assert goals["image_desired_goal"].shape == (3, 48, 48, 3)
    assert goals["state_desired_goal"].shape == (3, 3)


@needs_fetch
def test_bad_camera_and_hide_names_are_refused_with_what_the_model_has():
    robotics.load()
    with pytest.raises(ValueError, match=r"no camera named 'nope'.*head_camera_rgb"):
        CameraGoalTask(gym.make("FetchReach-v4"), reach_goal=lambda e, g: None, camera="nope")
    with pytest.raises(ValueError, match="cannot hide 'ghost'"):
        CameraGoalTask(
            gym.make("FetchReach-v4"),
            reach_goal=lambda e, g: None,
            camera=CameraView((1.3, 0.75, 0.5), 1.0),
            hide=("ghost",),
        )
    with pytest.raises(ValueError, match="give a camera"):
        CameraGoalTask(gym.make("FetchReach-v4"), reach_goal=lambda e, g: None)
