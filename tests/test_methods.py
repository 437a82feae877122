"""Every method preset and ablation runs end to end; its configuration shows how it differs."""

import json

import numpy as np
import pytest
from conftest import TINY

from rig.agent import Agent
from rig.cli import main
from rig.config import Config
from rig.envs import make, robotics
from rig.logger import read_progress
from rig.presets import METHODS, differences, preset

pytestmark = pytest.mark.slow  # every test here trains

SHORT = [*TINY, "--steps", "120", "--learning-starts", "60", "--eval.every-steps", "120"]
GOAL_ENV_METHODS = {name for name, m in METHODS.items() if m.config.reward == "task"}
"""Methods for goal environments (Figure 12): they train on FetchReach, not on point."""


def _task(name: str) -> str:
    if name not in GOAL_ENV_METHODS:
        return "point"
    if not robotics.available():
        pytest.skip(f"gymnasium-robotics is not installed ({robotics.INSTALL_HINT})")
    return "FetchReach-v4"


def _overridden(flags: list[str]) -> set[str]:
    return {f[2:].replace("-", "_") for f in flags if f.startswith("--")}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_runs_end_to_end_and_records_what_differs(name, tmp_path):
    out, task = tmp_path / name, _task(name)
    short = [task if flag == "point" else flag for flag in SHORT]
    assert main(["train", "--method", name, *short, "--out", str(out)]) == 0
    config = Config.load(out / "config.json")
    assert config.method == name
    for field, (_, value) in differences(preset(name)).items():
        if field not in _overridden(SHORT):
            assert differences(config)[field][1] == value
    final = read_progress(out / "progress.csv")[-1]
    assert final["env_steps"] == 120
    blank = {k for k, v in final.items() if k.startswith("vae/train_") and np.isnan(v)}
    assert all(np.isfinite(v) for k, v in final.items() if k not in blank)  # blank: no VAE step
    summary = json.loads((out / "summary.json").read_text())
    assert np.isfinite(summary["eval/final_distance"])

    agent = Agent.load(out)  # the checkpoint rebuilds the method's representation and policy
    env = make(task)
    obs, _ = env.reset(seed=0)
    policy = agent.goal_policy()
    policy.set_goal(obs)
    action = policy(obs)
    assert action.shape == env.action_space.shape and np.all(np.abs(action) <= 1)


def test_the_task_reward_refuses_a_task_that_rewards_images(tmp_path, capsys):
    args = ["train", "--method", "her-env-64", *SHORT, "--out", str(tmp_path / "x")]
    assert main(args) == 2
    assert "reward 'task' needs a goal environment" in capsys.readouterr().err


def test_reach_refuses_a_method_that_reads_states(tmp_path, capsys):
    out = tmp_path / "oracle"
    assert main(["train", "--method", "oracle", *SHORT, "--out", str(out)]) == 0
    assert main(["goal", "--env", "point", "--out", str(tmp_path / "goal.png")]) == 0
    assert main(["reach", "--run", str(out), "--goal", str(tmp_path / "goal.png")]) == 2
    assert "reads state_desired_goal" in capsys.readouterr().err


def test_methods_differ_from_rig_in_the_fields_that_define_them():
    assert differences(preset("rig")) == {}
    assert differences(preset("oracle"))["representation"] == ("vae", "state")
    assert differences(preset("relabel-none"))["relabel.future"] == (0.5, 0.0)
    assert differences(preset("rig-log-prob"))["reward"] == ("latent-distance", "log-prob")
    assert differences(preset("her-pixel"))["relabel.future"] == (0.5, 0.8)


def test_methods_command_lists_each_method_with_its_differences(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in METHODS:
        assert name in out
    assert "representation=state" in out and "reward=log-prob" in out


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--method", "oracle", "--rollout-goals", "prior"], "no fitted prior"),
        (["--method", "her-pixel", "--reward", "latent-distance"], "use reward 'pixel-mse'"),
        (["--method", "lr-ae", "--reward", "log-prob"], "needs the VAE's variances"),
        (["--method", "dsae", "--vae.latent-dim", "5"], "even vae.latent_dim"),
        (["--method", "nope"], "unknown method 'nope'"),
    ],
)
def test_impossible_combinations_are_refused_in_one_line(flags, message, tmp_path, capsys):
    assert main(["train", *flags, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()
