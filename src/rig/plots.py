"""The paper's figures from run directories: one panel per task, one line per method.

Each line is the mean across seeds of a final-step evaluation metric against
environment steps, with its 95% confidence interval shaded (Figures 3-6 and 9-11:
final distance; Figure 12: success rate).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rig.results import Run, curve, grouped

METRICS = {
    "distance": ("eval/final_distance", "final distance to goal"),
    "success": ("eval/final_success", "success rate"),
    "hand-distance": ("eval/final_hand_distance", "final hand distance"),
    "puck-distance": ("eval/final_puck_distance", "final puck distance"),
}
"""``rig plot --metric`` choices: progress.csv column and axis label."""


def plot_runs(
    runs: list[Run],
    path: Path,
    metric: str = "distance",
    title: str = "",
    references: dict[str, float] | None = None,
) -> None:
    """Draw ``runs`` to ``path`` (any format Matplotlib writes, by extension)."""
    fig = draw(runs, metric, title, references)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def draw(
    runs: list[Run],
    metric: str = "distance",
    title: str = "",
    references: dict[str, float] | None = None,
) -> plt.Figure:
    """The figure of ``runs``: a panel per task, a line and its 95% CI band per method, and a
    dashed line for each of ``references`` (label: value, e.g. a do-nothing baseline)."""
    column, label = METRICS[metric]
    if not any(column in row for run in runs for row in run.rows):
        raise ValueError(f"no run logged {column!r}; the runs' progress.csv lacks it")
    groups = grouped(runs)
    colors = _colors([m for methods in groups.values() for m in methods])
    fig, axes = plt.subplots(
        1, len(groups), figsize=(4.8 * len(groups), 3.8), squeeze=False, layout="constrained"
    )
    seeds: dict[str, set[int]] = {}
    """Seeds per method on each panel, for the legend."""
    for ax, (task, methods) in zip(axes[0], groups.items()):
        for method, method_runs in methods.items():
            steps, mean, ci, n = curve(method_runs, column)
            band = np.nan_to_num(ci)
            seeds.setdefault(method, set()).add(int(max(n)))
            ax.plot(steps, mean, color=colors[method], label=method)
            ax.fill_between(steps, mean - band, mean + band, color=colors[method], alpha=0.2, lw=0)
        for name, value in (references or {}).items():
            ax.axhline(value, color="gray", linestyle="--", linewidth=1, label=name)
        ax.set_title(task)
        ax.set_xlabel("environment steps")
        ax.set_ylabel(label)
        if metric == "success":
            ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    # one legend below the panels: long names of method variants would hide the curves
    labelled = {}
    for ax in axes[0]:
        for handle, name in zip(*ax.get_legend_handles_labels()):
            counts = sorted(seeds.get(name, ()))
            if counts:
                shown = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
                name = f"{name} (n={shown})"
            labelled.setdefault(name, handle)
    fig.legend(labelled.values(), labelled.keys(), loc="outside lower center", fontsize=8,
               frameon=False)  # fmt: skip
    if title:
        fig.suptitle(title)
    return fig


def _colors(methods: list[str]) -> dict[str, str]:
    """RIG in red as in the paper; each other method one colour on every panel."""
    palette = [c for c in plt.get_cmap("tab10").colors if c != plt.get_cmap("tab10").colors[3]]
    others = [m for m in dict.fromkeys(methods) if m != "rig"]
    colors = {m: matplotlib.colors.to_hex(palette[i % len(palette)]) for i, m in enumerate(others)}
    return {"rig": "tab:red", **colors}
