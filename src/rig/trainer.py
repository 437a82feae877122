"""Starting and resuming runs: the run directory's safety checks, then a
:class:`~rig.workspace.Workspace` that executes Algorithm 1.

A run checkpoints at episode ends (atomically); :func:`resume` continues it.
With ``save_buffer`` the resumed run reproduces the uninterrupted one exactly.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from rig.checkpoint import (
    CHECKPOINT_FILE,
    PREVIOUS_CHECKPOINT_FILE,
    load_checkpoint,
    read_state,
    remove_stray_temporary_files,
)
from rig.checkpointer import PretrainingSaves
from rig.config import Config, replace_fields
from rig.errors import RigError
from rig.representation_training import DATASET_FILE
from rig.run import build_run
from rig.run_lock import LOCK_FILE, RunLock
from rig.workspace import CONFIG_FILE, Workspace


class RunDirectoryExists(RigError):
    """The run directory already holds a run and ``overwrite`` was not given."""


RUN_FILES = (
    CONFIG_FILE,
    CHECKPOINT_FILE,
    PREVIOUS_CHECKPOINT_FILE,
    PretrainingSaves.FILE,
    DATASET_FILE,
    "progress.csv",
    "summary.json",
    "tensorboard",
    "learning_curve.png",
    "representation.png",
    "vae.png",
    "rollouts.gif",
    "reach.gif",
    "replay_*.npz",
    "*.tmp",
    LOCK_FILE,
)
"""What rig writes in a run directory (names or patterns): ``--overwrite`` deletes nothing else."""


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` is recognisably a rig run (it holds a configuration or a checkpoint)."""
    return any((Path(path) / name).is_file() for name in (CONFIG_FILE, CHECKPOINT_FILE))


def not_a_rig_run(path: Path) -> str | None:
    """Why ``--overwrite`` may not delete ``path`` as a rig run, or None if it may: its
    ``config.json`` parses as a rig configuration, it holds rig's own records (a checkpoint,
    or a ``progress.csv`` with rig's header), and nothing that rig does not write."""
    path = Path(path)
    try:
        Config.load(path / CONFIG_FILE)
    except (OSError, ValueError, TypeError, AttributeError) as err:
        return f"its {CONFIG_FILE} is not a rig configuration ({type(err).__name__})"
    if not _holds_rig_records(path):
        return f"it holds no {CHECKPOINT_FILE} and no progress.csv written by rig"
    strangers = sorted(
        p.name for p in path.iterdir() if not any(fnmatch(p.name, f) for f in RUN_FILES)
    )
    if strangers:
        listed = ", ".join(strangers[:5]) + (", ..." if len(strangers) > 5 else "")
        return f"it holds files rig does not write: {listed}"
    return None


def _holds_rig_records(path: Path) -> bool:
    if (path / CHECKPOINT_FILE).is_file() or (path / PREVIOUS_CHECKPOINT_FILE).is_file():
        return True
    try:
        with (path / "progress.csv").open(errors="replace") as f:
            return f.readline().startswith("env_steps,episodes,")
    except OSError:
        return False


def check_run_dir(out: Path, overwrite: bool) -> bool:
    """Check that a new run may write ``out``; returns whether an old run must be deleted first.

    Only a directory that is recognisably a rig run (:func:`not_a_rig_run`) is ever deleted,
    never the working directory, one above it or the home directory.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirectoryExists(f"--out {out} is a file, not a directory")
    if not (out.exists() and any(p.name != LOCK_FILE for p in out.iterdir())):
        return False
    if not overwrite:
        hint = f"pass --resume {out} to continue it" if is_run_dir(out) else "choose another --out"
        raise RunDirectoryExists(
            f"run directory {out} is not empty; {hint}, or --overwrite to replace a rig run"
        )
    resolved = out.resolve()
    if resolved == Path.cwd() or resolved in Path.cwd().parents or resolved == Path.home():
        where = "the home directory" if resolved == Path.home() else "the working directory"
        if resolved in Path.cwd().parents:
            where = "a directory above the working directory"
        raise RunDirectoryExists(
            f"--overwrite never deletes {where} ({out}); nothing was deleted, choose another --out"
        )
    reason = not_a_rig_run(out)
    if reason:
        raise RunDirectoryExists(
            f"--overwrite deletes only a rig run directory; {out} is not one: {reason}; "
            "nothing was deleted"
        )
    return True


def train(config: Config, overwrite: bool = False, progress: bool = True) -> dict[str, float]:
    """Run RIG with ``config``; returns the final summary (also in ``summary.json``).

    With ``overwrite``, an old run in ``config.out`` is deleted only once the new run has
    been built (a run that cannot start destroys nothing)."""
    config.validate()
    run_dir = Path(config.out)
    check_run_dir(run_dir, overwrite)  # refused before anything is built
    workspace = Workspace(build_run(config, run_dir, progress))
    with RunLock(run_dir):
        # Checked again under the lock: another process may have written a run meanwhile.
        if check_run_dir(run_dir, overwrite):
            _delete_run_files(run_dir)
        return workspace.train()


def _delete_run_files(run_dir: Path) -> None:
    """Everything in a rig run directory but the lock this process holds."""
    for path in run_dir.iterdir():
        if path.name == LOCK_FILE:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


RUNTIME_FIELDS = ("threads", "device", "track")
"""Settings that change only where and how fast a run goes, not what it learns: the only
ones ``--resume`` accepts besides ``--steps``."""


def resume(
    run_dir: Path,
    steps: int | None = None,
    progress: bool = True,
    runtime: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Continue the run in ``run_dir`` from its last checkpoint (optionally to more ``steps``,
    with new :data:`RUNTIME_FIELDS` in ``runtime``, e.g. ``{"threads": 1}``).

    A run stopped before its first checkpoint continues its VAE pretraining, or starts
    again from its ``config.json`` if it had not reached pretraining.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no checkpoint in {run_dir}: it is not a directory")
    with RunLock(run_dir):
        return _resume(run_dir, steps, progress, runtime)


def _resume(
    run_dir: Path, steps: int | None, progress: bool, runtime: dict[str, Any] | None
) -> dict[str, float]:
    remove_stray_temporary_files(run_dir)
    if not (run_dir / CHECKPOINT_FILE).exists():
        return _resume_before_first_checkpoint(run_dir, steps, progress, runtime)
    checkpoint = load_checkpoint(run_dir)
    config = _resumed_config(run_dir, checkpoint.config, checkpoint.state, steps)
    config = _with_runtime(config, runtime)
    workspace = Workspace(build_run(config, run_dir, progress))
    workspace.checkpointer.load(checkpoint.state)
    if checkpoint.path is not None and checkpoint.path.name == PREVIOUS_CHECKPOINT_FILE:
        shutil.copyfile(checkpoint.path, run_dir / CHECKPOINT_FILE)
    config.save(run_dir / CONFIG_FILE)
    if progress:
        print(f"resuming {run_dir} at env step {checkpoint.env_steps}", flush=True)
    return workspace.train()


def _resume_before_first_checkpoint(
    run_dir: Path, steps: int | None, progress: bool, runtime: dict[str, Any] | None
) -> dict[str, float]:
    if not (run_dir / CONFIG_FILE).is_file():
        raise FileNotFoundError(
            f"no checkpoint in {run_dir} (expected {CHECKPOINT_FILE}) and no {CONFIG_FILE} "
            "to start it again from"
        )
    pretraining = run_dir / PretrainingSaves.FILE
    state = read_state(pretraining) if pretraining.exists() else None
    if state is not None:
        config = _resumed_config(run_dir, Config.from_dict(state["config"]), state, steps)
    else:
        try:
            config = Config.load(run_dir / CONFIG_FILE)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{run_dir / CONFIG_FILE} is unreadable ({err}) and the run has no checkpoint "
                "to restore it from"
            ) from None
        config = dataclasses.replace(config, out=run_dir)
        if steps is not None:
            config = config.with_steps(steps)
    config = _with_runtime(config, runtime)
    workspace = Workspace(build_run(config, run_dir, progress))
    if state is not None:
        workspace.pretraining.load(state)
    if progress:
        stage = "the start"
        if state is not None:
            trained = state["parts"]["representation_training"]["vae_trainer"]["steps_trained"]
            stage = f"VAE pretraining step {trained}"
        print(f"resuming {run_dir} (no checkpoint yet) from {stage}", flush=True)
    return workspace.train()


def _resumed_config(run_dir: Path, saved: Config, state: dict, steps: int | None) -> Config:
    """The saved configuration (restoring an edited ``config.json``), with ``steps`` if given."""
    done = state["parts"]["counters"].get("env_steps", 0)
    if steps is not None and steps < done:
        raise ValueError(f"--steps {steps} is below the {done} env steps {run_dir} has run already")
    try:
        on_disk = Config.load(run_dir / CONFIG_FILE)
    except (OSError, ValueError, TypeError):
        on_disk = None
    same = {"steps": saved.steps, "out": saved.out, **_runtime_of(saved)}
    if on_disk is None or dataclasses.replace(on_disk, **same) != saved:
        print(
            f"rig: {run_dir / CONFIG_FILE} was edited, unreadable or missing; restored from the "
            "checkpoint (a run's settings cannot change on resume: start a new run for that)",
            file=sys.stderr,
        )
    saved = dataclasses.replace(saved, out=run_dir)
    return saved.with_steps(steps) if steps is not None else saved


def _runtime_of(config: Config) -> dict[str, Any]:
    return {name: getattr(config, name) for name in RUNTIME_FIELDS}


def _with_runtime(config: Config, runtime: dict[str, Any] | None) -> Config:
    """``config`` with new runtime settings (checked), and a note of what changed."""
    changes = {k: v for k, v in (runtime or {}).items() if getattr(config, k) != v}
    if not changes:
        return config
    unknown = set(changes) - set(RUNTIME_FIELDS)
    if unknown:
        raise ValueError(f"--resume cannot change {', '.join(sorted(unknown))}")
    new = replace_fields(config, changes).validate()
    said = ", ".join(f"{k} {getattr(config, k)!r} -> {v!r}" for k, v in changes.items())
    print(f"rig: resuming with {said} (recorded in {CONFIG_FILE})", file=sys.stderr)
    return new
