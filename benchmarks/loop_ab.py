"""Steady RL-phase env steps/s of ``rig train`` at two commits, measured in one run.

    python benchmarks/loop_ab.py 44c662e HEAD --repeats 3

Each commit is checked out into a temporary ``git worktree`` and run with its own
``src`` first on ``PYTHONPATH``. The two sides alternate inside each repeat, so
both see the same machine load; each figure is the best of its repeats. The
measurement is ``benchmarks/suite.py``'s end-to-end one (``rig_train_rate``):
the ``point`` task, evaluations every 500 steps, the window after learning starts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import suite

REPO = Path(__file__).resolve().parents[1]


def worktree(commit: str, parent: Path) -> Path:
    """A detached worktree of ``commit`` under ``parent``."""
    path = parent / commit.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(path), commit],
        check=True,
    )
    return path


def rate_at(src: Path, method: str, window: int, seed: int) -> float:
    """``suite.rig_train_rate`` with ``src`` importing first."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), before]))
    try:
        return suite.rig_train_rate(method, window, buffer_size=100_000, seed=seed)
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="commit measured first in each repeat")
    parser.add_argument("after", help="commit measured second in each repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=["oracle", "rig"])
    parser.add_argument("--window", type=int, default=1500, help="env steps after learning starts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        trees = {c: worktree(c, Path(tmp)) for c in (args.before, args.after)}
        try:
            rates = {(m, c): [] for m in args.methods for c in trees}
            for seed in range(args.repeats):
                for method in args.methods:
                    for commit, tree in trees.items():
                        rate = rate_at(tree / "src", method, args.window, seed)
                        rates[method, commit].append(rate)
                        print(
                            f"{method:6s} {commit:10s} seed {seed}: {rate:6.1f} steps/s", flush=True
                        )
        finally:
            for tree in trees.values():
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)])
    print(f"\nbest of {args.repeats}, window {args.window} env steps:")
    for method in args.methods:
        a, b = (max(rates[method, c]) for c in trees)
        print(
            f"{method:6s} {args.before}: {a:6.1f}  {args.after}: {b:6.1f}  after/before {b / a:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
