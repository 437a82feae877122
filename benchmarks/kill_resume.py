"""A run killed many times ends as one never killed: SIGKILL `rig train` at random moments,
resume it each time, and compare its records with an uninterrupted run of the same seed.

Usage:
    python benchmarks/kill_resume.py [--env point] [--kills 20] [--seed 0] [-- extra train flags]

Runs `rig train --save-buffer` once uninterrupted, then again with SIGKILLs at random
moments, resuming after each kill with `rig train --resume`: the first process is killed
the moment it has written its configuration (in exploration, whatever the machine's speed),
each resumed one a random delay after it announces itself on stdout, uniform up to twice
the work it has left over the kills left (the work left: the uninterrupted run's time, less
the RL time of the env steps already checkpointed), so the kills land in exploration, VAE
pretraining, RL steps, checkpoint writes and evaluations, and all of them before the end
even when the machine's load changes between the two runs. Prints each kill (the
moment, the stage the run was in, its last checkpoint's env step) and whether
`progress.csv` and `summary.json` match the uninterrupted run's, column by column. Only
wall-clock columns (`time/...`, `rl_seconds`, `env_steps_per_s`, `updates_per_s`) are
left out of the comparison. Exit code 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rig.checkpoint import load_checkpoint
from rig.logger import read_progress

WALL_CLOCK = ("time/", "rl_seconds", "env_steps_per_s", "updates_per_s")
"""Columns and summary keys (prefixes) that measure wall time: they differ between any two
runs, so they alone are left out of the comparison."""


@dataclass
class Kill:
    after_s: float
    stage: str
    checkpoint_step: int | None


def rig_train(args: list[str], log: Path, read_stdout: bool = True) -> subprocess.Popen:
    """``rig train ARGS`` with its stdout readable (a resume announces itself there) and its
    stderr appended to ``log``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "rig.cli", "train", *args]
    with log.open("a") as err:
        stdout = subprocess.PIPE if read_stdout else subprocess.DEVNULL
        return subprocess.Popen(cmd, env=env, stdout=stdout, stderr=err, text=True)


def wait_for_line(process: subprocess.Popen, start: str, timeout: float) -> bool:
    """Read the process's stdout until a line starts with ``start``; False if it ended or
    ``timeout`` passed first."""
    deadline = time.perf_counter() + timeout
    while (left := deadline - time.perf_counter()) > 0:
        ready, _, _ = select.select([process.stdout], [], [], left)
        if not ready:
            return False
        line = process.stdout.readline()
        if not line:
            return False
        if line.startswith(start):
            return True
    return False


def wait_for_file(path: Path, process: subprocess.Popen, timeout: float) -> bool:
    """Poll until ``path`` exists; False if the process ended or ``timeout`` passed first."""
    deadline = time.perf_counter() + timeout
    while not path.exists():
        if process.poll() is not None or time.perf_counter() > deadline:
            return False
        time.sleep(0.002)
    return True


def failed(process: subprocess.Popen, log: Path) -> RuntimeError:
    return RuntimeError(f"rig train exited with {process.returncode}: {log.read_text()[-2000:]}")


def stage_of(run: Path) -> str:
    """What the run was doing, read from its files (at the moment of a kill)."""
    if list(run.glob("*.tmp")):
        return "writing a file"
    if (run / "checkpoint.pt").exists():
        return "RL (or evaluation)"
    if (run / "pretraining.pt").exists() or (run / "exploration_images.npy").exists():
        return "VAE pretraining"
    if (run / "config.json").exists():
        return "exploration"
    return "start-up"


def records(run: Path) -> tuple[list[dict], dict]:
    """progress.csv rows and summary.json without the wall-clock columns."""
    rows = [
        {k: v for k, v in row.items() if not k.startswith(WALL_CLOCK)}
        for row in read_progress(run / "progress.csv")
    ]
    summary = json.loads((run / "summary.json").read_text())
    return rows, {k: v for k, v in summary.items() if not k.startswith(WALL_CLOCK)}


def kill_and_resume(
    out: Path, flags: list[str], kills: int, seed: int = 0, timeout: float = 900
) -> tuple[list[Kill], list[str]]:
    """Train ``out/uninterrupted`` and ``out/killed`` with ``flags`` (``--save-buffer``
    added); kill the second ``kills`` times. Returns the kills and the mismatches."""
    flags = [*flags, "--save-buffer"]
    reference, killed = out / "uninterrupted", out / "killed"
    out.mkdir(parents=True, exist_ok=True)
    log = out / "stderr.log"
    start = time.perf_counter()
    done = rig_train([*flags, "--out", str(reference)], log, read_stdout=False)
    startup = None
    while done.poll() is None:
        if startup is None and (reference / "config.json").exists():
            startup = time.perf_counter() - start
        time.sleep(0.02)
    if done.returncode != 0:
        raise failed(done, log)
    work = time.perf_counter() - start - (startup or 0.0)
    rng = np.random.default_rng(seed)
    history: list[Kill] = []
    process = rig_train([*flags, "--out", str(killed)], log)
    while True:
        if len(history) < kills:
            if not history:  # the first kill: the moment the fresh run has written its config
                if not wait_for_file(killed / "config.json", process, timeout):
                    break
                delay = 0.0
            elif wait_for_line(process, "resuming", timeout):
                left = work_left(work, reference, _checkpoint_step(killed))
                delay = float(rng.uniform(0.0, 2 * left / (kills - len(history) + 1)))
            else:
                break  # it ended (or hung) before announcing itself
            try:
                process.wait(delay)
            except subprocess.TimeoutExpired:
                stage = stage_of(killed)
                process.send_signal(signal.SIGKILL)
                process.wait()
                history.append(Kill(delay, stage, _checkpoint_step(killed)))
                process = rig_train(["--resume", str(killed)], log)
                continue
        process.communicate(timeout=timeout)
        if process.returncode != 0:
            raise failed(process, log)
        break
    return history, mismatches(reference, killed)


def work_left(work: float, reference: Path, checkpoint_step: int | None) -> float:
    """Seconds of the uninterrupted run's ``work`` still ahead of a run resuming from
    ``checkpoint_step``: all of it before the first checkpoint, then its RL time pro rata."""
    if checkpoint_step is None:
        return work
    last = read_progress(reference / "progress.csv")[-1]
    return last["time/rl_seconds"] * (1.0 - checkpoint_step / last["env_steps"])


def _checkpoint_step(run: Path) -> int | None:
    try:
        return load_checkpoint(run).env_steps
    except (FileNotFoundError, ValueError):
        return None


def mismatches(reference: Path, other: Path) -> list[str]:
    """Every row, column and summary key in which ``other`` differs from ``reference``."""
    (rows_a, summary_a), (rows_b, summary_b) = records(reference), records(other)
    found = []
    if len(rows_a) != len(rows_b):
        found.append(f"progress.csv: {len(rows_b)} rows, expected {len(rows_a)}")
    for i, (a, b) in enumerate(zip(rows_a, rows_b, strict=False)):
        for key in sorted(set(a) | set(b)):
            if not _same(a.get(key), b.get(key)):
                found.append(f"progress.csv row {i + 1}, {key}: {b.get(key)} != {a.get(key)}")
    for key in sorted(set(summary_a) | set(summary_b)):
        if not _same(summary_a.get(key), summary_b.get(key)):
            found.append(f"summary.json {key}: {summary_b.get(key)} != {summary_a.get(key)}")
    return found


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="point")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/kill-resume"))
    parser.add_argument("extra", nargs="*", help="more rig train flags (after --)")
    args = parser.parse_args()
    flags = ["--env", args.env, "--seed", str(args.seed), *args.extra]
    history, found = kill_and_resume(args.out, flags, args.kills, args.seed)
    print("| kill | after (s) | stage | last checkpoint (env step) |")
    print("|---|---|---|---|")
    for i, k in enumerate(history, 1):
        print(f"| {i} | {k.after_s:.1f} | {k.stage} | {k.checkpoint_step} |")
    rows, _ = records(args.out / "uninterrupted")
    print(f"\n{len(history)} kills, {len(history)} resumes; {len(rows)} progress rows compared")
    print("mismatches: " + ("none" if not found else "\n  " + "\n  ".join(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
