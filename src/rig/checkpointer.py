"""Saving and restoring a :class:`~rig.run.Run`: each part's ``state_dict()`` under the
part's name (checkpoint :data:`~rig.checkpoint.FORMAT` 2), written atomically at episode
ends, the previous checkpoint and its replay file kept. With ``save_buffer`` a resumed run
reproduces the uninterrupted one exactly."""

from __future__ import annotations

import dataclasses

import numpy as np

from rig.checkpoint import FORMAT, DiskFull, save_arrays, save_checkpoint, save_state
from rig.run import Run
from rig.tracking import open_tracker

SAVED_PARTS = (
    "representation_training",
    "imagined_goals",
    "task_goals",
    "learner",
    "collector",
    "counters",
    "randomness",
)
"""The parts of a run a checkpoint holds, by their :class:`~rig.run.Run` field names (the
replay buffer is saved beside it, as ``buffer``: the name of its file)."""

PRETRAINING_PARTS = ("representation_training", "task_goals", "counters", "randomness")
"""What VAE pretraining in progress needs to continue (before the first checkpoint)."""


def run_state(run: Run, names: tuple[str, ...]) -> dict:
    """The named parts' states, with the run's configuration and task spaces."""
    parts = {name: getattr(run, name) for name in names}
    return {
        "format": FORMAT,
        "config": run.config.to_dict(),
        "spaces": dataclasses.asdict(run.spaces),
        "parts": {name: part.state_dict() for name, part in parts.items() if part is not None},
    }


def load_run_state(run: Run, state: dict, names: tuple[str, ...]) -> None:
    """Restore the named parts from ``state`` (a part the run lacks is skipped)."""
    for name in names:
        part = getattr(run, name)
        if part is not None and name in state["parts"]:
            part.load_state_dict(state["parts"][name])


class Checkpointer:
    """Writes and restores the checkpoints of one run."""

    def __init__(self, run: Run):
        self.run = run
        self.buffer_files: tuple[str | None, str | None] = (None, None)
        """Replay files of the previous and the last checkpoint (``save_buffer``)."""

    def kept(self) -> str:
        """What a run stopped now keeps, in words."""
        steps = self.run.counters.last_checkpoint_steps
        if steps is None:
            return "no checkpoint was written yet"
        return f"the last good checkpoint (env step {steps}) is kept"

    def due(self) -> bool:
        """Whether the run has crossed a ``checkpoint_every`` boundary since the last one."""
        counters, config = self.run.counters, self.run.config
        every, last = config.checkpoint_every, counters.last_checkpoint_steps or 0
        unfinished = counters.env_steps < config.steps
        return bool(every) and counters.env_steps // every > last // every and unfinished

    def save(self) -> None:
        """Everything needed to continue the run, written atomically (the buffer first); the
        previous checkpoint and its buffer are kept. A full disk stops the run in one line."""
        try:
            self._write()
        except DiskFull as err:
            raise DiskFull(err.errno, f"{err.strerror}; {self.kept()}") from None

    def _write(self) -> None:
        run = self.run
        buffer_file = None
        if run.config.save_buffer:
            buffer_file = f"replay_{run.counters.env_steps:09d}.npz"
            save_arrays(run.run_dir / buffer_file, run.buffer.state_dict())
        state = run_state(run, SAVED_PARTS)
        state["parts"]["buffer"] = {"file": buffer_file}
        save_checkpoint(run.run_dir, state)
        run.counters.last_checkpoint_steps = run.counters.env_steps
        self.buffer_files = (self.buffer_files[1], buffer_file)
        for old in run.run_dir.glob("replay_*.npz"):
            if old.name not in self.buffer_files:
                old.unlink()

    def load(self, state: dict) -> None:
        """Restore a checkpoint written by :meth:`save` (and its buffer, if saved)."""
        run = self.run
        load_run_state(run, state, SAVED_PARTS)
        run.counters.last_checkpoint_steps = run.counters.env_steps
        run.counters.start_log(
            state["parts"]["counters"]["progress_rows"], open_tracker(run.config, run.run_dir)
        )
        if run.task_goals is not None:
            run.task_goals.encode(run.representation_training.encode)
        buffer_file = state["parts"]["buffer"]["file"]
        if buffer_file:
            with np.load(run.run_dir / buffer_file) as arrays:
                run.buffer.load_state_dict(dict(arrays))
        self.buffer_files = (None, buffer_file)


class PretrainingSaves:
    """VAE pretraining in progress, saved in ``pretraining.pt`` until the first checkpoint,
    so that a run stopped during pretraining continues it."""

    FILE = "pretraining.pt"

    def __init__(self, run: Run):
        self.run = run
        self.path = run.run_dir / self.FILE

    def save(self) -> None:
        """Save pretraining so far."""
        save_state(self.path, run_state(self.run, PRETRAINING_PARTS))

    def load(self, state: dict) -> None:
        """Restore what :meth:`save` wrote (the exploration dataset is read from its file)."""
        load_run_state(self.run, state, PRETRAINING_PARTS)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
