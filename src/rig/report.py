"""A markdown table of final metrics per task x method: mean and 95% CI across seeds."""

from __future__ import annotations

import math

from rig.results import Run, grouped, mean_ci

COLUMNS = {
    "final distance": lambda run: run.summary.get("eval/final_distance", math.nan),
    "success rate": lambda run: run.summary.get("eval/final_success", math.nan),
    "success over the run": lambda run: _mean_over_run(run, "eval/final_success"),
}
"""Column title and the value of one finished run; the last is the area under the
success curve (its mean over every evaluation), which tells apart methods that all end
at the same success rate but reach it at different speeds."""


def _mean_over_run(run: Run, key: str) -> float:
    values = [row[key] for row in run.rows if key in row and not math.isnan(row[key])]
    return sum(values) / len(values) if values else math.nan


def report_table(runs: list[Run]) -> str:
    """One row per task x method from the finished runs; unfinished runs are listed below."""
    finished = [r for r in runs if r.summary is not None]
    lines = [
        "| task | method | "
        + " | ".join(f"{c} (mean ± 95% CI)" for c in COLUMNS)
        + " | env steps | seeds |",
        "|---|---|" + "---|" * len(COLUMNS) + "---|---|",
    ]
    for task, methods in grouped(finished).items():
        for method, group in methods.items():
            cells = [
                format_mean_ci(*mean_ci([value(r) for r in group])[:2])
                for value in COLUMNS.values()
            ]
            steps = sorted({int(r.summary["env_steps"]) for r in group})
            shown = f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,}-{steps[-1]:,}"
            seeds = ", ".join(str(s) for s in sorted(r.seed for r in group))
            lines.append(f"| {task} | {method} | " + " | ".join(cells) + f" | {shown} | {seeds} |")
    unfinished = [r for r in runs if r.summary is None]
    if unfinished:
        lines += ["", "Not finished (left out): " + ", ".join(str(r.path) for r in unfinished)]
    return "\n".join(lines) + "\n"


def format_mean_ci(mean: float, half_width: float) -> str:
    if math.isnan(mean):
        return "n/a"
    if math.isnan(half_width):
        return f"{mean:.3f} (one seed)"
    return f"{mean:.3f} ± {half_width:.3f}"
