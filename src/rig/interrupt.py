"""Ctrl-C during training: the first one asks the run to stop at the next safe point
(after the current step) and write a checkpoint; a second one stops at once."""

from __future__ import annotations

import signal
import sys
import threading


class Interrupted(Exception):
    """Training stopped on request; the message says what was kept and how to resume."""


class StopRequest:
    """While entered (in the main thread), SIGINT sets :attr:`requested` instead of raising
    ``KeyboardInterrupt``; the loops that own the run check it between steps."""

    def __init__(self, announce: bool = True):
        self.requested = False
        self.announce = announce
        self._previous = None

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.announce:
            print(
                "\nrig: stopping after the current step to write a checkpoint "
                "(Ctrl-C again to stop at once)",
                file=sys.stderr,
                flush=True,
            )

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
