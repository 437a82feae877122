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


def test_help_names_the_fields_the_task_and_the_method_set(capsys):
    with pytest.raises(SystemExit):
        train_config(["--env", "pusher", "--method", "her-pixel", "--help"])
    lines = capsys.readouterr().out.splitlines()
    method = next(line for line in lines if line.startswith("--method her-pixel sets: "))
    assert "representation=pixels" in method and "reward=pixel-mse" in method
    assert "relabel.future=0.8" in method
    task = next(line for line in lines if line.startswith("--env pusher sets: "))
    assert "vae.latent_dim=8" in task and "steps=500000" in task


def test_presets_sweeps_and_flags_apply_through_one_patch_function():
    """A flag is a dotted patch as a sweep's override is: the same value gives the same
    configuration whichever way it came in, applied after the task's and the method's."""
    flags = {"td3.hidden_sizes": [64, 64], "relabel.future": 0.2, "steps": 1000}
    from_flags = train_config(
        ["--env", "pusher", "--method", "relabel-future", "--td3.hidden-sizes", "64", "64",
         "--relabel.future", "0.2", "--steps", "1000"]
    )  # fmt: skip
    assert from_flags == resolve("relabel-future", "pusher", flags)
    assert from_flags.relabel.prior == 0.0 and from_flags.td3.hidden_sizes == (64, 64)
    assert from_flags.vae.latent_dim == 8
