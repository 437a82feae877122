"""One writer per run: an exclusive ``flock`` on a file in the run directory."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import ClassVar, TextIO

from rig.errors import RigError

LOCK_FILE = "run.lock"
"""Held (``flock``) by the one process that writes a run; it holds that process's PID."""


class RunInUse(RigError):
    """Another process is writing the run directory."""


class RunLock:
    """An exclusive lock on a run directory for the life of a run.

    The OS releases it when its process dies, so a lock left by a SIGKILL blocks nothing.
    Within one process it is reentrant: a sweep holds a trial's lock while it reads the
    trial's state, and the training it starts takes the same lock again.
    """

    _held: ClassVar[dict[Path, tuple[TextIO, int]]] = {}
    """Locks this process holds: the open lock file and how many ``with`` blocks hold it."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_FILE

    def __enter__(self) -> RunLock:
        key = self.path.resolve()
        if key in self._held:
            f, count = self._held[key]
            self._held[key] = (f, count + 1)
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = self.path.open("a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = f.read().strip() or "unknown"
            f.close()
            raise RunInUse(
                f"{self.path.parent} is being written by another rig process (PID {pid}); "
                "wait for it to end, or stop it, then --resume"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._held[key] = (f, 1)
        return self

    def __exit__(self, *exc) -> None:
        key = self.path.resolve()
        f, count = self._held.pop(key)
        if count > 1:
            self._held[key] = (f, count - 1)
            return
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()
