"""What a full-protocol pusher run costs, phase by phase, and how the cost grows with the buffer.

Usage:
    python benchmarks/pusher_phases.py                 # phase costs, per-step cost vs buffer size
    python benchmarks/pusher_phases.py --memory        # peak memory of a 1e6-transition buffer

Phases (measured on this machine with `--threads` PyTorch threads, the pusher's preset):
exploration images, VAE pretraining steps, environment steps (act + step + encode + store),
TD3 updates, VAE fine-tuning rounds, refreshing every cached latent, and one evaluation
(`eval.episodes` goals stepped together). The full-protocol wall time is then the sum of
each phase's cost times its count in a 500K-step run.

The per-step cost at a buffer of B transitions is
    act/step/store + updates_per_step x update + (fine-tune + refresh(B)) / interval(B) + eval
where interval(B) is the fine-tuning interval in env steps: every K episodes, lengthened
once refreshing would re-encode more than `vae.refresh_frames_per_step` frames per env step.
It is reported at 10K and 500K transitions, with that bound and without it (paper: every K).

`--memory` fills a replay buffer of 1e6 transitions (the default capacity) with rendered
frames through its public API, refreshes every latent, samples batches, and compares the
process's peak resident memory with the buffer's size.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rig.cli import train_config
from rig.exploration import collect_exploration_images
from rig.run import build_run
from rig.workspace import Workspace


def timed(fn, repeats: int = 1) -> float:
    """Seconds per call of ``fn`` (mean of ``repeats``)."""
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def fill(workspace: Workspace, transitions: int) -> None:
    """Append episodes made of already-stored frames until the buffer holds ``transitions``."""
    buffer, horizon = workspace.run.buffer, workspace.run.horizon
    frames = workspace.run.representation_training.dataset
    latent = np.zeros(workspace.run.agent.representation.latent_dim, np.float32)
    action = np.zeros(workspace.run.spaces.action_dim, np.float32)
    i = 0
    while buffer.num_transitions < transitions:
        buffer.start_episode(frames[i % len(frames)], latent, latent, frames[i % len(frames)])
        for _ in range(horizon):
            i += 1
            buffer.add_step(action, frames[i % len(frames)], latent, False)


def make_workspace(out: Path, args, buffer_size: int | None = None) -> Workspace:
    config = train_config(
        [
            "--env",
            "pusher",
            "--threads",
            str(args.threads),
            "--out",
            str(out),
            "--exploration.num-images",
            str(args.images),
            "--vae.pretrain-steps",
            str(args.vae_steps),
        ]
    )
    if buffer_size:
        config = dataclasses.replace(config, buffer_size=buffer_size)
    workspace = Workspace(build_run(config, out, progress=False))
    workspace._prepare()
    return workspace


def interval_steps(config, frames: int, bounded: bool, horizon: int = 100) -> float:
    every = config.vae.finetune_every_episodes * horizon
    budget = config.vae.refresh_frames_per_step
    return max(every, frames / budget) if bounded and budget else every


def finetune_schedule(config, horizon: int = 100) -> tuple[int, int]:
    """Fine-tuning rounds of a full run and the frames they re-encode (the workspace's rule)."""
    rounds = frames_refreshed = last_step = last_episode = 0
    for episode in range(1, config.steps // horizon + 1):
        step = episode * horizon
        frames = episode * (horizon + 1)
        budget = config.vae.refresh_frames_per_step
        if episode - last_episode >= config.vae.finetune_every_episodes and (
            not budget or (step - last_step) * budget >= frames
        ):
            rounds, frames_refreshed = rounds + 1, frames_refreshed + frames
            last_step, last_episode = step, episode
    return rounds, frames_refreshed


def phases(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        workspace = make_workspace(Path(tmp), args)
        prepare = time.perf_counter() - start
        c = workspace.run.config
        protocol = train_config(["--env", "pusher"])
        vae_step = timed(lambda: workspace.run.representation_training.trainer.train(100)) / 100

        explore = (
            timed(
                lambda: collect_exploration_images(
                    workspace.run.env, c.exploration, workspace.run.horizon, workspace.run.rng
                )
            )
            / c.exploration.num_images
        )

        workspace.run.config = dataclasses.replace(c, learning_starts=10**9, steps=10**9)
        bar = type(
            "Bar", (), {"update": lambda self, n: None, "set_postfix": lambda *a, **k: None}
        )()
        episode = timed(lambda: workspace._run_episode(bar), 3)
        step = episode / workspace.run.horizon
        workspace.run.config = c
        update = timed(lambda: workspace.run.learner.train(1), 200)
        finetune = timed(
            lambda: workspace.run.representation_training.trainer.train(
                c.vae.finetune_steps, workspace.run.buffer.sample_images
            ),
            2,
        )
        evaluation = timed(workspace._evaluate_and_log, 2)
        refresh = {}
        for transitions in args.sizes:
            fill(workspace, transitions)
            refresh[transitions] = timed(lambda: workspace.run.representation_training.refresh(0))
            print(
                f"refresh at {workspace.run.buffer.num_frames:,} stored frames: "
                f"{refresh[transitions]:.2f} s",
                flush=True,
            )

    per_update = update * c.td3.updates_per_step
    per_eval = evaluation / protocol.eval.every_steps
    print(f"\nphase costs (pusher preset, {args.threads} PyTorch thread(s)):")
    print(f"  setup with {args.images:,} images and {args.vae_steps} VAE steps: {prepare:.1f} s")
    print(f"  exploration: {1000 * explore:.2f} ms/image")
    print(f"  VAE pretraining: {1000 * vae_step:.1f} ms/step (batch {c.vae.batch_size})")
    print(f"  env step (act + step + encode + store): {1000 * step:.2f} ms")
    print(f"  TD3 update: {1000 * update:.2f} ms ({c.td3.updates_per_step} per env step)")
    print(f"  VAE fine-tuning round ({c.vae.finetune_steps} steps): {finetune:.2f} s")
    print(
        f"  evaluation ({c.eval.episodes} goals x {workspace.run.horizon} steps, batched): "
        f"{evaluation:.2f} s every {protocol.eval.every_steps:,} steps"
    )

    steps = protocol.steps
    rounds, frames_refreshed = finetune_schedule(protocol)
    largest = max(refresh)
    refresh_rate = refresh[largest] / largest
    full = {
        "exploration": explore * protocol.exploration.num_images,
        "VAE pretraining": vae_step * protocol.vae.pretrain_steps,
        "env steps": step * steps,
        "TD3 updates": per_update * steps,
        "fine-tuning": finetune * rounds,
        "refresh": refresh_rate * frames_refreshed,
        "evaluation": per_eval * steps,
    }
    print(
        f"\nfull protocol ({steps:,} env steps, {rounds:.0f} fine-tuning rounds): "
        f"{sum(full.values()) / 3600:.1f} h"
    )
    for name, seconds in full.items():
        print(f"  {name:16s}{seconds / 60:8.1f} min")

    print("\nper-step cost (ms) by buffer size:")
    for bounded in (True, False):
        costs = {}
        for transitions in (min(args.sizes), max(args.sizes)):
            frames = int(transitions * 1.01)
            interval = interval_steps(protocol, frames, bounded)
            costs[transitions] = 1000 * (
                step + per_update + (finetune + refresh_rate * frames) / interval + per_eval
            )
        label = (
            f"refresh bound {protocol.vae.refresh_frames_per_step:g} frames/step"
            if bounded
            else "every K episodes (no bound)"
        )
        small, large = min(args.sizes), max(args.sizes)
        print(
            f"  {label}: {small:,} transitions {costs[small]:.2f}, {large:,} "
            f"{costs[large]:.2f}, ratio {costs[large] / costs[small]:.2f}"
        )
    return 0


def memory(args) -> int:
    capacity = 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        workspace = make_workspace(Path(tmp), args, buffer_size=capacity)
        buffer = workspace.run.buffer
        size = buffer.nbytes
        start = time.perf_counter()
        fill(workspace, capacity)
        print(
            f"filled {buffer.num_transitions:,} transitions in {time.perf_counter() - start:.0f} s"
        )
        start = time.perf_counter()
        workspace.run.representation_training.refresh(0)
        print(f"refresh of {buffer.num_frames:,} frames: {time.perf_counter() - start:.0f} s")
        for _ in range(20):
            workspace.run.learner.train(1)
            workspace.run.representation_training.trainer.train(1, buffer.sample_images)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(
            f"buffer {size / 2**30:.2f} GiB; process peak {peak / 2**30:.2f} GiB; "
            f"ratio {peak / size:.3f}"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--memory", action="store_true", help="peak memory at 1e6 transitions")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--images", type=int, default=2000, help="exploration images to time")
    parser.add_argument("--vae-steps", type=int, default=50, help="pretraining steps of the setup")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000, 500_000],
        help="buffer sizes (transitions) at which to time the refresh",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return memory(args) if args.memory else phases(args)


if __name__ == "__main__":
    sys.exit(main())
