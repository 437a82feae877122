"""Nothing lost, every bad input named: overwrite safety, resuming before the first
checkpoint, Ctrl-C, damaged checkpoints, full disks and edited configurations."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import TINY, lock_held_elsewhere, train_tiny
from test_resume import metrics_without_time

from rig import checkpointer, representation_training, trainer
from rig.checkpoint import (
    CHECKPOINT_FILE,
    PREVIOUS_CHECKPOINT_FILE,
    CorruptCheckpoint,
    DiskFull,
    load_checkpoint,
    save_checkpoint,
)
from rig.cli import main
from rig.config import Config
from rig.interrupt import Interrupted
from rig.logger import read_progress
from rig.vae_trainer import VAETrainer


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


# ----- --overwrite ------------------------------------------------------------------------
def test_overwrite_refuses_a_directory_that_is_not_a_rig_run(tmp_path, capsys):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work")
    assert main(["train", *TINY, "--out", str(thesis), "--overwrite"]) == 2
    assert "deletes only a rig run directory" in error_line(capsys)
    assert (thesis / "chapter1.tex").read_text() == "years of work"


def test_overwrite_never_deletes_the_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.json").write_text("{}")  # even one that looks like a run
    assert main(["train", *TINY, "--out", "", "--overwrite"]) == 2
    err = error_line(capsys)
    assert "never deletes the working directory" in err and "nothing was deleted" in err
    assert (tmp_path / "config.json").exists()


@pytest.mark.parametrize(
    "files,reason",
    [
        ({"config.json": "{}", "important.txt": "notes"}, "no checkpoint.pt and no progress.csv"),
        ({"config.json": "[1, 2]", "progress.csv": "a,b\n"}, "not a rig configuration"),
        ({"config.json": '{"vae": {"nope": 1}}'}, "not a rig configuration"),
        ({"config.json": "{}", "progress.csv": "env_steps,episodes,x\n", "data.h5": ""},
         "files rig does not write: data.h5"),
    ],
)  # fmt: skip
def test_overwrite_trusts_only_a_real_rig_run_and_names_why(files, reason, tmp_path, capsys):
    out = tmp_path / "looks_like_a_run"
    out.mkdir()
    for name, text in files.items():
        (out / name).write_text(text)
    assert main(["train", *TINY, "--out", str(out), "--overwrite"]) == 2
    err = error_line(capsys)
    assert "deletes only a rig run directory" in err and reason in err
    assert sorted(p.name for p in out.iterdir()) == sorted(files)  # every file left in place


@pytest.mark.slow
def test_overwrite_keeps_the_old_run_when_the_new_one_cannot_start(tmp_path, tiny_run, capsys):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    args = ["train", *TINY, "--out", str(out), "--overwrite"]
    assert main([*args, "--eval-env", "reacher"]) == 2
    assert "cannot evaluate a policy trained on" in error_line(capsys)
    assert load_checkpoint(out).config.seed == 3  # the old run is untouched
    assert main([*args, "--seed", "4"]) == 0
    assert load_checkpoint(out).config.seed == 4


def test_eval_env_must_share_the_training_tasks_spaces(tmp_path, capsys):
    assert main(["train", *TINY, "--out", str(tmp_path / "r"), "--eval-env", "reacher"]) == 2
    err = error_line(capsys)
    assert "observation spaces" in err and "goal layouts" in err
    assert not (tmp_path / "r").exists()


# ----- resuming before the first checkpoint -------------------------------------------------
def stop_pretraining_after(monkeypatch, calls: int) -> None:
    """Ask the run to stop (as Ctrl-C does) after ``calls`` pieces of VAE pretraining."""
    monkeypatch.setattr(representation_training, "PRETRAINING_CHECKPOINT_STEPS", 7)
    real_train, seen = VAETrainer.train, []

    def train(self, steps, replay=None, bar=None, should_stop=None):
        metrics = real_train(self, steps, replay, bar, should_stop)
        seen.append(steps)
        if len(seen) == calls and should_stop is not None:
            should_stop.requested = True
        return metrics

    monkeypatch.setattr(VAETrainer, "train", train)


@pytest.mark.slow
@pytest.mark.parametrize("pieces", [2, 3])  # 3: stopped in the last piece, none left to run
def test_a_run_stopped_during_vae_pretraining_resumes_to_the_uninterrupted_run(
    tmp_path, monkeypatch, capsys, pieces
):
    monkeypatch.setattr(representation_training, "PRETRAINING_CHECKPOINT_STEPS", 7)
    uninterrupted = train_tiny(tmp_path / "whole")
    stop_pretraining_after(monkeypatch, calls=pieces)
    out = tmp_path / "stopped"
    assert main(["train", *TINY, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert f"interrupted during VAE pretraining (step {min(7 * pieces, 20)} of 20)" in err
    assert f"rig train --resume {out}" in err
    assert (
        not (out / CHECKPOINT_FILE).exists() and (out / checkpointer.PretrainingSaves.FILE).exists()
    )
    (out / "checkpoint.pt.tmp").write_bytes(b"stray")

    monkeypatch.undo()
    monkeypatch.setattr(representation_training, "PRETRAINING_CHECKPOINT_STEPS", 7)
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    assert metrics_without_time(out) == metrics_without_time(uninterrupted)
    assert not (out / checkpointer.PretrainingSaves.FILE).exists()
    assert not list(out.glob("*.tmp"))


@pytest.mark.slow
def test_a_run_killed_before_pretraining_starts_again_from_its_configuration(tmp_path):
    uninterrupted = train_tiny(tmp_path / "whole")
    out = tmp_path / "killed"
    out.mkdir()
    shutil.copy(uninterrupted / "config.json", out / "config.json")  # all a kill leaves
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    assert metrics_without_time(out) == metrics_without_time(uninterrupted)


def test_a_plain_rerun_of_a_stopped_run_says_to_resume(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text("{}")
    assert main(["train", *TINY, "--out", str(out)]) == 2
    assert f"pass --resume {out}" in error_line(capsys)


# ----- Ctrl-C ------------------------------------------------------------------------------
@pytest.mark.slow
def test_ctrl_c_writes_a_checkpoint_and_prints_the_real_resume_command(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "rig.cli", "train", *TINY, "--steps", "3000", "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not (out / CHECKPOINT_FILE).exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err.decode()
    last = err.decode().strip().splitlines()[-1]
    steps = load_checkpoint(out).env_steps
    assert last == (
        f"rig: interrupted at env step {steps}; checkpoint written; "
        f"resume with: rig train --resume {out}"
    )
    assert 0 < steps < 1000  # written at the stop: the next periodic checkpoint was at 1000
    assert main(["train", "--resume", str(out), "--steps", str(steps + 100), "--quiet"]) == 0
    assert read_progress(out / "progress.csv")[-1]["env_steps"] == steps + 100


# ----- damaged checkpoints and full disks ---------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage"])
def test_a_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path, tiny_run, capsys, damage):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    previous = torch.load(out / PREVIOUS_CHECKPOINT_FILE, weights_only=False)
    previous_steps = previous["parts"]["counters"]["env_steps"]
    path = out / CHECKPOINT_FILE
    data = path.read_bytes()
    path.write_bytes(
        {"truncate": data[: len(data) // 2], "empty": b"", "garbage": b"x" * 999}[damage]
    )
    checkpoint = load_checkpoint(out)
    assert checkpoint.env_steps == previous_steps
    err = error_line(capsys)
    assert (
        f"{path} is corrupt" in err
        and f"using the previous checkpoint {PREVIOUS_CHECKPOINT_FILE}" in err
    )

    (out / PREVIOUS_CHECKPOINT_FILE).unlink()
    with pytest.raises(CorruptCheckpoint, match="no earlier checkpoint"):
        load_checkpoint(out)
    assert main(["eval", "--run", str(out), "--episodes", "2"]) == 2
    err = error_line(capsys)
    assert err.startswith(f"rig: error: {path} is corrupt, truncated or empty")


@pytest.mark.slow
def test_resume_from_the_previous_checkpoint_repairs_the_run(tmp_path, tiny_run):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    (out / CHECKPOINT_FILE).write_bytes(b"")
    assert main(["train", "--resume", str(out), "--steps", "400", "--quiet"]) == 0
    assert load_checkpoint(out).env_steps == 400


def test_a_full_disk_is_named_and_the_last_checkpoint_is_kept(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    save_checkpoint(tmp_path, {"config": {}, "version": 1})
    (tmp_path / "checkpoint.pt.tmp").symlink_to("/dev/full")  # every write: ENOSPC
    with pytest.raises(
        DiskFull, match=f"no space left on the device mounted at .* while writing {tmp_path}"
    ):
        save_checkpoint(tmp_path, {"config": {}, "version": 2, "weights": torch.zeros(10_000)})
    assert torch.load(tmp_path / CHECKPOINT_FILE)["version"] == 1
    assert not (tmp_path / "checkpoint.pt.tmp").exists()


@pytest.mark.slow
def test_training_on_a_full_disk_stops_in_one_line_keeping_the_last_checkpoint(
    tmp_path, monkeypatch, capsys
):
    real_write = checkpointer.Checkpointer._write

    def write(self):
        if self.run.counters.env_steps >= 200:
            raise DiskFull(
                28, f"no space left on the device mounted at / while writing {self.run.run_dir}"
            )
        real_write(self)

    monkeypatch.setattr(checkpointer.Checkpointer, "_write", write)
    assert main(["train", *TINY, "--out", str(tmp_path / "run"), "--checkpoint-every", "100"]) == 2
    err = error_line(capsys)
    assert "no space left" in err and "the last good checkpoint (env step 100) is kept" in err


# ----- resume arguments and edited configurations ---------------------------------------------
@pytest.mark.slow
def test_resume_refuses_fewer_steps_than_already_run(tmp_path, tiny_run, capsys):
    before = (tiny_run / "config.json").read_text()
    assert main(["train", "--resume", str(tiny_run), "--steps", "200"]) == 2
    assert "--steps 200 is below the 300 env steps" in error_line(capsys)
    assert (tiny_run / "config.json").read_text() == before
    assert main(["train", "--resume", str(tiny_run), "--steps", "abc"]) == 2
    assert "invalid int value: 'abc'" in error_line(capsys)


@pytest.mark.slow
@pytest.mark.parametrize("edit", ["not json {", "other env"])
def test_an_edited_config_json_is_restored_on_resume(tmp_path, tiny_run, capsys, edit):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    if edit == "other env":
        config = json.loads((out / "config.json").read_text())
        (out / "config.json").write_text(json.dumps({**config, "env": "reacher"}))
    else:
        (out / "config.json").write_text(edit)
    assert main(["train", "--resume", str(out), "--steps", "400", "--quiet"]) == 0
    assert "restored from the checkpoint" in capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert (config["env"], config["steps"]) == ("point", 400)


def test_tyro_type_errors_are_one_line(tmp_path, capsys):
    for args, message in (
        (["--steps", "abc"], "Error parsing --steps: invalid literal for int()"),
        (["--vae.nonsense", "3"], "Unrecognized options: --vae.nonsense, 3"),
        (["--noise.kind", "pink"], "unknown noise kind 'pink'; known: ou, gaussian"),
        (["--seed", "-1"], "seed must be >= 0, got -1"),
        (["--vae.beta", "nan"], "vae.beta must be a finite number, >= 0, got nan"),
        (["--td3.discount", "2"], "td3.discount must be in [0, 1], got 2.0"),
        (["--td3.hidden-sizes"], "td3.hidden_sizes"),
    ):
        assert main(["train", "--out", str(tmp_path / "x"), *args]) == 2
        err = error_line(capsys)
        assert err.startswith("rig: error:") and message in err
        assert not (tmp_path / "x").exists()


def test_interrupted_is_raised_by_the_library_too(tmp_path, monkeypatch):
    stop_pretraining_after(monkeypatch, calls=1)
    from rig.cli import train_config

    config = train_config([*(a for a in TINY if a != "--quiet"), "--out", str(tmp_path / "run")])
    with pytest.raises(Interrupted, match="step 7 of 20"):
        trainer.train(config, progress=False)


def test_first_ctrl_c_asks_to_stop_and_the_second_stops_at_once():
    from rig.interrupt import StopRequest

    before = signal.getsignal(signal.SIGINT)
    with StopRequest(announce=False) as stop:
        assert not stop()
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs between bytecodes of this thread
        assert stop() and stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)
    assert signal.getsignal(signal.SIGINT) is before


def test_check_run_dir_says_what_it_would_delete(tmp_path):
    from rig.trainer import RunDirectoryExists, check_run_dir

    assert check_run_dir(tmp_path / "new", overwrite=False) is False
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"")
    Config().save(run / "config.json")
    assert check_run_dir(run, overwrite=True) is True
    with pytest.raises(RunDirectoryExists, match=f"pass --resume {run}"):
        check_run_dir(run, overwrite=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunDirectoryExists, match="is a file"):
        check_run_dir(tmp_path / "file", overwrite=True)


# ----- one writer per run ------------------------------------------------------------------
def test_a_second_writer_is_refused_naming_the_first_and_a_killed_one_blocks_nothing(
    tmp_path, tiny_run, capsys
):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    with lock_held_elsewhere(out) as holder:
        before = sorted(p.name for p in out.iterdir())
        assert main(["train", "--resume", str(out), "--steps", "400", "--quiet"]) == 2
        err = error_line(capsys)
        assert f"being written by another rig process (PID {holder.pid})" in err
        assert main(["train", *TINY, "--out", str(out), "--overwrite"]) == 2
        assert f"PID {holder.pid}" in error_line(capsys)
        assert sorted(p.name for p in out.iterdir()) == before  # nothing touched
    # the holder was SIGKILLed: the OS dropped its lock
    assert main(["train", "--resume", str(out), "--steps", "400", "--quiet"]) == 0
    assert load_checkpoint(out).env_steps == 400
