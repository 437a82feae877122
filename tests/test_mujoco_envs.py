import ctypes.util
import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rig.envs import make, make_vector
from rig.envs.mujoco import render
from rig.envs.mujoco.pusher import MultiPusherEnv, PusherEnv

TASKS = {
    "reacher": 2,
    "pusher": 4,
    "pusher-narrow": 4,
    "multi-pusher": 6,
    "multi-pusher-variable": 6,
    "door": 4,
    "door-reset-free": 4,
    "pick-place": 4,
}
"""CLI name -> state size."""


def blue_pixels(image):
    """Pixels of the (blue) puck 0."""
    image = image.astype(int)
    return int(((image[..., 2] > 150) & (image[..., 0] < 100)).sum())


def red_pixels(image):
    """Pixels of the (red) arm."""
    image = image.astype(int)
    return int(((image[..., 0] > 100) & (image[..., 1] < 80) & (image[..., 2] < 80)).sum())


@pytest.mark.parametrize("name", TASKS)
def test_registered_and_pass_gymnasium_checker(name):
    env = make(name)
    check_env(env.unwrapped)
    assert env.spec.max_episode_steps == (50 if name == "reacher" else 100)


@pytest.mark.parametrize("name,size", [(n, 48) for n in TASKS] + [("pusher", 84)])
def test_reset_and_step_shapes_and_dtypes(name, size):
    env = make(name, image_size=size)
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    for key in ("image_observation", "image_achieved_goal", "image_desired_goal", "observation"):
        assert obs[key].shape == (size, size, 3) and obs[key].dtype == np.uint8
    for key in ("state_observation", "state_achieved_goal", "state_desired_goal"):
        assert obs[key].shape == (TASKS[name],) and obs[key].dtype == np.float32
    assert isinstance(reward, float) and not terminated and not truncated
    assert {"distance", "hand_distance", "success"} <= set(info)
    assert red_pixels(obs["image_observation"]) > 0  # the arm is in view


def test_same_seed_same_episode():
    runs = []
    for _ in range(2):
        env = make("pusher")
        obs, _ = env.reset(seed=7)
        actions = np.random.default_rng(0).uniform(-1, 1, (20, 2))
        frames = [obs["image_desired_goal"]] + [
            env.step(a)[0]["image_observation"] for a in actions
        ]
        runs.append((np.stack(frames), env.unwrapped.true_state()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    other, _ = make("pusher").reset(seed=8)
    assert not np.array_equal(
        other["state_desired_goal"], make("pusher").reset(seed=7)[0]["state_desired_goal"]
    )


@pytest.mark.parametrize("name", TASKS)
def test_set_to_goal_renders_the_goal_state_and_render_goal_restores(name):
    env = make(name).unwrapped
    obs, _ = env.reset(seed=3)
    goal = obs["state_desired_goal"]
    np.testing.assert_array_equal(env.render_goal(goal), obs["image_desired_goal"])
    np.testing.assert_allclose(env.true_state(), obs["state_observation"])  # restored
    assert not np.array_equal(env.render_image(), obs["image_desired_goal"])
    image = env.set_to_goal({"state_desired_goal": goal})
    np.testing.assert_array_equal(image, obs["image_desired_goal"])
    np.testing.assert_allclose(env.true_state(), goal, atol=1e-6)
    info = env.info()
    assert info["distance"] == pytest.approx(0, abs=1e-6) and info["success"]


def test_reset_honours_a_given_goal():
    env = make("pusher")
    goal = np.array([0.0, 0.6, 0.1, 0.55], np.float32)
    obs, _ = env.reset(seed=0, options={"goal": goal})
    np.testing.assert_allclose(obs["state_desired_goal"], goal)
    np.testing.assert_array_equal(obs["image_desired_goal"], env.unwrapped.render_goal(goal))


def test_goals_inside_their_ranges():
    pusher = make("pusher").unwrapped
    pusher.reset(seed=0)
    goals = pusher.sample_goals(300)
    s = goals["state_desired_goal"]
    assert s.shape == (300, 4) and goals["image_desired_goal"].shape == (300, 48, 48, 3)
    assert np.all((s[:, :2] >= [-0.05, 0.55]) & (s[:, :2] <= [0.05, 0.65]))
    assert np.all((s[:, 2:] >= [-0.2, 0.5]) & (s[:, 2:] <= [0.2, 0.7]))
    clearance = PusherEnv.hand_goal_clearance
    assert np.linalg.norm(s[:, :2] - s[:, 2:], axis=1).min() >= clearance - 1e-6

    reacher = make("reacher").unwrapped
    reacher.reset(seed=0)
    hands = reacher.sample_goals(300)["state_desired_goal"]
    assert np.all((hands >= [-0.2, 0.55]) & (hands <= [0.2, 0.75]))
    assert hands[:, 0].std() > 0.1 and hands[:, 1].std() > 0.05

    multi = make("multi-pusher").unwrapped
    multi.reset(seed=0)
    goals = multi.sample_goals(300)["state_desired_goal"]
    hands, pucks = goals[:, :2], goals[:, 2:]
    # multiworld's two-puck pusher: each puck in its own half, the hand over the arena
    assert np.all((pucks[:, :2] >= [-0.2, 0.4]) & (pucks[:, :2] <= [0.0, 0.8]))
    assert np.all((pucks[:, 2:] >= [0.0, 0.4]) & (pucks[:, 2:] <= [0.2, 0.8]))
    assert np.all((hands >= [-0.25, 0.3]) & (hands <= [0.25, 0.875])) and hands.std(0).min() > 0.1
    # no goal asks two bodies to overlap
    radius = MultiPusherEnv.puck_radius
    assert np.linalg.norm(pucks[:, :2] - pucks[:, 2:], axis=1).min() >= 2 * radius - 1e-6
    for puck in (pucks[:, :2], pucks[:, 2:]):
        gap = np.linalg.norm(hands - puck, axis=1).min()
        assert gap >= MultiPusherEnv.hand_goal_clearance - 1e-6

    door = make("door").unwrapped
    door.reset(seed=0)
    goals = door.sample_goals(200)["state_desired_goal"]
    # SawyerDoorHookResetFreeEnv-v1: a 3-D hand in its box, door angles in [0, 0.83]
    assert np.all((goals[:, 3] >= 0) & (goals[:, 3] <= 0.83)) and goals[:, 3].std() > 0.15
    assert np.all((goals[:, :3] >= [-0.1, 0.45, 0.1]) & (goals[:, :3] <= [0.05, 0.65, 0.25]))
    hinge, far = door.door_segments(goals[:, 3])
    along = far - hinge
    for reach in (0.0, door.hook_reach):  # neither the hand nor its hook's tip in the door
        points = goals[:, :2] + [0.0, reach]
        t = np.clip(((points - hinge) * along).sum(1) / (along**2).sum(1), 0, 1)
        gap = np.linalg.norm(points - (hinge + t[:, None] * along), axis=1)
        assert gap.min() >= door.goal_clearance - 1e-9


def test_pick_place_grasps_lifts_and_drops_the_ball_by_contact_alone():
    env = make("pick-place").unwrapped
    assert env.action_space.shape == (3,)
    env.reset(seed=1)
    assert env.true_state() == pytest.approx([0.6, 0.10, 0.6, 0.02], abs=1e-3)  # ball below

    def move_to(target, grip, steps=20):
        for _ in range(steps):
            move = np.clip((np.asarray(target) - env.true_state()[:2]) / env.max_speed, -1, 1)
            env.step(np.array([*move, grip], np.float32))
        return env.true_state()

    closed_above = move_to([0.6, 0.07], grip=1)  # shut above the ball: nothing is lifted
    assert closed_above[3] == pytest.approx(0.02, abs=2e-3)
    move_to([0.6, 0.07], grip=-1, steps=3)
    move_to([0.6, 0.02], grip=-1)
    move_to([0.6, 0.02], grip=1, steps=8)
    carried = move_to([0.57, 0.09], grip=1, steps=30)
    assert carried[2:] == pytest.approx(carried[:2], abs=0.01)  # friction holds it in the air
    held_still = move_to([0.57, 0.09], grip=1, steps=40)
    assert held_still[3] == pytest.approx(carried[3], abs=3e-3)  # without slipping out
    dropped = move_to([0.57, 0.09], grip=-1, steps=15)
    assert dropped[3] == pytest.approx(0.02, abs=2e-3) and dropped[1] == pytest.approx(0.09)


def test_the_narrow_pusher_draws_goals_three_quarters_as_wide_laterally():
    narrow = make("pusher-narrow").unwrapped
    narrow.reset(seed=0)
    s = narrow.sample_goals(500)["state_desired_goal"]
    assert np.all((s[:, :2] >= [-0.05, 0.55]) & (s[:, :2] <= [0.05, 0.65]))  # hand box kept
    assert np.all((s[:, 2:] >= [-0.15, 0.5]) & (s[:, 2:] <= [0.15, 0.7]))
    assert s[:, 2].min() < -0.14 and s[:, 2].max() > 0.14  # the whole narrower box is used
    assert s[:, 3].min() < 0.51 and s[:, 3].max() > 0.69  # depth unchanged
    assert PusherEnv.puck_goal_low[0, 0] == -0.2  # the standard pusher is untouched
    with pytest.raises(ValueError, match="goal_width"):
        PusherEnv(goal_width=0)


def test_pick_place_goals_put_the_ball_in_the_hand_three_times_in_four():
    env = make("pick-place").unwrapped
    env.reset(seed=0)
    goals = env.sample_goals(400)["state_desired_goal"]
    on_table = np.isclose(goals[:, 3], 0.02)
    in_hand = np.all(goals[:, :2] == goals[:, 2:], axis=1)
    assert 0.68 < in_hand.mean() < 0.82 and np.all(in_hand | on_table)
    assert np.all(goals >= env.state_low) and np.all(goals <= env.state_high)
    apart = np.linalg.norm(goals[~in_hand, :2] - goals[~in_hand, 2:], axis=1)
    assert apart.min() >= env.goal_clearance  # the open fingers clear of a ball on the table
    # a goal image shows the ball held: stepping from it with the gripper shut keeps it there
    env.set_to_goal(goals[np.argmax(goals[:, 3])])
    held = goals[np.argmax(goals[:, 3]), 2:]
    for _ in range(10):
        env.step(np.array([0.0, 0.0, 1.0], np.float32))
    assert env.true_state()[2:] == pytest.approx(held, abs=3e-3)
    info = env.metrics(env.true_state(), goals[np.argmax(goals[:, 3])])
    assert info["goal_in_hand"] == 1  # evaluation reports in-hand and table goals apart
    assert env.metrics(env.true_state(), goals[np.argmin(goals[:, 3])])["goal_in_hand"] == 0


def test_pick_place_set_fingers_stages_the_gripper_without_moving_the_ball():
    env = make("pick-place").unwrapped
    env.reset(seed=0)
    state = np.array([0.6, 0.06, 0.6, 0.02])  # hand above the ball left on the table
    env.set_to_goal(state)  # a ball on the table leaves the fingers open
    env.set_fingers(True)
    shut_image = env.render_image()
    fingers = [env.model.joint(f"{s}_finger").qposadr[0] for s in ("left", "right")]
    assert env.data.qpos[fingers] == pytest.approx([0.0, 0.0])
    assert env.true_state() == pytest.approx(state)
    env.set_fingers(False)
    assert env.data.qpos[fingers] == pytest.approx([-env.finger_open, env.finger_open])
    assert env.true_state() == pytest.approx(state)
    assert np.abs(env.render_image().astype(int) - shut_image).mean() > 0.5  # drawn apart


def test_reset_free_door_starts_each_episode_where_the_last_ended():
    env = make("door-reset-free").unwrapped
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.array([1.0, -1.0, -1.0], np.float32))
    moved = env.true_state()
    assert not np.allclose(moved[:3], env.hand_start)
    obs, _ = env.reset()
    assert env.true_state() == pytest.approx(moved)  # a new goal, the same state
    assert not np.allclose(obs["state_desired_goal"], moved)
    env.reset(seed=1)  # a seeded reset starts afresh
    assert env.true_state() == pytest.approx([*env.hand_start, 0.0])
    resetting = make("door").unwrapped
    resetting.reset(seed=0)
    resetting.step(np.array([1.0, -1.0, -1.0], np.float32))
    resetting.reset()
    assert resetting.true_state() == pytest.approx([*resetting.hand_start, 0.0])


def test_hooking_the_handle_opens_the_door():
    env = make("door").unwrapped
    env.reset(seed=0)

    def move_to(target):
        for _ in range(40):
            env.step(np.clip((np.asarray(target) - env.true_state()[:3]) / env.max_speed, -1, 1))

    assert env.true_state() == pytest.approx([-0.05, 0.635, 0.225, 0.0])
    move_to([-0.05, 0.5, 0.225])  # the hook passes above the handle: the door stays shut
    assert env.true_state()[3] == pytest.approx(0, abs=0.02)
    move_to([-0.05, 0.635, 0.225])
    move_to([-0.05, 0.635, 0.17])  # the hook's tip drops behind the handle bar
    assert env.true_state()[3] == pytest.approx(0, abs=0.02)
    move_to([-0.05, 0.45, 0.17])  # pull
    assert env.true_state()[3] > 0.5


def test_hand_starts_outside_its_box_then_moves_two_centimetres_per_step_and_pushes_the_puck():
    env = make("pusher")
    obs, _ = env.reset(seed=0)
    assert obs["state_observation"] == pytest.approx([0.0, 0.4, 0.0, 0.6], abs=1e-6)
    obs, *_ = env.step(np.array([0.0, 1.0], np.float32))
    assert obs["state_observation"][1] == pytest.approx(0.5, abs=1e-6)  # clipped into the box
    obs, *_ = env.step(np.array([0.0, 1.0], np.float32))
    assert obs["state_observation"][1] == pytest.approx(0.52, abs=1e-6)
    for _ in range(8):
        obs, *_ = env.step(np.array([0.0, 1.0], np.float32))
    hand, puck = obs["state_observation"][:2], obs["state_observation"][2:]
    assert hand[1] == pytest.approx(0.68, abs=1e-6)
    assert puck[1] > 0.72 and 0.04 < puck[1] - hand[1] < 0.075  # pushed ahead, in contact
    for _ in range(40):
        obs, *_ = env.step(np.array([1.0, 1.0], np.float32))
    assert obs["state_observation"][:2] == pytest.approx([0.1, 0.7], abs=1e-6)  # hand box


def test_pusher_distance_is_the_papers_hand_plus_puck_distance():
    env = make("pusher").unwrapped
    env.reset(seed=0)
    goal = np.array([0.05, 0.6, 0.1, 0.55])
    metrics = env.metrics(np.array([0.0, 0.6, 0.1, 0.65]), goal)
    assert metrics["hand_distance"] == pytest.approx(0.05)
    assert metrics["puck_distance"] == pytest.approx(0.1)
    assert metrics["distance"] == pytest.approx(0.15) and not metrics["success"]
    assert env.metrics(np.array([0.03, 0.6, 0.1, 0.57]), goal)["success"]  # 0.02 + 0.02 < 0.06


def test_door_reports_the_angle_and_the_arm_apart_and_together():
    env = make("door").unwrapped
    env.reset(seed=0)
    goal = np.array([0.0, 0.5, 0.15, 0.3])
    metrics = env.metrics(np.array([0.03, 0.54, 0.15, 0.5]), goal)
    assert metrics["distance"] == metrics["angle_difference"] == pytest.approx(0.2)
    assert metrics["hand_distance"] == pytest.approx(0.05)
    assert metrics["hand_plus_angle"] == pytest.approx(0.25) and not metrics["success"]
    assert env.metrics(np.array([0.3, 0.5, 0.15, 0.31]), goal)["success"]  # the angle alone


def test_oblique_camera_sees_the_puck_anywhere_in_its_goal_box():
    env = make("pusher").unwrapped
    env.reset(seed=0)
    for x in (-0.2, 0.2):
        for y in (0.5, 0.7):
            image = env.set_to_goal(np.array([0.0, 0.5 if y > 0.6 else 0.7, x, y]))
            assert blue_pixels(image) > 15, (x, y)


def test_arm_occludes_the_puck_beneath_it():
    env = make("pusher").unwrapped
    env.reset(seed=0)
    clear = env.set_to_goal(np.array([0.2, 0.6, -0.15, 0.5]))
    hidden = env.set_to_goal(np.array([0.0, 0.65, 0.0, 0.5]))  # forearm passes over the puck
    assert blue_pixels(clear) > 20
    assert blue_pixels(hidden) < blue_pixels(clear) / 2


def test_only_the_door_draws_shadows_and_its_lamp_shades_the_table():
    door = make("door").unwrapped
    door.reset(seed=0)
    assert door.renderer.shadows
    shaded = door.render_image().astype(int).sum(-1)
    door.close()
    door.model.light_castshadow[:] = False
    unshaded = door.render_image().astype(int).sum(-1)
    assert not door.renderer.shadows
    assert (shaded < unshaded - 30).sum() > 20
    assert not make("pusher").unwrapped.renderer.shadows


def test_variable_pusher_holds_zero_one_or_two_pucks():
    env = make("multi-pusher-variable").unwrapped
    counts = []
    for seed in range(40):
        obs, info = env.reset(seed=seed)
        counts.append(info["num_pucks"])
        assert info["num_pucks"] == env.present.sum()
        if not env.present[0]:  # a hidden puck is drawn in neither image
            assert (
                blue_pixels(obs["image_observation"]) == blue_pixels(obs["image_desired_goal"]) == 0
            )
        if info["num_pucks"] == 0:
            assert info["distance"] == info["hand_distance"]
    assert set(counts) == {0, 1, 2}
    fixed = make("multi-pusher")
    assert all(fixed.reset(seed=seed)[1]["num_pucks"] == 2 for seed in range(5))


def test_vector_env_batches_images_and_restarts_episodes():
    envs = make_vector("pusher", 3, max_episode_steps=4)
    obs, info = envs.reset(seed=0)
    assert obs["image_observation"].shape == (3, 48, 48, 3) and info["distance"].shape == (3,)
    single = make("pusher").unwrapped
    single.reset(seed=0)
    for i in range(3):
        np.testing.assert_array_equal(
            single.set_to_goal(obs["state_observation"][i]), obs["image_observation"][i]
        )
    actions = np.zeros((3, 2), np.float32)
    truncations = [envs.step(actions)[3] for _ in range(5)]
    assert [t.all() for t in truncations] == [False, False, False, True, False]
    restarted = envs.step(actions)[0]["state_observation"][:, :2]  # from (0, 0.4) into the box
    np.testing.assert_allclose(restarted, [[0, 0.5]] * 3, atol=1e-6)
    envs.close()


def test_gymnasium_make_vec_uses_the_batched_renderer():
    envs = gym.make_vec("rig/VisualReacher-v0", num_envs=2)
    assert type(envs).__name__ == "ArmVectorEnv" and envs.max_episode_steps == 50
    envs.close()


def test_presampled_goals_cached_where_the_user_says(tmp_path):
    path = tmp_path / "goals" / "pusher.npz"
    env = make("pusher", goal_cache=path).unwrapped
    env.num_presampled_goals = 5
    obs, _ = env.reset(seed=0)
    assert path.exists()
    cached = np.load(path)
    i = np.flatnonzero((cached["state_desired_goal"] == obs["state_desired_goal"]).all(axis=1))
    assert len(i) == 1
    np.testing.assert_array_equal(cached["image_desired_goal"][i[0]], obs["image_desired_goal"])
    again = make("pusher", goal_cache=path).unwrapped
    np.testing.assert_array_equal(
        again.presampled_goals()["state_desired_goal"], cached["state_desired_goal"]
    )


def test_state_goal_keys_give_vectorized_distance_reward():
    env = make("pusher", goal_keys="state").unwrapped
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs["desired_goal"], obs["state_desired_goal"])
    achieved = np.zeros((2, 4))
    desired = np.array([[0, 0, 0, 0], [0, 0, 3, 4]], float)
    np.testing.assert_allclose(env.compute_reward(achieved, desired, {}), [0.0, -5.0])


def test_renderer_error_names_the_missing_system_packages(monkeypatch):
    def broken(width, height):
        raise OSError("cannot load library")

    monkeypatch.setattr(render, "_REQUESTED", "")
    monkeypatch.setattr(render, "egl_error", lambda: "no EGL device")
    monkeypatch.setattr(render, "BACKENDS", {"egl": broken, "osmesa": broken})
    with pytest.raises(render.RenderingUnavailable) as err:
        render.create_gl_context(48, 48)
    message = str(err.value)
    assert "libegl1" in message and "libosmesa6" in message
    assert "no EGL device" in message and "cannot load library" in message


class FakeContext:
    def make_current(self):
        pass


def test_renderer_falls_back_to_osmesa_without_touching_egl(monkeypatch):
    def egl(width, height):
        raise AssertionError("EGL must not be tried in this process once it is known to fail")

    monkeypatch.setenv("MUJOCO_GL", "egl")  # restored after the test
    monkeypatch.setattr(render, "_REQUESTED", "")
    monkeypatch.setattr(render, "egl_error", lambda: "no EGL device")
    monkeypatch.setattr(render, "BACKENDS", {"egl": egl, "osmesa": lambda w, h: FakeContext()})
    assert isinstance(render.create_gl_context(48, 48), FakeContext)


def test_requested_backend_is_tried_first(monkeypatch):
    tried = []

    def backend(name):
        def make(width, height):
            tried.append(name)
            return FakeContext()

        return make

    monkeypatch.setenv("MUJOCO_GL", "osmesa")
    monkeypatch.setattr(render, "_REQUESTED", "osmesa")
    monkeypatch.setattr(render, "BACKENDS", {"egl": backend("egl"), "osmesa": backend("osmesa")})
    render.create_gl_context(48, 48)
    assert tried == ["osmesa"]


@pytest.mark.skipif(ctypes.util.find_library("OSMesa") is None, reason="libosmesa6 not installed")
def test_osmesa_draws_the_same_image_as_egl():
    code = (
        "import numpy as np, rig.envs as E; o, _ = E.make('pusher').reset(seed=0); "
        "print(o['image_observation'].astype(int).sum())"
    )
    env = {**os.environ, "MUJOCO_GL": "osmesa"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    obs, _ = make("pusher").reset(seed=0)
    assert int(out.stdout.split()[-1]) == int(obs["image_observation"].astype(int).sum())


def test_rig_show_writes_a_contact_sheet(tmp_path):
    from PIL import Image

    from rig.cli import main

    out = tmp_path / "sheet.png"
    assert main(["show", "--env", "pick-place", "--out", str(out), "--episodes", "2"]) == 0
    sheet = np.asarray(Image.open(out).convert("RGB"))
    assert sheet.shape[0] > 2 * 48 * 4 and sheet.shape[1] > 7 * 48 * 4  # 2 rows, goal + 6 frames
    assert red_pixels(sheet) > 0 and blue_pixels(sheet) > 0  # the arm and the ball


def test_batched_evaluation_reads_each_copys_final_step():
    """Zero actions: each copy's final distance equals that of its own task seeded seed + i."""
    from rig.evaluate import DoNothingPolicy, evaluate_batched

    envs = make_vector("pusher", 4)
    result = evaluate_batched(envs, DoNothingPolicy(envs.single_action_space), horizon=3, seed=10)
    envs.close()
    single = make("pusher")
    for i in range(4):
        single.reset(seed=10 + i)
        for _ in range(3):
            *_, info = single.step(np.zeros(2, np.float32))
        assert result.per_episode["distance"][i] == pytest.approx(info["distance"], abs=1e-6)
    assert len(result.per_episode["success"]) == 4
    assert result.metrics["eval/final_distance"] == pytest.approx(
        np.mean(result.per_episode["distance"])
    )
