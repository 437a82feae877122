import numpy as np
import pytest
from conftest import train_tiny

from rig.diagnostics import probe_data, probe_r2, reach_fraction, representation_report
from rig.envs import make
from rig.logger import read_progress


def test_probe_finds_what_the_latents_carry_and_what_they_miss():
    rng = np.random.default_rng(0)
    states = rng.uniform(-1, 1, size=(600, 3))
    # dims 0 and 1 are carried (nonlinearly and mixed), dim 2 is not carried at all
    latents = np.stack(
        [
            np.tanh(2 * states[:, 0]) + states[:, 1] ** 3,
            states[:, 1] - states[:, 0],
            rng.normal(size=600),
        ],
        axis=1,
    )
    r2 = probe_r2(latents, states)
    assert r2[0] > 0.9 and r2[1] > 0.9
    assert r2[2] < 0.2


def test_probe_is_deterministic_and_leaves_torch_rng_alone():
    import torch

    rng = np.random.default_rng(1)
    states = rng.uniform(size=(100, 2))
    torch.manual_seed(5)
    expected_next = torch.rand(1)
    torch.manual_seed(5)
    first = probe_r2(states * 2, states)
    assert torch.rand(1) == expected_next
    np.testing.assert_array_equal(first, probe_r2(states * 2, states))


def test_probe_refuses_too_few_pairs():
    with pytest.raises(ValueError, match="at least 8 paired"):
        probe_r2(np.zeros((5, 2)), np.zeros((5, 2)))


def test_probe_data_names_the_pusher_state_and_keeps_the_task_rng():
    env = make("pusher")
    env.reset(seed=0)
    before = env.unwrapped.np_random.bit_generator.state
    data = probe_data(env, 20, seed=7)
    assert env.unwrapped.np_random.bit_generator.state == before
    assert data.names == ("hand_x", "hand_y", "puck0_x", "puck0_y")
    assert data.images.shape == (20, 48, 48, 3) and data.states.shape == (20, 4)
    np.testing.assert_array_equal(probe_data(env, 20, seed=7).states, data.states)


class IndexedTask:
    """A stand-in task whose images carry an index into the states it has rendered, so
    that an "encoder" can read back the exact true state of any image."""

    state_names = ("hand_x", "hand_y", "puck0_x", "puck0_y")

    def __init__(self):
        self.unwrapped = self
        self.np_random = np.random.default_rng(0)
        self.rendered: list[np.ndarray] = []

    def set_to_goal(self, state) -> np.ndarray:
        self.rendered.append(np.asarray(state, dtype=np.float64).copy())
        image = np.zeros((8, 8, 3), np.uint8)
        image[0, 0] = np.frombuffer(np.uint32(len(self.rendered) - 1).tobytes()[:3], np.uint8)
        return image

    def sample_goals(self, n: int) -> dict:
        states = self.np_random.uniform(-0.2, 0.2, size=(n, 4))
        images = np.stack([self.set_to_goal(s) for s in states])
        return {"state_desired_goal": states, "image_desired_goal": images}

    def true_states(self, images: np.ndarray) -> np.ndarray:
        index = images[:, 0, 0].astype(np.uint32) @ np.array([1, 256, 65536], np.uint32)
        return np.stack([self.rendered[i] for i in index])


def test_report_of_the_true_state_is_perfect_and_keyed_by_name():
    task = IndexedTask()
    data = probe_data(task, 200, seed=0)
    assert set(data.pushes) == {"hand", "puck0"}
    assert data.pushes["puck0"].shape[1:] == (9, 8, 8, 3)
    report = representation_report(task.true_states, data)
    assert set(report) == {
        "repr/r2_hand_x",
        "repr/r2_hand_y",
        "repr/r2_puck0_x",
        "repr/r2_puck0_y",
        "repr/r2_min",
        "repr/monotone_hand",
        "repr/monotone_puck0",
        "repr/monotone_min",
        "repr/reach_hand",
        "repr/reach_puck0",
        "repr/reach_min",
    }
    assert report["repr/r2_min"] > 0.95
    assert report["repr/monotone_min"] == 1.0  # every step toward the goal is rewarded
    assert report["repr/reach_min"] == 1.0  # the distance grows along every whole move
    pushes = data.pushes["puck0"]
    span = task.true_states(pushes[:, -1]) - task.true_states(pushes[:, 0])
    np.testing.assert_allclose(data.push_lengths["puck0"], np.linalg.norm(span[:, 2:], axis=1))


def test_reach_catches_latents_that_saturate_far_from_the_goal():
    """Latents that carry the puck exactly and move monotonically with it, but saturate
    (tanh of 20 x: flat beyond about 8 cm from the centre), reward nearly every step yet do
    not guide long moves from their start."""
    task = IndexedTask()
    data = probe_data(task, 300, seed=0)

    def saturating(images):
        s = task.true_states(images)
        return np.concatenate([s[:, :2], np.tanh(20 * s[:, 2:])], axis=1)

    report = representation_report(saturating, data)
    assert report["repr/r2_puck0_x"] > 0.9 and report["repr/r2_puck0_y"] > 0.9
    assert report["repr/monotone_puck0"] > 0.95
    assert report["repr/reach_hand"] == 1.0
    assert report["repr/reach_puck0"] < 0.8
    assert report["repr/reach_min"] == report["repr/reach_puck0"]


def test_reach_counts_moves_whose_first_step_gains_a_quarter_of_their_mean_step():
    distances = np.array(
        [
            [8.0, 7, 6, 5, 4, 3, 2, 1, 0],  # linear: guided
            [8.0, 7.9, 7, 6, 5, 4, 2, 1, 0],  # first step gains 0.1 of a mean step of 1
            [8.0, 8.5, 7, 6, 5, 4, 2, 1, 0],  # first step loses
            [0.0, 0, 0, 0, 0, 0, 0, 0, 0],  # the latents do not move
        ]
    )
    assert reach_fraction(distances) == 0.25


def test_pusher_probe_renders_straight_pushes_of_each_object():
    env = make("pusher")
    data = probe_data(env, 60, seed=0)
    pushes = data.pushes["puck0"]
    assert pushes.dtype == np.uint8 and pushes.shape[1:] == (9, 48, 48, 3)
    assert 0 < len(pushes) <= 60
    assert not np.array_equal(pushes[0, 0], pushes[0, -1])  # the puck moved


@pytest.mark.slow
def test_every_representation_update_is_reported_and_the_schedule_bounds_refresh(tmp_path):
    """One report after pretraining plus one per fine-tuning; with a refresh budget of one
    frame per env step, fine-tuning (which re-encodes the whole buffer) becomes rarer."""
    common = ["--vae.finetune-every-episodes", "1", "--eval.probe-states", "50"]
    every = train_tiny(tmp_path / "every", *common, "--vae.refresh-frames-per-step", "0")
    bounded = train_tiny(tmp_path / "bounded", *common, "--vae.refresh-frames-per-step", "1")
    rows = read_progress(every / "progress.csv")
    assert {"repr/r2_x", "repr/r2_y", "repr/r2_min"} <= set(rows[-1])
    from rig.checkpoint import load_checkpoint

    def reports_of(run):
        return len(
            load_checkpoint(run).state["parts"]["representation_training"]["representation_rows"]
        )

    reports = reports_of(every)
    assert reports == 1 + 5  # 300 steps = 6 episodes of 50; no fine-tuning after the last
    assert reports_of(bounded) < reports
    assert (every / "representation.png").stat().st_size > 0
