"""The README's "Your own robot or simulator", word for word: a task in a module that is
only on PYTHONPATH, with a constructor that takes no arguments, trained by
``rig train --env my_package.my_module:MyRobot-v0``."""

import os
import subprocess
import sys

import pytest
from conftest import TINY

from rig.envs import check_task, make

MODULE = '''
import gymnasium as gym

from rig.envs.point import PointEnv


class MyRobot(PointEnv):
    """A task written as rig.envs.interface documents it: no constructor arguments."""

    def __init__(self):
        super().__init__()


for gym_id in ("MyRobot-v0", "my_ns/MyRobot-v0"):
    if gym_id not in gym.registry:
        gym.register(gym_id, entry_point="my_package.my_module:MyRobot", max_episode_steps=50)
'''


@pytest.fixture
def my_package(tmp_path, monkeypatch):
    """``my_package.my_module`` on PYTHONPATH only: written to disk, never imported here."""
    package = tmp_path / "my_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "my_module.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("my_package", "my_package.my_module"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    "env", ["my_package.my_module:MyRobot-v0", "my_package.my_module:my_ns/MyRobot-v0"]
)
def test_a_task_module_is_imported_before_its_id_is_looked_up(my_package, env):
    task = make(env, image_size=48)  # no image_size reaches a constructor without one
    check_task(task, 48)
    obs, _ = task.reset(seed=0)
    assert obs["image_observation"].shape == (48, 48, 3)


@pytest.mark.parametrize(
    "env,message",
    [
        ("no_such_module_xyz:MyRobot-v0", "cannot import module 'no_such_module_xyz'"),
        ("my_package.my_module:Other-v0", "registered no task 'Other-v0'; it registers: "),
    ],
)
def test_a_wrong_module_or_id_is_named_in_one_line(my_package, env, message):
    with pytest.raises(ValueError, match=message) as err:
        make(env)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_the_readme_command_trains_a_task_that_is_only_on_pythonpath(my_package, tmp_path):
    out = tmp_path / "run"
    flags = [a for a in TINY if a not in ("--env", "point")]
    command = ["rig", "train", "--env", "my_package.my_module:MyRobot-v0", *flags]
    environment = {**os.environ, "PYTHONPATH": str(my_package)}
    done = subprocess.run(
        [*command, "--out", str(out)], env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (out / "summary.json").exists() and (out / "checkpoint.pt").exists()
