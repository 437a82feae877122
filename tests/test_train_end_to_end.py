import json
import math

import numpy as np
import pytest
from conftest import TINY, train_tiny

from rig.cli import main
from rig.logger import read_progress

pytestmark = pytest.mark.slow  # every test here trains


def run(tmp_path, name, *extra):
    return train_tiny(tmp_path / name, *extra)


@pytest.fixture(scope="module")
def run_dir(tiny_run):
    return tiny_run


def test_run_directory_holds_every_output(run_dir):
    for name in [
        "config.json",
        "progress.csv",
        "checkpoint.pt",
        "learning_curve.png",
        "vae.png",
        "rollouts.gif",
        "summary.json",
        "representation.png",
    ]:
        assert (run_dir / name).stat().st_size > 0, name
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))


def test_resolved_configuration_records_overrides(run_dir):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["steps"] == 300 and config["seed"] == 3
    assert config["td3"]["hidden_sizes"] == [64, 64]
    assert config["vae"]["finetune_every_episodes"] == 2
    assert config["method"] == "rig"


def test_every_metric_is_finite(run_dir):
    rows = read_progress(run_dir / "progress.csv")
    assert [r["env_steps"] for r in rows] == [0, 100, 200, 300]
    for row in rows[1:]:
        for key, value in row.items():
            blank = key.startswith("vae/train_") and math.isnan(value)  # no VAE step since
            assert math.isfinite(value) or blank, key
    assert math.isfinite(rows[0]["vae/train_loss"])  # the mean over all of pretraining
    assert rows[-1]["td3_updates"] == 4 * (300 - 100 + 1)
    assert "vae/test_loss" in rows[-1] and "td3/critic_loss" in rows[-1]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["eval/final_distance"] == rows[-1]["eval/final_distance"]


def test_a_trained_point_agent_ends_nearer_its_goals_than_the_do_nothing_policy(tmp_path):
    from rig.agent import Agent
    from rig.envs import make_vector
    from rig.evaluate import DoNothingPolicy, evaluate_batched

    out = tmp_path / "point"
    assert main(["train", "--env", "point", "--seed", "0", "--out", str(out), "--quiet"]) == 0
    envs = make_vector("point", 20)
    seed = 12345  # goals and starts that no training evaluation used
    trained = evaluate_batched(envs, Agent.load(out).goal_policy(), 50, seed)
    still = evaluate_batched(envs, DoNothingPolicy(envs.single_action_space), 50, seed)
    # RIG ends at 0.09x random's distance on point (benchmarks/RESULTS.md): half is lenient.
    distance = "eval/final_distance"
    assert trained.metrics[distance] < 0.5 * still.metrics[distance]


def test_checkpoint_loads_into_an_agent_that_acts_on_images(run_dir):
    from rig.agent import Agent

    agent = Agent.load(run_dir)
    image = np.zeros((48, 48, 3), np.uint8)
    action = agent.act(image, image)
    assert action.shape == (2,) and np.all(np.abs(action) <= 1)


def test_same_seed_gives_the_same_run(tmp_path, run_dir):
    again = run(tmp_path, "again", "--seed", "3")
    a, b = read_progress(run_dir / "progress.csv"), read_progress(again / "progress.csv")
    for row_a, row_b in zip(a, b, strict=True):
        for key in row_a:
            if not key.startswith("time/"):
                np.testing.assert_equal(row_a[key], row_b[key], err_msg=key)


def test_cli_errors_are_one_line(tmp_path, run_dir, capsys):
    cases = [
        (["--env", "nope"], "unknown task 'nope'"),
        (["--method", "nope"], "unknown method 'nope'"),
        (["--steps", "0"], "steps must be positive"),
        (["--relabel.prior", "0.8"], "sum to 1.3 > 1"),
    ]
    for args, message in cases:
        assert main(["train", "--out", str(tmp_path / "x"), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("rig: error:") and message in err and "\n" not in err
    assert main(["train", *TINY, "--out", str(run_dir)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (run_dir / "checkpoint.pt").exists()  # nothing lost


def test_logged_td3_metrics_are_means_over_the_updates_since_the_last_log(tmp_path, monkeypatch):
    import torch

    from rig.td3 import TD3

    real_update, returned = TD3.update, []

    def numbered_update(self, *args):
        metrics = real_update(self, *args)
        metrics["td3/critic_loss"] = torch.tensor(float(self.updates))
        returned.append((self.updates, float(self.updates)))
        return metrics

    monkeypatch.setattr(TD3, "update", numbered_update)
    out = train_tiny(tmp_path / "run", "--steps", "300")
    rows = read_progress(out / "progress.csv")
    logged = [(r["td3_updates"], r["td3/critic_loss"]) for r in rows if r["td3_updates"] > 0]
    assert len(logged) == 3  # at env steps 100 (the first updates), 200 and 300
    previous = 0
    for updates, value in logged:
        window = [v for n, v in returned if previous < n <= updates]
        assert value == pytest.approx(np.mean(window)) and len(window) > 1
        previous = updates


def test_logged_object_movement_is_the_mean_start_to_end_distance_of_training_episodes(
    tmp_path, monkeypatch
):
    from rig.collector import Collector

    episodes = []  # the point's true position at each training episode's start and end
    real_start, real_step = Collector.start_episode, Collector.step

    def recording_start(self):
        real_start(self)
        episodes.append([self.env.unwrapped._position.copy()] * 2)

    def recording_step(self):
        ended = real_step(self)
        episodes[-1][1] = self.env.unwrapped._position.copy()
        return ended

    monkeypatch.setattr(Collector, "start_episode", recording_start)
    monkeypatch.setattr(Collector, "step", recording_step)
    out = train_tiny(tmp_path / "run", "--steps", "300")
    rows = [r for r in read_progress(out / "progress.csv") if r["env_steps"] > 0]
    horizon = 300 // len(episodes)
    moved = [float(np.linalg.norm(end - start)) for start, end in episodes]
    assert max(moved) > 0
    for row in rows:
        done = int(row["env_steps"]) // horizon
        window = moved[done - 100 // horizon : done]
        assert row["train/moved_object"] == pytest.approx(np.mean(window))


def test_stored_latent_goals_are_latents_of_stored_images(tmp_path):
    from rig.cli import train_config
    from rig.run import build_run
    from rig.workspace import Workspace

    flags = [a for a in TINY if a != "--quiet"]
    out = tmp_path / "run"
    out.mkdir()
    config = train_config([*flags, "--imagined-goals", "stored-latents", "--out", str(out)])
    run = build_run(config, out, progress=False)
    Workspace(run)._prepare()  # exploration, pretraining, the first refresh (empty buffer)
    training = run.representation_training
    stored = training.encode(training.dataset)
    goals = run.imagined_goals.sample(64)
    distances = np.linalg.norm(goals[:, None] - stored[None], axis=-1).min(axis=1)
    assert np.all(distances == 0)
    assert len({g.tobytes() for g in goals}) > 32  # drawn across the stored images


@pytest.mark.parametrize("source", ["exploration-prior", "exploration-latents", "fitted-prior"])
def test_imagined_goals_come_from_the_chosen_images(tmp_path, source):
    from rig.cli import train_config
    from rig.run import build_run
    from rig.workspace import Workspace

    flags = [a for a in TINY if a != "--quiet"]
    out = tmp_path / "run"
    out.mkdir()
    config = train_config([*flags, "--imagined-goals", source, "--out", str(out)])
    run = build_run(config, out, progress=False)
    Workspace(run).train()
    training = run.representation_training
    training.refresh(run.counters.env_steps)  # the replay buffer now holds 300 frames
    exploration = training.encode(training.dataset)
    every_image = np.concatenate([exploration, run.buffer.stored_latents()])
    fitted_to = every_image if source == "fitted-prior" else exploration
    prior = run.imagined_goals.prior
    assert run.agent.prior is prior  # one owner: the agent reads the run's fitted prior
    np.testing.assert_allclose(prior.mean, fitted_to.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(prior.std, fitted_to.std(0), rtol=1e-4, atol=1e-5)
    if source == "exploration-latents":
        goals = run.imagined_goals.sample(64)
        distances = np.linalg.norm(goals[:, None] - exploration[None], axis=-1).min(axis=1)
        assert np.all(distances == 0)


def test_do_nothing_baseline_uses_the_runs_own_evaluation_goals(run_dir, capsys):
    from rig.baselines import do_nothing_runs
    from rig.config import Config
    from rig.envs import make_vector
    from rig.evaluate import DoNothingPolicy, evaluate_batched
    from rig.results import load_runs

    (still,) = do_nothing_runs(load_runs([run_dir]))
    assert (still.task, still.method, still.seed) == ("point", "do nothing", 3)
    config = Config.load(run_dir / "config.json")
    envs = make_vector("point", config.eval.episodes)
    policy = DoNothingPolicy(envs.single_action_space)
    same = evaluate_batched(envs, policy, 50, seed=config.seed + config.eval.seed_offset)
    assert still.summary["eval/final_distance"] == same.metrics["eval/final_distance"] > 0
    assert still.summary["env_steps"] == 300
    assert main(["report", str(run_dir), "--do-nothing"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "| point |" in line]
    assert [row.split(" | ")[1].split(" (")[0] for row in rows] == ["rig", "do nothing"]
