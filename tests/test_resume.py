import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import TINY, train_tiny

from rig import checkpoint as checkpoint_module
from rig.checkpoint import CHECKPOINT_FILE, load_checkpoint, save_checkpoint
from rig.cli import main
from rig.logger import read_progress
from rig.td3 import TD3

pytestmark = pytest.mark.slow  # every test here trains

EXACT = ["--steps", "600", "--save-buffer", "--checkpoint-every", "50", "--seed", "5"]


def metrics_without_time(run_dir):
    return [
        {k: v for k, v in row.items() if not k.startswith("time/")}
        for row in read_progress(run_dir / "progress.csv")
    ]


def start_training(out, *extra):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "rig.cli", "train", *TINY, "--out", str(out), *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_after_checkpoint(process, out, min_steps, timeout=120):
    """SIGKILL the training process once a checkpoint at >= min_steps env steps exists."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        steps = [int(p.stem.split("_")[1]) for p in out.glob("replay_*.npz")]
        if steps and max(steps) >= min_steps:
            break
        if process.poll() is not None:
            pytest.fail(
                f"training ended before it could be killed: {process.stderr.read().decode()}"
            )
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def test_sigkilled_run_resumes_to_the_same_metrics_as_an_uninterrupted_run(tmp_path):
    uninterrupted = train_tiny(tmp_path / "uninterrupted", *EXACT)

    killed = tmp_path / "killed"
    kill_after_checkpoint(start_training(killed, *EXACT), killed, min_steps=200)
    state = load_checkpoint(killed).state  # the checkpoint is whole, whatever moment the kill hit
    assert 150 <= state["parts"]["counters"]["env_steps"] < 600

    assert main(["train", "--resume", str(killed), "--quiet"]) == 0
    expected, resumed = metrics_without_time(uninterrupted), metrics_without_time(killed)
    assert [r["env_steps"] for r in resumed] == [r["env_steps"] for r in expected]
    for row_e, row_r in zip(expected, resumed, strict=True):
        np.testing.assert_equal(row_r, row_e)
    assert not list(killed.glob("*.tmp"))


def test_resume_without_saved_buffer_continues_with_finite_metrics(tmp_path):
    out = tmp_path / "run"
    kill_after_checkpoint(
        start_training(out, "--steps", "600", "--checkpoint-every", "50", "--save-buffer"),
        out,
        min_steps=100,
    )
    for f in out.glob("replay_*.npz"):
        f.unlink()
    ckpt = load_checkpoint(out)
    ckpt.state["parts"]["buffer"]["file"] = None  # as if the run had not saved its buffer
    save_checkpoint(out, ckpt.state)
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    rows = read_progress(out / "progress.csv")
    assert rows[-1]["env_steps"] == 600
    assert all(np.isfinite(v) for v in rows[-1].values())


def test_resume_can_extend_a_finished_run(tmp_path):
    out = train_tiny(tmp_path / "run", "--steps", "200")
    assert main(["train", "--resume", str(out), "--steps", "300", "--quiet"]) == 0
    assert [r["env_steps"] for r in read_progress(out / "progress.csv")] == [0, 100, 200, 300]
    assert load_checkpoint(out).config.steps == 300


def test_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, {"version": 1})

    def failing_save(obj, f):
        f.write(b"partial garbage")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, {"version": 2})
    monkeypatch.undo()
    assert torch.load(tmp_path / CHECKPOINT_FILE)["version"] == 1
    assert not list(tmp_path.glob("*.tmp"))


def test_nan_loss_stops_with_one_line_naming_the_loss_and_keeps_the_checkpoint(
    tmp_path, monkeypatch, capsys
):
    real_update = TD3.update

    def update_then_nan(self, *args):
        metrics = real_update(self, *args)
        if self.updates > 400:
            metrics["td3/critic_loss"] = torch.tensor(float("nan"))
        return metrics

    monkeypatch.setattr(TD3, "update", update_then_nan)
    out = tmp_path / "run"
    code = main(["train", *TINY, "--out", str(out), "--checkpoint-every", "50"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert "critic_loss became nan" in err and "last good checkpoint" in err
    kept = load_checkpoint(out).env_steps
    assert 0 < kept < 300
    assert f"env step {kept}" in err


def test_resume_refuses_configuration_changes(tmp_path, tiny_run, capsys):
    assert main(["train", "--resume", str(tiny_run), "--vae.beta", "2"]) == 2
    assert "--resume takes only --steps" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "missing")]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_resume_accepts_where_and_how_fast_a_run_goes(tmp_path, tiny_run, capsys):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    args = ["train", "--resume", str(out), "--steps", "400", "--threads", "1", "--device", "cpu"]
    assert main([*args, "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "resuming with threads 0 -> 1" in err and "edited" not in err
    config = json.loads((out / "config.json").read_text())
    assert (config["threads"], config["steps"]) == (1, 400)
    assert load_checkpoint(out).config.threads == 1
    assert main(["train", "--resume", str(out), "--threads", "-2"]) == 2
    assert "threads must be >= 0, got -2" in capsys.readouterr().err
