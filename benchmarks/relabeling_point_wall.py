"""The relabeling ablation on point-wall: final distance per strategy, mean and 95% CI over seeds.

Usage:
    python benchmarks/relabeling_point_wall.py                # runs (or finishes) the sweep
    python benchmarks/relabeling_point_wall.py --no-run       # only reads the runs already there

Runs `rig sweep sweeps/relabeling_point_wall.yaml` (rig, relabel-none, relabel-future,
relabel-vae x seeds 0-2, 3,000 env steps each; finished trials are skipped), then prints
the report table, the strategies ranked by mean final distance with the paper's order
(RIG best, no relabeling worst), the figure's path and the wall time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rig import cli
from rig.plots import plot_runs
from rig.report import report_table
from rig.results import grouped, load_runs, mean_ci

SWEEP = Path(__file__).resolve().parents[1] / "sweeps" / "relabeling_point_wall.yaml"
PAPER_ORDER = ["rig", "relabel-vae", "relabel-future", "relabel-none"]
"""Figures 5 and 9, best first (VAE and future are close; none is clearly worst)."""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/sweeps/relabeling_point_wall"))
    parser.add_argument("--figure", type=Path, default=Path("docs/relabeling_point_wall.png"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-run", action="store_true", help="read existing runs only")
    args = parser.parse_args()

    if not args.no_run:
        sweep = ["sweep", str(SWEEP), "--out", str(args.out), "--workers", str(args.workers)]
        if cli.main(sweep) != 0:
            return 1
    runs = load_runs([args.out])
    print(report_table(runs))
    plot_runs(runs, args.figure, title="relabeling strategies on point-wall")
    print(f"figure: {args.figure}")

    finished = [r for r in runs if r.summary is not None]
    means = {
        method: mean_ci([r.summary["eval/final_distance"] for r in group])[0]
        for method, group in grouped(finished).get("point-wall", {}).items()
    }
    ranking = sorted(means, key=means.get)
    print(
        "ranking (lowest final distance first): "
        + " < ".join(f"{m} {means[m]:.3f}" for m in ranking)
    )
    matches = bool(ranking) and ranking[0] == "rig" and ranking[-1] == "relabel-none"
    print(f"paper: rig best, relabel-none worst -> {'matches' if matches else 'does not match'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
