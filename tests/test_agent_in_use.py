import importlib.util
import re
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import TINY

from rig.agent import Agent
from rig.cli import main
from rig.envs import check_task, make
from rig.logger import read_progress

pytestmark = pytest.mark.slow  # every test here trains

EXAMPLE = Path(__file__).parents[1] / "examples" / "camera_only_robot.py"


def test_agent_act_validates_its_inputs(tiny_run):
    agent = Agent.load(tiny_run)
    image = np.zeros((48, 48, 3), np.uint8)
    assert agent.act(image, image).shape == (2,)
    with pytest.raises(ValueError, match="goal image must be uint8"):
        agent.act(image, image.astype(np.float32))
    with pytest.raises(ValueError, match=r"image must have shape \(H, W, 3\)"):
        agent.act(image[..., 0], image)
    with pytest.raises(ValueError, match="must be 48x48, got 84x84"):
        agent.act(np.zeros((84, 84, 3), np.uint8), image)


def test_goal_then_reach_reports_the_true_distance_and_writes_a_video(tiny_run, tmp_path, capsys):
    goal = tmp_path / "goal.png"
    assert main(["goal", "--env", "point", "--out", str(goal), "--seed", "2"]) == 0
    video = tmp_path / "reach.gif"
    assert main(["reach", "--run", str(tiny_run), "--goal", str(goal), "--out", str(video)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"final true distance to the goal: \d+\.\d+", out)
    assert iio.imread(video).ndim == 4


def test_reach_converts_other_images_with_a_note(tiny_run, tmp_path, capsys):
    from PIL import Image

    goal = tmp_path / "photo.jpg"
    Image.new("L", (100, 60), 200).save(goal)
    assert (
        main(
            ["reach", "--run", str(tiny_run), "--goal", str(goal), "--out", str(tmp_path / "r.gif")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "note:" in out and "converted L to RGB" in out and "resized 100x60 to 48x48" in out
    assert "true distance unknown" in out


def test_reach_warns_in_one_line_about_a_malformed_state_field(tiny_run, tmp_path, capsys):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("rig:state_desired_goal", "[1.0, 2.0, 3.0]")  # point goals have 2
    goal = tmp_path / "goal.png"
    Image.new("RGB", (48, 48), (90, 90, 90)).save(goal, pnginfo=info)
    out = tmp_path / "r.gif"
    assert main(["reach", "--run", str(tiny_run), "--goal", str(goal), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    warning = [line for line in captured.err.splitlines() if "rig:state_desired_goal" in line]
    assert len(warning) == 1 and warning[0].startswith("rig: warning: ")
    assert "3 numbers; the task's goal state has 2" in warning[0]
    assert "true distance unknown" in captured.out and "nan" not in captured.out


def test_eval_prints_mean_spread_and_interval(tiny_run, capsys):
    assert main(["eval", "--run", str(tiny_run), "--episodes", "5"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("distance"))
    mean, std, low, high, n = map(float, re.findall(r"-?\d+\.?\d*", row))
    assert n == 5
    # the 95% interval of the mean: mean -/+ 1.96 s / sqrt(n), s the sample std (ddof 1)
    half = 1.96 * std * np.sqrt(n / (n - 1)) / np.sqrt(n)
    assert low == pytest.approx(mean - half, abs=2e-3)
    assert high == pytest.approx(mean + half, abs=2e-3)
    sections = out.split("representation: held-out R^2")[1].split("representation:")
    r2, monotone, reach = (section.splitlines()[1:] for section in sections)
    assert [line.split()[0] for line in r2] == ["x", "y"]
    assert all(float(line.split()[1]) <= 1 for line in r2)
    for per_object in (monotone, reach):
        assert [line.split()[0] for line in per_object] == ["object"]  # the point: one object
        assert 0 <= float(per_object[0].split()[1]) <= 1
    assert main(["eval", "--run", str(tiny_run), "--episodes", "0"]) == 2


def test_camera_only_example_trains_without_state(tmp_path):
    spec = importlib.util.spec_from_file_location("camera_only_robot", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    env = make(example.ENV_ID)
    check_task(env, 48)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"image_observation", "image_desired_goal"}

    import tyro

    from rig.config import Config
    from rig.run import build_run
    from rig.workspace import Workspace

    args = [a for a in TINY if a != "--quiet"] + ["--env", example.ENV_ID, "--out", str(tmp_path)]
    config = tyro.cli(Config, args=args)
    workspace = Workspace(build_run(config, tmp_path, progress=False))
    summary = workspace.train()
    assert workspace.run.spaces.state_dim == 0
    assert np.isfinite(summary["eval/final_latent_distance"])
    assert np.isfinite(summary["eval/final_distance"])  # from info: evaluation only
    logged = {key for row in read_progress(tmp_path / "progress.csv") for key in row}
    assert "td3/critic_loss" in logged
    assert not any(key.startswith("train/moved_") for key in logged)  # no state to measure


def test_task_interface_errors_name_the_problem():
    import gymnasium as gym
    from gymnasium import spaces

    class NoGoal(gym.Env):
        observation_space = spaces.Dict(
            {"image_observation": spaces.Box(0, 255, (48, 48, 3), np.uint8)}
        )
        action_space = spaces.Box(-1, 1, (2,))

    with pytest.raises(ValueError, match="must hold 'image_desired_goal'"):
        check_task(NoGoal(), 48)
    with pytest.raises(ValueError, match=r"must be uint8 \(84, 84, 3\)"):
        check_task(make("point"), 84)
