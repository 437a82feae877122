"""Metrics to ``progress.csv`` and TensorBoard, one row per evaluation."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter


class Logger:
    """Writes each row to TensorBoard and appends it to ``progress.csv``.

    The CSV header is fixed by the first row; later keys missing from it are
    added by rewriting the file, so columns never shift.
    """

    def __init__(self, run_dir: Path, rows: list[dict[str, float]] | None = None, tracker=None):
        """``rows``: the rows of a resumed run; later rows in the files are dropped.
        ``tracker``: also log each row there (a :class:`~rig.tracking.WandbTracker`)."""
        self.tracker = tracker
        self.csv_path = run_dir / "progress.csv"
        self.rows = list(rows or [])
        self.fields = list(dict.fromkeys(k for row in self.rows for k in row))
        purge = int(self.rows[-1]["env_steps"]) + 1 if self.rows else None
        self.writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"), purge_step=purge)
        self._write(self.rows, "w", header=True)

    def log(self, row: dict[str, float], step: int) -> None:
        row = {k: float(v) for k, v in row.items()}
        for key, value in row.items():
            if math.isfinite(value):
                self.writer.add_scalar(key, value, step)
        if self.tracker is not None:
            self.tracker.log(row, step)
        self.rows.append(row)
        new_fields = [k for k in row if k not in self.fields]
        if new_fields:
            self.fields += new_fields
            self._write(self.rows, "w", header=True)
        else:
            self._write([row], "a", header=False)

    def _write(self, rows, mode: str, header: bool) -> None:
        with self.csv_path.open(mode, newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields, restval="")
            if header:
                writer.writeheader()
            writer.writerows(rows)

    def log_media(self, paths: dict[str, Path], step: int) -> None:
        """Send the run's pictures and videos to the tracker, if there is one."""
        if self.tracker is not None:
            self.tracker.log_media(paths, step)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
        if self.tracker is not None:
            self.tracker.close()


def read_progress(path: Path) -> list[dict[str, float]]:
    """Rows of a ``progress.csv`` as floats (empty cells become NaN).

    A row that is not one of rig's (cut short by a kill mid-write, with extra cells, with
    every cell empty, or not numbers) is dropped with one warning naming the file and the
    row; the good rows are kept. ``rig report``, ``rig plot`` and the sweep read this way.
    """
    lines = Path(path).read_text(errors="replace").splitlines(keepends=True)
    rows, dropped = [], []
    if lines and not lines[-1].endswith("\n"):  # rig ends every row: this one was cut short
        dropped.append(len(lines))
        lines.pop()
    for number, row in enumerate(csv.DictReader(lines), start=2):  # line 1 is the header
        parsed = _parse_row(row)
        if parsed is None:
            dropped.append(number)
        else:
            rows.append(parsed)
    if dropped:
        at = ", ".join(map(str, sorted(dropped)))
        warnings.warn(f"{path}: dropped malformed row(s) at line {at}", stacklevel=2)
    return rows


def _parse_row(row: dict) -> dict[str, float] | None:
    """A row's cells as floats, or None if it is not a whole row of numbers."""
    if None in row or None in row.values() or all(v == "" for v in row.values()):
        return None  # extra cells, missing cells, or no value at all
    try:
        return {k: float(v) if v != "" else math.nan for k, v in row.items()}
    except ValueError:
        return None
