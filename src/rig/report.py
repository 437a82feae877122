"""A markdown table of final metrics per task x method: mean and 95% CI across seeds."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from functools import partial

from rig.evaluate import split_column, split_kinds
from rig.results import Run, grouped, mean_ci

COLUMNS = {
    "final distance": lambda run, key: run.summary.get(key("eval/final_distance"), math.nan),
    "success rate": lambda run, key: run.summary.get(key("eval/final_success"), math.nan),
    "success over the run": lambda run, key: _mean_over_run(run, key("eval/final_success")),
}
"""Column title and the value of one finished run; the last is the area under the
success curve (its mean over every evaluation), which tells apart methods that all end
at the same success rate but reach it at different speeds."""


def _mean_over_run(run: Run, key: str) -> float:
    values = [row[key] for row in run.rows if key in row and not math.isnan(row[key])]
    return sum(values) / len(values) if values else math.nan


def report_table(runs: list[Run], split: str | None = None, unfinished: bool = False) -> str:
    """One row per task x method from the finished runs; unfinished runs are listed below.

    ``split`` (an ``info`` entry such as ``num_pucks``, Figure 6): one row per method and
    kind of evaluation episode instead. ``unfinished``: runs still in progress count too,
    at their last evaluation (the env steps column tells where).
    """
    if unfinished:
        runs = [r if r.summary is not None else at_last_evaluation(r) for r in runs if r.rows]
    finished = [r for r in runs if r.summary is not None]
    kinds = _kinds(finished, split) if split else {"": lambda column: column}
    lines = [
        "| task | method | "
        + " | ".join(f"{c} (mean ± 95% CI)" for c in COLUMNS)
        + " | env steps | seeds |",
        "|---|---|" + "---|" * len(COLUMNS) + "---|---|",
    ]
    for task, methods in grouped(finished).items():
        for method, group in methods.items():
            steps = sorted({int(r.summary["env_steps"]) for r in group})
            shown = f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,}-{steps[-1]:,}"
            seeds = ", ".join(str(s) for s in sorted(r.seed for r in group))
            for kind, key in kinds.items():
                cells = [
                    format_mean_ci(*mean_ci([value(r, key) for r in group])[:2])
                    for value in COLUMNS.values()
                ]
                lines.append(
                    f"| {task} | {method}{kind} | " + " | ".join(cells) + f" | {shown} | {seeds} |"
                )
    unfinished = [r for r in runs if r.summary is None]
    if unfinished:
        lines += ["", "Not finished (left out): " + ", ".join(str(r.path) for r in unfinished)]
    return "\n".join(lines) + "\n"


def at_last_evaluation(run: Run) -> Run:
    """An unfinished run as if it had ended at its last logged evaluation."""
    return dataclasses.replace(run, summary=dict(run.rows[-1]))


def _kinds(runs: list[Run], split: str) -> dict[str, Callable[[str], str]]:
    """`` (<split> <value>)`` row suffix -> the column of each metric over those episodes."""
    logged = {key for run in runs for key in run.summary}
    return {
        label: partial(split_column, split=split, value=v)
        for label, v in split_kinds(logged, split).items()
    }


def format_mean_ci(mean: float, half_width: float) -> str:
    if math.isnan(mean):
        return "n/a"
    if math.isnan(half_width):
        return f"{mean:.3f} (one seed)"
    return f"{mean:.3f} ± {half_width:.3f}"
