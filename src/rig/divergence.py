"""The divergence stop: a NaN or infinite loss or metric ends the run in one line that
says which checkpoint is kept."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from rig.errors import RigError


class TrainingDiverged(RigError):
    """A loss or a logged metric became NaN or infinite; the last good checkpoint is kept."""


@contextlib.contextmanager
def stop_if_diverged(env_steps: int, run_dir: Path, kept: Callable[[], str]) -> Iterator[None]:
    """Turn a ``FloatingPointError`` raised inside into :class:`TrainingDiverged`, naming the
    env step, what ``kept()`` says is kept, and the run directory."""
    try:
        yield
    except FloatingPointError as err:
        raise TrainingDiverged(
            f"training stopped at env step {env_steps}: {err}; {kept()} in {run_dir}"
        ) from None
