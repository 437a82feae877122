"""Reading finished or running run directories, and statistics across seeds."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rig.config import Config, flatten
from rig.logger import read_progress

NOT_PART_OF_A_METHOD = frozenset(
    {"seed", "out", "steps", "threads", "device", "checkpoint_every", "save_buffer"}
    | {"eval.episodes", "eval.every_steps", "eval.video_episodes"}
)
"""Fields a run may change without being a different method (bookkeeping, budget, how
often and on how many goals it is evaluated; not which task it is evaluated on)."""
DO_NOTHING = "do nothing"
"""The method label of the do-nothing baseline (``rig.baselines``)."""
NOT_LEARNED = ("state", "pixels")
ONLY_FOR_LEARNED = ("exploration.", "vae.", "imagined_goals")
"""Fields that do nothing for a representation that is not learned (the oracle, pixels)."""

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
_T95 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


@dataclass(frozen=True)
class Run:
    """One run directory: what it ran (from ``config.json``) and what it measured."""

    path: Path
    task: str
    method: str
    """The method preset, followed by any field the run changed from the preset and the
    task's protocol: ``rig (imagined_goals exploration-latents)``."""
    seed: int
    rows: list[dict[str, float]]
    """``progress.csv``, one row per evaluation."""
    summary: dict[str, float] | None
    """``summary.json``; ``None`` while the run is unfinished."""


def load_runs(paths: list[Path]) -> list[Run]:
    """Every run directory given, or found below the folders given (sweeps, ``runs/``)."""
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise ValueError(f"{path} does not exist")
        single = path / "config.json"
        configs = [single] if single.exists() else sorted(path.rglob("config.json"))
        found += [c.parent for c in configs if (c.parent / "progress.csv").exists()]
    if not found:
        raise ValueError(
            f"no run directories (config.json and progress.csv) in {', '.join(map(str, paths))}"
        )
    return [_load_run(d) for d in dict.fromkeys(found)]


def _load_run(run_dir: Path) -> Run:
    config = json.loads((run_dir / "config.json").read_text())
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return Run(
        run_dir,
        config["env"],
        method_label(config),
        int(config["seed"]),
        read_progress(run_dir / "progress.csv"),
        summary,
    )


def method_label(config: dict) -> str:
    """The run's method preset and, in brackets, the fields it changed from that preset on
    its task (so that variants of one method are told apart in tables and figures)."""
    from rig.presets import differences, resolve

    method = config["method"]
    try:
        ran = Config.from_dict(config)
        changed = differences(ran, resolve(method, ran.env))
    except (ValueError, TypeError):  # a configuration from another version of rig
        return method
    written = flatten(config).keys() - NOT_PART_OF_A_METHOD
    if ran.representation in NOT_LEARNED:  # no exploration images, VAE or imagined goals
        written = {k for k in written if not k.startswith(ONLY_FOR_LEARNED)}
    shown = [f"{k} {v}" for k, (_, v) in sorted(changed.items()) if k in written]
    return f"{method} ({', '.join(shown)})" if shown else method


def t95(dof: int) -> float:
    """The two-sided 95% quantile of Student's t with ``dof`` degrees of freedom."""
    if dof < 1:
        return math.nan
    if dof <= len(_T95):
        return _T95[dof - 1]
    z = 1.959964  # Cornish-Fisher expansion around the normal quantile, exact to 1e-3 past 30
    return z + (z**3 + z) / (4 * dof) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * dof**2)


def mean_ci(values) -> tuple[float, float, int]:
    """Mean, half-width of its 95% confidence interval (Student's t), and count; NaNs ignored.

    With one value the half-width is NaN: one seed gives no interval.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, 0
    if n == 1:
        return float(x[0]), math.nan, 1
    return float(x.mean()), t95(n - 1) * float(x.std(ddof=1)) / math.sqrt(n), n


def curve(runs: list[Run], metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``metric`` against env steps across ``runs`` (seeds): steps, mean, CI half-width, count.

    Each evaluation step uses the seeds that reached it, so a run still in progress
    shortens nothing but its own contribution.
    """
    by_step: dict[float, list[float]] = {}
    for run in runs:
        for row in run.rows:
            by_step.setdefault(row["env_steps"], []).append(row.get(metric, math.nan))
    steps = np.array(sorted(by_step))
    stats = np.array([mean_ci(by_step[s]) for s in steps]).reshape(-1, 3)
    return steps, stats[:, 0], stats[:, 1], stats[:, 2].astype(int)


def grouped(runs: list[Run]) -> dict[str, dict[str, list[Run]]]:
    """Runs by task, then by method; tasks in order of appearance, methods in preset order."""
    from rig.presets import METHODS

    order = {name: i for i, name in enumerate(METHODS)}
    order[DO_NOTHING] = len(order) + 1  # baselines last

    def rank(method: str) -> tuple[int, str]:
        return order.get(method.split(" (")[0], len(order)), method

    groups: dict[str, dict[str, list[Run]]] = {}
    for run in runs:
        groups.setdefault(run.task, {}).setdefault(run.method, []).append(run)
    return {
        task: dict(sorted(methods.items(), key=lambda kv: rank(kv[0])))
        for task, methods in groups.items()
    }
