"""TD3 updates per second of whole learner steps (batch sampled from the replay buffer,
goals relabeled, rewards recomputed, one TD3 update) on a device, for RIG, the state
oracle and HER on pixels, with each TD3 lever.

Usage:
    python benchmarks/device_updates.py --device cuda        # on a GPU machine (< 10 min)
    python benchmarks/device_updates.py --device cpu --updates 50   # a quick check anywhere

The buffer is filled with random-action episodes of ``point`` (no renderer needed; the
networks have the arm tasks' sizes: [400, 300], batch 128, latent 8 for RIG); the updates
are timed after a warm-up, with the device synchronized. Prints a markdown table and,
with ``--json``, writes every figure.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from rig.config import replace_fields
from rig.presets import preset
from rig.run import build_run

METHODS = ("rig", "oracle", "her-pixel")
LEVERS = {
    "default": {},
    "separate critics": {"td3.batched_critics": False},
    "bf16 on": {"td3.bf16": "on"},
    "torch.compile": {"td3.compile": True},
}


def learner_for(method: str, device: str, changes: dict, run_dir: Path, episodes: int):
    """A method's learner on ``device`` with a buffer of random-action episodes."""
    config = replace_fields(
        preset(method),
        {
            "env": "point",
            "device": device,
            "buffer_size": 20_000,
            "exploration.num_images": 200,
            "relabel.env_goal_pool": 256,
            "vae.latent_dim": 8 if method == "rig" else preset(method).vae.latent_dim,
            **changes,
        },
    )
    parts = build_run(config, run_dir, progress=False)
    parts.prepare_untrained(episodes)
    return parts.learner


def updates_per_s(learner, updates: int, warmup: int) -> float:
    learner.train(warmup)
    _sync(learner.device)
    start = time.perf_counter()
    learner.train(updates)
    _sync(learner.device)
    return updates / (time.perf_counter() - start)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--levers", nargs="+", default=list(LEVERS), choices=list(LEVERS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    print(f"device {args.device}, torch {torch.__version__}, {args.updates} updates each")
    print("| method | " + " | ".join(args.levers) + " |")
    print("|---|" + "---|" * len(args.levers))
    for method in args.methods:
        figures[method] = {}
        for lever in args.levers:
            with tempfile.TemporaryDirectory() as run_dir:
                learner = learner_for(
                    method, args.device, LEVERS[lever], Path(run_dir), args.episodes
                )
                figures[method][lever] = updates_per_s(learner, args.updates, args.warmup)
        cells = " | ".join(f"{figures[method][lever]:.0f}/s" for lever in args.levers)
        print(f"| {method} | {cells} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "updates_per_s": figures}))


if __name__ == "__main__":
    main()
