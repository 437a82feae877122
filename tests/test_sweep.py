import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import lock_held_elsewhere

from rig.cli import main, train_config
from rig.config import Config
from rig.logger import read_progress
from rig.sweep import apply_overrides, load_sweep, read_sweep, run_local, run_ray, trials

ROOT = Path(__file__).resolve().parents[1]

TINY_OVERRIDES = {
    "learning_starts": 50,
    "exploration.num_images": 50,
    "vae.pretrain_steps": 5,
    "vae.batch_size": 16,
    "vae.finetune_every_episodes": 1,
    "vae.finetune_steps": 2,
    "eval.every_steps": 50,
    "eval.episodes": 1,
    "eval.video_episodes": 1,
    "td3.hidden_sizes": [32, 32],
    "td3.batch_size": 16,
    "td3.updates_per_step": 1,
    "buffer_size": 1000,
}
"""Smaller still than conftest's TINY: two 50-step episodes per trial."""

TINY_SWEEP = {
    "tasks": ["point"],
    "methods": ["rig", "relabel-none"],
    "seeds": 2,
    "steps": 100,
    "overrides": TINY_OVERRIDES,
    "compute": "seconds",
}


def write_sweep(path, **changes):
    path.write_text(yaml.safe_dump({**TINY_SWEEP, **changes}))
    return path


def run_dirs(out):
    """Trial run directories of a sweep, relative to it, that finished."""
    return {str(p.parent.relative_to(out)) for p in Path(out).rglob("summary.json")}


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """The tiny sweep (2 seeds x 2 methods on point) run on this machine, one trial at a time."""
    tmp = tmp_path_factory.mktemp("local")
    out = tmp / "sweep"
    assert main(["sweep", str(write_sweep(tmp / "tiny.yaml")), "--out", str(out), "--quiet"]) == 0
    return out


def test_sweep_file_gives_every_task_method_seed_with_overrides_on_the_preset(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path / "s.yaml", seeds=[3, 7]))
    assert sweep.seeds == (3, 7) and sweep.steps == 100 and sweep.resources == {"cpu": 1, "gpu": 0}
    todo = trials(sweep, tmp_path / "out")
    assert [t.name for t in todo] == [
        "point/rig/seed3",
        "point/relabel-none/seed3",
        "point/rig/seed7",
        "point/relabel-none/seed7",
    ]
    none = todo[1].config
    assert none.out == tmp_path / "out" / "point" / "relabel-none" / "seed3"
    assert (none.env, none.method, none.seed, none.steps) == ("point", "relabel-none", 3, 100)
    assert (none.relabel.prior, none.relabel.future) == (0.0, 0.0)  # the preset is kept
    assert none.td3.hidden_sizes == (32, 32) and none.eval.every_steps == 50
    assert todo[0].config.relabel.prior == 0.5
    assert read_sweep(write_sweep(tmp_path / "n.yaml", seeds=3)).seeds == (0, 1, 2)


def test_overrides_are_typed_and_validated():
    changes = {"vae.beta": 2, "td3.hidden-sizes": [8], "noise.kind": "gaussian"}
    config = apply_overrides(Config(), changes)
    assert config.vae.beta == 2.0 and isinstance(config.vae.beta, float)
    assert config.td3.hidden_sizes == (8,) and config.noise.kind == "gaussian"
    with pytest.raises(ValueError, match=r"unknown configuration field 'vae.bta'.*beta"):
        apply_overrides(Config(), {"vae.bta": 2})
    with pytest.raises(ValueError, match="expected int, got 'many'"):
        apply_overrides(Config(), {"vae.latent_dim": "many"})
    with pytest.raises(ValueError, match="names a section"):
        apply_overrides(Config(), {"vae": 2})
    with pytest.raises(ValueError, match="'seeds'"):
        apply_overrides(Config(), {"seed": 2})


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"methods": ["rig", "magic"]}, "unknown method 'magic'; known methods: rig, "),
        ({"tasks": ["moon"]}, "unknown task 'moon'; known tasks: point"),
        ({"overrides": {"vae.bta": 2}}, "unknown configuration field 'vae.bta'"),
        ({"overrides": {"vae.latent_dim": 0}}, "vae.latent_dim must be positive"),
        ({"seeds": []}, "seeds must be"),
        ({"seeds": [0, -1]}, "seeds must be"),
        (
            {"seeds": [0, 0]},
            "lists trials more than once (point/relabel-none/seed0, point/rig/seed0)",
        ),
        ({"overrides": {"relabel.prior": 0.8}}, "trial point/rig/seed0: relabeling fractions sum"),
        ({"stepz": 5}, "unknown keys ['stepz']"),
    ],
)
def test_a_bad_sweep_file_is_a_one_line_error_naming_the_problem(
    tmp_path, capsys, changes, message
):
    path = write_sweep(tmp_path / "bad.yaml", **changes)
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rig: error: sweep {path}: ") and message in err
    assert err.count("\n") == 1


def test_sweep_overrides_are_validated_on_each_method_as_rig_train_does(tmp_path):
    path = write_sweep(
        tmp_path / "ok.yaml",
        methods=["relabel-vae"],
        overrides={**TINY_OVERRIDES, "relabel.prior": 0.8},
    )
    (trial,) = [t for t in trials(load_sweep(path), tmp_path) if t.seed == 0]
    assert trial.config.relabel.prior == 0.8 and trial.config.relabel.future == 0.0
    assert train_config(["--method", "relabel-vae", "--relabel.prior", "0.8"]).relabel == (
        trial.config.relabel
    )


def test_shipped_sweep_files_load_and_state_their_compute():
    files = sorted((ROOT / "sweeps").glob("*.yaml"))
    names = {f.stem for f in files}
    assert {"figure3", "figure4", "figure5", "figure6", "figure9", "figure10", "figure11"} <= names
    for path in files:
        sweep = load_sweep(path)  # every task, method and override is known
        assert sweep.compute and sweep.description, path
        assert len(trials(sweep, Path("unused"))) == len(sweep.tasks) * len(sweep.methods) * len(
            sweep.seeds
        )
    assert load_sweep(ROOT / "sweeps" / "figure3.yaml").methods == (
        "rig",
        "oracle",
        "her-pixel",
        "lr-ae",
        "dsae",
    )


@pytest.mark.slow
def test_local_sweep_writes_an_ordinary_run_directory_per_trial(local_sweep):
    assert run_dirs(local_sweep) == {
        "point/rig/seed0",
        "point/rig/seed1",
        "point/relabel-none/seed0",
        "point/relabel-none/seed1",
    }
    config = json.loads((local_sweep / "point/relabel-none/seed1/config.json").read_text())
    assert (config["method"], config["seed"], config["steps"]) == ("relabel-none", 1, 100)
    assert config["relabel"]["prior"] == 0.0 and config["td3"]["hidden_sizes"] == [32, 32]
    for name in ("progress.csv", "checkpoint.pt", "learning_curve.png"):
        assert (local_sweep / "point/rig/seed0" / name).exists()


@pytest.mark.slow
def test_rerun_skips_finished_resumes_interrupted_and_restarts_unstarted(local_sweep, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(local_sweep, out)
    finished = (out / "point/rig/seed0/summary.json").stat().st_mtime_ns
    (out / "point/rig/seed1/summary.json").unlink()  # stopped after its last checkpoint
    unstarted = out / "point/relabel-none/seed1"  # killed before its first checkpoint
    for path in unstarted.iterdir():
        if path.name != "config.json":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    todo = trials(load_sweep(write_sweep(tmp_path / "tiny.yaml")), out)
    results = {r.name: r.status for r in run_local(todo, workers=2, progress=False)}
    assert results == {
        "point/rig/seed0": "skipped",
        "point/relabel-none/seed0": "skipped",
        "point/rig/seed1": "resumed",
        "point/relabel-none/seed1": "resumed",
    }
    assert (out / "point/rig/seed0/summary.json").stat().st_mtime_ns == finished
    assert run_dirs(out) == run_dirs(local_sweep)


@pytest.mark.slow
def test_a_run_directory_with_another_configuration_is_not_reused(local_sweep, tmp_path, capsys):
    out = tmp_path / "sweep"
    shutil.copytree(local_sweep, out)
    path = write_sweep(tmp_path / "changed.yaml", overrides={**TINY_OVERRIDES, "vae.beta": 2})
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "holds a run with a different configuration (vae.beta)" in err and err.count("\n") == 1


@pytest.mark.slow
def test_a_trial_another_process_writes_is_left_alone_and_collected_later(tmp_path):
    todo = trials(load_sweep(write_sweep(tmp_path / "tiny.yaml", methods=["rig"])), tmp_path)
    held = tmp_path / "point/rig/seed1"
    with lock_held_elsewhere(held):
        results = {r.name: r.status for r in run_local(todo, workers=2, progress=False)}
        assert results == {"point/rig/seed0": "trained", "point/rig/seed1": "busy"}
        assert [p.name for p in held.iterdir()] == ["run.lock"]
    results = {r.name: r.status for r in run_local(todo, progress=False)}
    assert results == {"point/rig/seed0": "skipped", "point/rig/seed1": "trained"}


@pytest.mark.slow
def test_two_sweeps_at_once_on_one_out_run_each_trial_once(tmp_path):
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "rig.cli", "sweep", str(write_sweep(tmp_path / "tiny.yaml"))]
    sweeps = [
        subprocess.Popen(
            [*command, "--out", str(out), "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [sweep.communicate(timeout=900) for sweep in sweeps]
    assert [sweep.returncode for sweep in sweeps] == [0, 0], outputs

    def total(status: str) -> int:
        return sum(int(re.search(rf"(\d+) {status}", stdout).group(1)) for stdout, _ in outputs)

    assert (total("trained"), total("resumed")) == (4, 0)
    assert len(run_dirs(out)) == 4
    for progress in out.rglob("progress.csv"):
        steps = [row["env_steps"] for row in read_progress(progress)]
        assert steps == sorted(set(steps)), progress  # one writer: no row written twice


@pytest.mark.slow
def test_ray_tune_runs_the_same_trials_as_the_local_sweep_and_both_plot(local_sweep, tmp_path):
    ray = pytest.importorskip("ray")
    out = tmp_path / "ray"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        assert (
            main(
                [
                    "sweep",
                    str(write_sweep(tmp_path / "tiny.yaml")),
                    "--out",
                    str(out),
                    "--ray",
                    "--quiet",
                ]
            )
            == 0
        )
    finally:
        ray.shutdown()
    assert run_dirs(out) == run_dirs(local_sweep)
    for sweep in (local_sweep, out):
        figure = tmp_path / f"{sweep.name}.png"
        assert main(["plot", str(sweep), "--out", str(figure)]) == 0
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    local = json.loads((local_sweep / "point/rig/seed1/config.json").read_text())
    remote = json.loads((out / "point/rig/seed1/config.json").read_text())
    assert {**local, "out": None} == {**remote, "out": None}


def test_ray_flag_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["sweep", str(write_sweep(tmp_path / "tiny.yaml")), "--ray"]) == 2
    assert 'pip install "rig-rl[sweep]"' in capsys.readouterr().err
    todo = trials(load_sweep(tmp_path / "tiny.yaml"), tmp_path / "out")
    with pytest.raises(ValueError, match="rig-rl"):
        run_ray(todo, {"cpu": 1}, tmp_path / "out")
