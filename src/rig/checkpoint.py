"""Checkpoints: written atomically (temporary file, then rename), the previous one kept;
unreadable files and full disks are named in one line (``Agent.from_checkpoint`` loads one)."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rig.config import Config
from rig.errors import RigError

CHECKPOINT_FILE = "checkpoint.pt"
PREVIOUS_CHECKPOINT_FILE = "checkpoint.prev.pt"
"""The checkpoint before the last: what a resume falls back on if the last is unreadable."""


FORMAT = 2
"""Checkpoint layout: 2 saves each part of a run under its own name (``state["parts"]``);
1 (no ``format`` key, before 2026-12-07) kept them in one flat dict."""


class DiskFull(RigError, OSError):
    """No space was left on the device while writing a file; nothing was replaced."""


class CorruptCheckpoint(RigError, ValueError):
    """A checkpoint file exists but cannot be read (truncated, corrupt or empty)."""


def _mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _is_disk_full(err: BaseException) -> bool:
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(err)
    return "No space left" in text or "file write failed" in text or "enforce fail" in text


def _atomic_write(path: Path, write, keep_previous: Path | None = None) -> Path:
    """Call ``write(file)`` on a temporary file, sync it, then rename it over ``path``.

    With ``keep_previous``, the file being replaced is first renamed there. A write that
    fails (a full disk included) leaves ``path`` as it was.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, Exception) and _is_disk_full(err):
            raise DiskFull(
                errno.ENOSPC,
                f"no space left on the device mounted at {_mount_point(path.parent)} "
                f"while writing {path}",
            ) from None
        raise
    if keep_previous is not None and path.exists():
        _keep_copy(path, keep_previous)
    os.replace(tmp, path)
    return path


def _keep_copy(path: Path, copy: Path) -> None:
    """Make ``copy`` hold ``path``'s current contents while ``path`` stays in place (a hard
    link where the file system has them), so that no moment is left without ``path``."""
    staged = copy.with_name(copy.name + ".tmp")
    staged.unlink(missing_ok=True)
    try:
        os.link(path, staged)
    except OSError:
        shutil.copyfile(path, staged)
    os.replace(staged, copy)


def save_state(path: Path, payload: dict, keep_previous: Path | None = None) -> Path:
    """Atomically ``torch.save`` ``payload`` to ``path`` (see :func:`_atomic_write`)."""
    return _atomic_write(path, lambda f: torch.save(payload, f), keep_previous)


def save_checkpoint(run_dir: Path, payload: dict) -> Path:
    """Write ``payload`` to ``run_dir/checkpoint.pt`` so that a crash never leaves it
    half-written; the checkpoint it replaces becomes ``checkpoint.prev.pt``."""
    run_dir = Path(run_dir)
    return save_state(run_dir / CHECKPOINT_FILE, payload, run_dir / PREVIOUS_CHECKPOINT_FILE)


def save_arrays(path: Path, arrays: np.ndarray | dict[str, np.ndarray]) -> Path:
    """Atomically write one array (``.npy``) or a dict of arrays (``.npz``, uncompressed)."""
    if isinstance(arrays, dict):
        return _atomic_write(path, lambda f: np.savez(f, **arrays))
    return _atomic_write(path, lambda f: np.save(f, arrays))


def remove_stray_temporary_files(run_dir: Path) -> None:
    """Delete the ``*.tmp`` files an interrupted atomic write can leave behind."""
    for stray in Path(run_dir).glob("*.tmp"):
        stray.unlink(missing_ok=True)


@dataclass
class Checkpoint:
    config: Config
    state: dict
    path: Path | None = None
    """The file it was read from: ``checkpoint.pt``, or ``checkpoint.prev.pt`` as a fallback."""

    @property
    def env_steps(self) -> int:
        return self.state["parts"]["counters"].get("env_steps", 0)


def migrate(state: dict, path: Path | str = "checkpoint") -> dict:
    """``state`` in the current :data:`FORMAT`, whichever rig wrote it; a layout from a newer
    rig is refused in one line."""
    version = state.get("format", 1)
    if version == FORMAT:
        return state
    if version != 1:
        raise CorruptCheckpoint(
            f"{path} has checkpoint format {version}; this rig reads formats 1-{FORMAT} "
            "(upgrade rig to load it)"
        )
    counters = state.get("counters", {})
    part_keys = {
        "representation_training": ("representation", "vae_trainer", "representation_rows"),
        "imagined_goals": ("prior", "stored_goal_latents"),
        "learner": ("td3", "td3_totals"),
        "collector": ("collector_moved",),
    }
    parts = {name: {k: state[k] for k in keys if k in state} for name, keys in part_keys.items()}
    parts["representation_training"]["last_finetune"] = state.get(
        "last_finetune", counters.get("last_finetune", (0, 0))
    )
    parts["learner"]["update_seconds"] = state.get(
        "update_seconds", counters.get("update_seconds", 0.0)
    )
    parts["counters"] = {
        **{k: counters[k] for k in ("env_steps", "episodes", "rl_seconds") if k in counters},
        **({"progress_rows": state["progress_rows"]} if "progress_rows" in state else {}),
    }
    if state.get("env_goals") is not None:
        parts["task_goals"] = {"raw": state["env_goals"]}
    parts["randomness"] = state["rng"]
    parts["buffer"] = {"file": state.get("buffer_file")}
    return {"format": FORMAT, "config": state["config"], "spaces": state.get("spaces"),
            "parts": parts}  # fmt: skip


def read_state(path: Path, device: str = "cpu") -> dict:
    """The dict saved in ``path``, in the current :data:`FORMAT`; a file that cannot be read
    is a :class:`CorruptCheckpoint`."""
    path = Path(path)
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as err:
        reason = " ".join(str(err).split())[:160] or type(err).__name__
        size = path.stat().st_size
        raise CorruptCheckpoint(
            f"{path} is corrupt, truncated or empty ({size} bytes; {reason})"
        ) from None
    if not isinstance(state, dict) or "config" not in state:
        raise CorruptCheckpoint(f"{path} is not a rig checkpoint (no configuration in it)")
    return migrate(state, path)


def load_checkpoint(run_dir: Path, device: str = "cpu") -> Checkpoint:
    """The run's last checkpoint; if that file is unreadable, the one before it (with a note)."""
    run_dir = Path(run_dir)
    path = run_dir / CHECKPOINT_FILE
    previous = run_dir / PREVIOUS_CHECKPOINT_FILE
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint in {run_dir} (expected {path.name})")
    try:
        state = read_state(path, device)
    except CorruptCheckpoint as err:
        path = previous
        if not previous.exists():
            raise CorruptCheckpoint(
                f"{err}; there is no earlier checkpoint to fall back on"
            ) from None
        try:
            state = read_state(previous, device)
        except CorruptCheckpoint:
            raise CorruptCheckpoint(f"{err}, and so is {previous.name}") from None
        steps = state["parts"]["counters"].get("env_steps", "?")
        print(
            f"rig: {err}; using the previous checkpoint {previous.name} (env step {steps})",
            file=sys.stderr,
        )
    return Checkpoint(Config.from_dict(state["config"]), state, path)
