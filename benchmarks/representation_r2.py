"""Does each task's representation carry every object, and does its latent distance reward
moving them? Held-out R^2 per true-state dimension, and per object the fraction of steps
of straight moves toward a goal along which the latent distance falls, and the fraction of
those moves whose first step it already rewards (reach).

Usage:
    python benchmarks/representation_r2.py reacher pusher            # each task's preset
    python benchmarks/representation_r2.py pusher --vae.latent-dim 4  # any override, to compare

For each task: collect the preset's exploration images, pretrain the preset's VAE (the
first lines of Algorithm 1, as `rig train` does), then report the held-out R^2 of a small
MLP regression from latents to each true-state dimension on fresh goal states (the
representation report every run logs), every `--report-every` VAE steps, with the wall
time. `--vae-grid DIR` writes DIR/<task>_vae.png (images, reconstructions, prior samples).
Any `rig train` flag (`--vae.beta 1`, `--exploration.num-images 2000`, ...) overrides the
preset for every task given.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from rig import artifacts
from rig.cli import train_config
from rig.diagnostics import probe_data, report_values, representation_report
from rig.envs import make
from rig.exploration import collect_exploration_images
from rig.representations import make_representation
from rig.vae import FittedPrior
from rig.vae_trainer import VAETrainer


def measure(
    task: str, overrides: list[str], report_every: int, probe_states: int, vae_grid: Path | None
) -> dict[str, float]:
    config = train_config(["--env", task, *overrides])
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    env = make(task, image_size=config.image_size)
    horizon = config.horizon or env.spec.max_episode_steps
    start = time.perf_counter()
    dataset = collect_exploration_images(env, config.exploration, horizon, rng)
    print(f"{task}: {len(dataset):,} exploration images in {time.perf_counter() - start:.1f} s")
    state_dim = env.observation_space["state_observation"].shape[0]
    vae = make_representation(config, state_dim)
    trainer = VAETrainer(vae, dataset, config.vae, rng)
    probe = probe_data(env, probe_states, config.seed + config.eval.seed_offset)
    done, report = 0, {}
    while done < config.vae.pretrain_steps:
        steps = min(report_every, config.vae.pretrain_steps - done)
        tick = time.perf_counter()
        losses = trainer.train(steps)
        done += steps
        seconds = time.perf_counter() - tick
        report = representation_report(vae.features, probe)
        cells = ", ".join(f"{k.removeprefix('repr/r2_')} {v:.3f}" for k, v in report.items())
        print(
            f"  VAE step {done:>6,}: {cells}; test loss {losses['vae/test_loss']:.1f}; "
            f"{1000 * seconds / steps:.1f} ms/step"
        )
    if vae_grid is not None:
        shown = trainer.test_images[:8]
        prior = FittedPrior.fit(vae.features(dataset))
        artifacts.save_vae_grid(
            shown,
            vae.decode_to_images(vae.features(shown)),
            vae.decode_to_images(prior.sample(8, np.random.default_rng(0))),
            vae_grid / f"{task}_vae.png",
        )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("tasks", nargs="+")
    parser.add_argument("--report-every", type=int, default=1000, help="VAE steps between reports")
    parser.add_argument("--probe-states", type=int, default=1000)
    parser.add_argument("--vae-grid", type=Path, help="folder for <task>_vae.png")
    parser.add_argument("--threads", type=int, default=1)
    args, overrides = parser.parse_known_args()
    torch.set_num_threads(args.threads)
    finals = {
        t: measure(t, overrides, args.report_every, args.probe_states, args.vae_grid)
        for t in args.tasks
    }
    print(
        "\n| task | R^2 per true-state dimension (held-out) | min | latent distance falls "
        "| moves guided from their start |"
    )
    print("|---|---|---|---|---|")
    for task, report in finals.items():
        r2, monotone, reach = (
            ", ".join(f"{n} {v:.3f}" for n, v in report_values(report, kind).items())
            for kind in ("r2", "monotone", "reach")
        )
        print(
            f"| {task} | {r2} | {report['repr/r2_min']:.3f} | {monotone or '-'} | {reach or '-'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
