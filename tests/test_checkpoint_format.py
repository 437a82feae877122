"""The checkpoint layout: each part of a run under its own name, checkpoints of the older
flat layout (format 1) still resuming, and a newer layout refused in one line."""

import shutil

import numpy as np
import pytest
import torch

from rig.checkpoint import CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE, load_checkpoint
from rig.checkpointer import SAVED_PARTS
from rig.cli import main
from rig.logger import read_progress

pytestmark = pytest.mark.slow  # every test here trains


def flat_layout(state: dict) -> dict:
    """A format-2 checkpoint written out as rig wrote checkpoints before 2026-12-07: every
    part's entries in one flat dict, no ``format`` key."""
    parts = state["parts"]
    counters = parts["counters"]
    return {
        "config": state["config"],
        "spaces": state["spaces"],
        **parts["representation_training"],
        **parts["imagined_goals"],
        **parts["learner"],
        **parts["collector"],
        "counters": {k: counters[k] for k in ("env_steps", "episodes", "rl_seconds")},
        "rng": parts["randomness"],
        "train_metrics": {"vae/train_loss": 1.0},
        "progress_rows": counters["progress_rows"],
        "env_goals": parts["task_goals"]["raw"] if "task_goals" in parts else None,
        "buffer_file": parts["buffer"]["file"],
    }


def test_each_part_is_saved_under_its_own_name(tiny_run):
    state = load_checkpoint(tiny_run).state
    assert state["format"] == 2
    assert set(state) == {"format", "config", "spaces", "parts"}
    expected = (set(SAVED_PARTS) - {"task_goals"}) | {"buffer"}  # point draws no task goals
    assert set(state["parts"]) == expected
    assert "td3" in state["parts"]["learner"] and "prior" in state["parts"]["imagined_goals"]


def same(a, b) -> bool:
    """Whether two checkpoint entries hold the same values (tensors and arrays included)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (torch.Tensor, np.ndarray)):
        return bool((torch.as_tensor(a) == torch.as_tensor(b)).all())
    return a == b


def test_a_flat_format_1_checkpoint_reads_as_it_was_written_and_resumes(tmp_path, tiny_run):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    written = {}
    for name in (CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE):
        written[name] = torch.load(out / name, weights_only=False)
        torch.save(flat_layout(written[name]), out / name)
    assert "format" not in torch.load(out / CHECKPOINT_FILE, weights_only=False)
    assert same(load_checkpoint(out).state, written[CHECKPOINT_FILE])

    done = len(read_progress(out / "progress.csv"))
    assert main(["train", "--resume", str(out), "--steps", "400", "--quiet"]) == 0
    rows = read_progress(out / "progress.csv")
    assert rows[-1]["env_steps"] == 400 and len(rows) > done
    assert all(np.isfinite(v) for v in rows[-1].values())
    assert load_checkpoint(out).state["format"] == 2


def test_a_checkpoint_from_a_newer_rig_is_refused_in_one_line(tmp_path, tiny_run, capsys):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    for name in (CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE):
        state = torch.load(out / name, weights_only=False)
        torch.save({**state, "format": 99}, out / name)
    assert main(["train", "--resume", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "checkpoint format 99" in err and "upgrade rig" in err
