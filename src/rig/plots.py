"""The paper's figures from run directories: one panel per task, one line per method.

Each line is the mean across seeds of a final-step evaluation metric against
environment steps, with its 95% confidence interval shaded (Figures 3-6 and 9-11:
final distance; Figure 12: success rate).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rig.evaluate import split_column, split_kinds
from rig.results import Run, curve, grouped, mean_ci

METRICS = {
    "distance": ("eval/final_distance", "final distance to goal"),
    "success": ("eval/final_success", "success rate"),
    "hand-distance": ("eval/final_hand_distance", "final hand distance"),
    "puck-distance": ("eval/final_puck_distance", "final puck distance"),
}
"""``rig plot --metric`` names: progress.csv column and axis label."""


def metric_column(metric: str) -> tuple[str, str]:
    """The progress.csv column and axis label of ``metric``: a name in :data:`METRICS`, or
    any column itself (``train/moved_door``, ``eval/final_angle_distance``, ``episodes``)."""
    return METRICS.get(metric, (metric, metric))


def plot_runs(
    runs: list[Run],
    path: Path,
    metric: str = "distance",
    title: str = "",
    baselines: list[Run] | None = None,
    split: str | None = None,
) -> None:
    """Draw ``runs`` to ``path`` (any format Matplotlib writes, by extension)."""
    fig = draw(runs, metric, title, baselines, split)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _draw_curves(ax, methods: dict[str, list[Run]], lines, colors, seeds) -> None:
    """A line and its 95% CI band per method (and kind of episode) on one panel; records
    the seed count of each line in ``seeds``."""
    for method, method_runs in methods.items():
        for kind, kind_column in lines.items():
            name = method + kind
            steps, mean, ci, n = curve(method_runs, kind_column)
            band = np.nan_to_num(ci)
            seeds.setdefault(name, set()).add(int(max(n)))
            color = colors[name]
            ax.plot(steps, mean, color=color, label=name)
            ax.fill_between(steps, mean - band, mean + band, color=color, alpha=0.2, lw=0)


def _draw_baselines(ax, baselines: dict[str, list[Run]], lines, colors, first: str) -> None:
    """A dashed line at each baseline's mean final value (across seeds) on one panel."""
    for method, method_runs in baselines.items():
        for kind, kind_column in lines.items():
            value = mean_ci([run.rows[-1].get(kind_column, np.nan) for run in method_runs])[0]
            if not np.isfinite(value):  # the baseline does not log this column
                continue
            color = "gray" if len(lines) == 1 else colors[first + kind]  # as its kind
            ax.axhline(value, color=color, linestyle="--", linewidth=1, label=method + kind)


def _legend_below(fig, axes, seeds: dict[str, set[int]], columns: int) -> None:
    """One legend below the panels (long names of method variants would hide the curves),
    each line's name with its seed count."""
    labelled = {}
    for ax in axes:
        for handle, name in zip(*ax.get_legend_handles_labels()):
            counts = sorted(seeds.get(name, ()))
            if counts:
                shown = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
                name = f"{name} (n={shown})"
            labelled.setdefault(name, handle)
    fig.legend(labelled.values(), labelled.keys(), loc="outside lower center", fontsize=8,
               frameon=False, ncols=columns)  # fmt: skip
    fig.set_figheight(3.8 + 0.18 * math.ceil(len(labelled) / columns))  # the curves keep their room


def draw(
    runs: list[Run],
    metric: str = "distance",
    title: str = "",
    baselines: list[Run] | None = None,
    split: str | None = None,
) -> plt.Figure:
    """The figure of ``runs``: a panel per task, a line and its 95% CI band per method, and a
    dashed line for each of ``baselines`` on its task (their mean final value across seeds,
    e.g. ``rig.baselines.do_nothing_runs``).

    ``split`` (an ``info`` entry such as ``num_pucks``, Figure 6) draws one line per method
    and kind of evaluation episode instead.
    """
    lines, label = metric_lines(runs, metric, split)
    groups = grouped(runs)
    colors = _colors([[m + kind for m in methods for kind in lines] for methods in groups.values()])
    fig, axes = plt.subplots(
        1, len(groups), figsize=(4.8 * len(groups), 3.8), squeeze=False, layout="constrained"
    )
    seeds: dict[str, set[int]] = {}
    """Seeds per method on each panel, for the legend."""
    for ax, (task, methods) in zip(axes[0], groups.items()):
        _draw_curves(ax, methods, lines, colors, seeds)
        baseline_runs = grouped(baselines or []).get(task, {})
        _draw_baselines(ax, baseline_runs, lines, colors, first=next(iter(methods)))
        ax.set_title(task)
        ax.set_xlabel("environment steps")
        ax.set_ylabel(label)
        if metric == "success":
            ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    _legend_below(fig, axes[0], seeds, columns=len(groups))
    if title:
        fig.suptitle(title)
    return fig


def metric_lines(
    runs: list[Run], metric: str, split: str | None = None
) -> tuple[dict[str, str], str]:
    """The columns to draw (label suffix -> progress.csv column) and the axis label; raises
    ``ValueError`` if no run logged the metric."""
    column, label = metric_column(metric)
    if split and not column.startswith("eval/"):
        raise ValueError(f"--split sorts evaluation episodes; {column!r} is not an eval/ column")
    lines = split_lines(runs, column, split) if split else {"": column}
    if not any(c in row for c in lines.values() for run in runs for row in run.rows):
        raise ValueError(
            f"no run logged {column!r}; use {', '.join(METRICS)} or a progress.csv column "
            "such as train/moved_door"
        )
    return lines, label


def split_lines(runs: list[Run], column: str, split: str) -> dict[str, str]:
    """`` (<split> <value>)`` label suffix -> column, for each kind the runs logged."""
    logged = {key for run in runs for row in run.rows for key in row}
    kinds = split_kinds(logged, split)
    return {label: split_column(column, split, value) for label, value in kinds.items()}


def _colors(panels: list[list[str]]) -> dict[str, str]:
    """Line names per panel -> one colour per name, the same on every panel: RIG in red as in
    the paper. Variants of a method (``rig (eval_env ...)``) share their method's colour
    unless two of them share a panel, so RIG stays red across tasks."""
    names = list(dict.fromkeys(n for panel in panels for n in panel))
    base = {name: name.split(" (")[0] for name in names}
    crowded = {
        base[n] for panel in panels for n in panel if sum(base[m] == base[n] for m in panel) > 1
    }
    key = {name: name if base[name] in crowded else base[name] for name in names}
    tab10 = plt.get_cmap("tab10").colors
    palette = [c for c in tab10 if c != tab10[3]]
    others = [k for k in dict.fromkeys(key.values()) if k != "rig"]
    colors = {k: matplotlib.colors.to_hex(palette[i % len(palette)]) for i, k in enumerate(others)}
    colors["rig"] = "tab:red"
    return {name: colors[key[name]] for name in names}
