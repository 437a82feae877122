"""RIG against the state oracle on the Visual Pusher (issue 11): 3 seeds each, 100K env steps.

Usage:
    python benchmarks/pusher_learning.py --workers 2     # runs (or finishes) the sweep
    python benchmarks/pusher_learning.py --no-run        # only reads the runs already there

Runs `rig sweep sweeps/pusher.yaml` (the pusher's own protocol from `rig tasks`, cut at
100,000 env steps; finished trials are skipped, interrupted ones resumed), then prints:

* the report table (final hand + puck distance, the paper's metric, and success);
* final puck and hand distances per method (mean and 95% CI across seeds);
* the do-nothing distance: the same evaluation goals of each seed with the hand never moved;
* each RIG run's representation report (held-out R^2 per true-state dimension) after
  pretraining and at the end;
* the issue's bars: RIG's puck distance <= 0.06, and its hand + puck distance within
  1.5x of the oracle's.

Figures: docs/pusher_learning.png (hand + puck) and docs/pusher_puck_distance.png.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from rig import cli
from rig.baselines import do_nothing_runs
from rig.plots import plot_runs
from rig.report import format_mean_ci, report_table
from rig.results import Run, grouped, load_runs, mean_ci

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "sweeps" / "pusher.yaml"
PUCK_BAR = 0.06
ORACLE_RATIO_BAR = 1.5


def final(runs: list[Run], key: str) -> tuple[float, float]:
    return mean_ci([r.summary.get(key, math.nan) for r in runs])[:2]


def representation_lines(runs: list[Run]) -> list[str]:
    lines = []
    for run in sorted(runs, key=lambda r: r.seed):
        reports = [row for row in run.rows if not math.isnan(row.get("repr/r2_min", math.nan))]
        if not reports:
            continue
        names = [k for k in reports[0] if k.startswith("repr/r2_") and k != "repr/r2_min"]
        for label, row in (("after pretraining", reports[0]), ("at the end", reports[-1])):
            cells = ", ".join(f"{k.removeprefix('repr/r2_')} {row[k]:.3f}" for k in names)
            lines.append(f"  {run.method} seed {run.seed} {label}: {cells}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/sweeps/pusher"))
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-run", action="store_true", help="read existing runs only")
    args = parser.parse_args()

    if not args.no_run:
        sweep = ["sweep", str(SWEEP), "--out", str(args.out), "--workers", str(args.workers)]
        if cli.main(sweep) != 0:
            return 1
    runs = [r for r in load_runs([args.out]) if r.summary is not None]
    print(report_table(runs))
    methods = grouped(runs).get("pusher", {})
    for method, group in methods.items():
        cells = ", ".join(
            f"{name} {format_mean_ci(*final(group, f'eval/final_{name}'))}"
            for name in ("distance", "puck_distance", "hand_distance")
        )
        steps = int(np.median([r.summary["env_steps"] for r in group]))
        print(f"{method} ({len(group)} seeds, {steps:,} env steps): {cells}")
    if methods:
        still = do_nothing_runs(next(iter(methods.values())))
        cells = ", ".join(
            f"{name} {format_mean_ci(*final(still, f'eval/final_{name}'))}"
            for name in ("distance", "puck_distance", "hand_distance")
        )
        print(f"do-nothing (hand never moved, same goals): {cells}")
        for metric, name in (
            ("distance", "pusher_learning.png"),
            ("puck-distance", "pusher_puck_distance.png"),
        ):
            plot_runs(runs, args.docs / name, metric, "Visual Pusher, 95% CI across seeds", still)
            print(f"figure: {args.docs / name}")
    print("representation report (held-out R^2 from latents, fresh goal states):")
    print("\n".join(representation_lines(methods.get("rig", []))) or "  (no RIG runs)")

    if "rig" in methods and "oracle" in methods:
        puck = final(methods["rig"], "eval/final_puck_distance")[0]
        ratio = (
            final(methods["rig"], "eval/final_distance")[0]
            / final(methods["oracle"], "eval/final_distance")[0]
        )
        print(
            f"bar: RIG puck distance {puck:.3f} <= {PUCK_BAR}: "
            f"{'met' if puck <= PUCK_BAR else 'not met'}"
        )
        print(
            f"bar: RIG / oracle hand + puck distance {ratio:.2f} <= {ORACLE_RATIO_BAR}: "
            f"{'met' if ratio <= ORACLE_RATIO_BAR else 'not met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
