import pytest

from rig.cli import main, train_config
from rig.config import Config
from rig.presets import TASK_PRESETS, resolve, task_preset


def test_each_arm_task_runs_its_own_protocol():
    pusher = resolve("rig", "pusher")
    assert pusher.exploration.num_images == 10_000 and pusher.steps == 500_000
    assert pusher.vae.latent_dim == 8 and pusher.vae.beta == 5.0
    assert pusher.imagined_goals == "exploration-latents"
    assert pusher.exploration.goal_reset_prob == 0.5
    assert pusher.eval.episodes >= 50
    assert resolve("rig", "reacher").exploration.num_images == 100
    assert resolve("rig", "point") == Config(env="point")


def test_gymnasium_ids_get_the_same_preset_as_cli_names():
    assert (
        task_preset("rig/VisualPusher-v0")
        == task_preset("pusher")
        == TASK_PRESETS["pusher"].changes
    )
    assert task_preset("my.module:Custom-v0") == {}


def test_method_preset_wins_over_task_preset_and_flags_win_over_both():
    assert resolve("dsae", "pusher").vae.latent_dim == 32  # the method's 16 feature points
    assert resolve("vae-online", "pusher").vae.pretrain_steps == 0
    oracle = resolve("oracle", "pusher")
    assert oracle.representation == "state" and oracle.steps == 500_000
    config = train_config(
        ["--env", "pusher", "--method", "oracle", "--steps", "1000", "--vae.latent-dim", "4"]
    )
    assert (config.env, config.method, config.steps, config.vae.latent_dim) == (
        "pusher",
        "oracle",
        1000,
        4,
    )
    assert config.exploration.num_images == 10_000


def test_rig_tasks_prints_each_tasks_budget(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    pusher = next(line for line in out.splitlines() if line.startswith("pusher "))
    assert "500,000 steps" in pusher and "10,000 images" in pusher and "latent 8" in pusher


@pytest.mark.parametrize("name", sorted(TASK_PRESETS))
def test_every_task_preset_is_a_valid_configuration(name):
    resolve("rig", name).validate()
