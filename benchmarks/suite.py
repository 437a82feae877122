"""rig's performance suite (issue 7): one command, one table, one JSON file.

    python benchmarks/suite.py --json benchmarks/suite_cpu2.json   # every figure
    python benchmarks/suite.py --quick                             # a smoke run, a few minutes
    python benchmarks/suite.py --only td3 memory                   # some sections

Sections (same task, `point`, and the same hyperparameters throughout: batch 128,
[400, 300] nets, 4 updates per env step, learning starts 500):

* ``env``: image env steps/s of ``rig.envs.make("point")`` under random actions.
* ``td3``: time of one TD3 update next to the compute bound, the same matrix
  products done by a bare ``torch.mm`` loop (critic forward + backward of both Q
  nets, target actor and critics forward, and every ``policy_delay`` updates the
  actor forward + backward through Q1), at 1 and at the default number of threads.
* ``e2e``: steady-state RL env steps/s (after learning starts; exploration and VAE
  pretraining excluded) of rig against Stable-Baselines3's TD3 + HerReplayBuffer
  (MultiInputPolicy), for the state setting and the image setting.
* ``memory``: peak RSS of a fresh process holding a filled 1e6-transition replay
  buffer of 48x48x3 images.

The machine may be shared, so both sides of every ratio run back to back inside
each repeat, and each figure is the best of its repeats.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import dataclasses
import itertools
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import rig.envs
import rig.td3
from rig.config import TD3Config
from rig.replay import ReplayBuffer

TASK = "point"
LEARNING_STARTS = 500
HORIZON = 50
GOAL_KEYS = ("observation", "achieved_goal", "desired_goal")


def best_of(repeats: int, *timed):
    """Run each zero-argument function once per repeat, interleaved; the best (lowest) of each."""
    results = [[] for _ in timed]
    for _ in range(repeats):
        for out, fn in zip(results, timed):
            out.append(fn())
    return [min(r) for r in results], results


def seconds(fn, n: int) -> float:
    """Seconds per call of ``fn`` over ``n`` calls."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


# ----- env ---------------------------------------------------------------------
def env_steps_per_s(steps: int, repeats: int) -> dict:
    env = rig.envs.make(TASK)
    env.reset(seed=0)
    actions = np.random.default_rng(0).uniform(-1, 1, (steps, 2)).astype(np.float32)

    def run() -> float:
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return (time.perf_counter() - start) / steps

    (per_step,), _ = best_of(repeats, run)
    return {"env_steps_per_s": 1 / per_step}


# ----- td3 ---------------------------------------------------------------------
def matmul_shapes(sizes: list[int], batch: int, weight_grads=True, input_grad=False, backward=True):
    """(m, k, n) of the products of an MLP's forward and, optionally, backward pass."""
    layers = list(itertools.pairwise(sizes))
    shapes = [(batch, k, n) for k, n in layers]
    if backward:
        for i, (k, n) in enumerate(layers):
            if weight_grads:
                shapes.append((k, batch, n))  # dW = x^T dy
            if i > 0 or input_grad:
                shapes.append((batch, n, k))  # dx = dy W^T
    return shapes


def td3_matmuls(obs_dim: int, action_dim: int, c: TD3Config) -> tuple[list, list]:
    """Products of every TD3 update, and the extra ones of every ``policy_delay``-th."""
    actor = [obs_dim, *c.hidden_sizes, action_dim]
    critic = [obs_dim + action_dim, *c.hidden_sizes, 1]
    b = c.batch_size
    every = (
        matmul_shapes(actor, b, backward=False)  # target action
        + 2 * matmul_shapes(critic, b, backward=False)  # target Q1, Q2
        + 2 * matmul_shapes(critic, b)  # Q1, Q2 forward + backward
    )
    delayed = (
        matmul_shapes(critic, b, weight_grads=False, input_grad=True)  # Q1(s, pi(s)) to the action
        + matmul_shapes(actor, b)  # actor forward + backward
    )
    return every, delayed


TD3_LEVERS = {
    "all levers off (fp32, separate critics, fused Adam)": dict(batched_critics=False, bf16="off"),
    "stacked critics alone": dict(batched_critics=True, bf16="off"),
    "Adam foreach instead of fused": dict(batched_critics=False, bf16="off", adam="foreach"),
    "Adam for-loop instead of fused": dict(batched_critics=False, bf16="off", adam="loop"),
    "torch.compile alone": dict(batched_critics=False, bf16="off", compile=True),
    "bf16 matmuls alone": dict(batched_critics=False, bf16="on"),
    "stacked critics + bf16": dict(batched_critics=True, bf16="on"),
    "stacked critics + bf16 + torch.compile": dict(batched_critics=True, bf16="on", compile=True),
    "the default (TD3Config())": dict(),
}
BEFORE_COMMIT = "0cf63ef"
"""The last commit before the update's levers: "today's" update, timed beside them."""


def td3_before(commit: str):
    """``rig.td3`` as it was at ``commit`` (from git), or None outside a git checkout."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    try:
        source = subprocess.run(
            ["git", "show", f"{commit}:src/rig/td3.py"],
            cwd=root,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / f"td3_{commit}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bare_matmuls(obs_dim: int, action_dim: int, c: TD3Config, dtype: torch.dtype):
    """A function doing one update's matrix products with bare ``torch.mm`` in ``dtype``,
    and the update's FLOPs."""
    every, delayed = td3_matmuls(obs_dim, action_dim, c)
    operands = [
        [
            (
                torch.randn(m, k, dtype=dtype),
                torch.randn(k, n, dtype=dtype),
                torch.empty(m, n, dtype=dtype),
            )
            for m, k, n in shapes
        ]
        for shapes in (every, delayed)
    ]
    step = iter(range(10**12))

    def run():
        for a, w, out in operands[0]:
            torch.mm(a, w, out=out)
        if next(step) % c.policy_delay == c.policy_delay - 1:
            for a, w, out in operands[1]:
                torch.mm(a, w, out=out)

    flops = 2 * (
        sum(m * k * n for m, k, n in every) + sum(m * k * n for m, k, n in delayed) / c.policy_delay
    )
    return run, flops


def td3_update_vs_matmul(updates: int, repeats: int, threads: list[int]) -> dict:
    """Each lever of the update (``TD3_LEVERS``) and the update before them, against the
    bare-matmul bound in fp32 and bf16, all timed in this process, interleaved."""
    obs_dim, action_dim = 8, 2  # [z, z_g] with latent size 4; 2-D actions
    b = TD3Config().batch_size
    batch = (
        torch.randn(b, obs_dim),
        torch.rand(b, action_dim) * 2 - 1,
        torch.randn(b),
        torch.randn(b, obs_dim),
        torch.zeros(b),
    )
    scale = np.ones(action_dim, np.float32)

    def agent(module, **overrides):
        torch.manual_seed(0)
        return module.TD3(obs_dim, action_dim, scale, TD3Config(**overrides))

    agents = {name: agent(rig.td3, **levers) for name, levers in TD3_LEVERS.items()}
    before = td3_before(BEFORE_COMMIT)
    if before is not None:
        agents = {f"before the levers (commit {BEFORE_COMMIT})": agent(before), **agents}
    fp32, flops = bare_matmuls(obs_dim, action_dim, TD3Config(), torch.float32)
    bf16, _ = bare_matmuls(obs_dim, action_dim, TD3Config(), torch.bfloat16)
    timed = {f"update: {name}": (lambda t=t: t.update(*batch)) for name, t in agents.items()}
    timed |= {"bare matmuls, fp32": fp32, "bare matmuls, bf16": bf16}
    threads_before = torch.get_num_threads()
    out = {
        "gflop_per_update": flops / 1e9,
        "bf16_native": rig.td3.cpu_has_native_bf16(),
        "default": dataclasses.asdict(TD3Config()),
    }
    for n in threads:
        torch.set_num_threads(n)
        for fn in timed.values():
            seconds(fn, 20)  # warm up (and compile)
        best, _ = best_of(repeats, *(lambda fn=fn: seconds(fn, updates) for fn in timed.values()))
        ms = dict(zip(timed, (t * 1e3 for t in best)))
        reference = ms[next(iter(timed))]
        out[f"threads_{n}"] = {
            name: {
                "ms": value,
                "per_s": 1e3 / value,
                "over_first": value / reference,
                "over_fp32_bound": value / ms["bare matmuls, fp32"],
                "gflop_per_s": flops / value / 1e6,
            }
            for name, value in ms.items()
        }
    torch.set_num_threads(threads_before)
    return out


# ----- end to end --------------------------------------------------------------
def steady_rate(steps_and_seconds: list[tuple[float, float]]) -> float:
    """Env steps/s between the first point at or after learning starts and the last point."""
    after = [(s, t) for s, t in steps_and_seconds if s >= LEARNING_STARTS]
    (s0, t0), (s1, t1) = after[0], after[-1]
    return (s1 - s0) / (t1 - t0)


def rig_train_rate(method: str, window: int, buffer_size: int, seed: int) -> float:
    """Steady RL-phase env steps/s of ``rig train``, from its ``progress.csv``.

    Evaluations (one episode) every ``LEARNING_STARTS`` steps give the time points;
    the window covers VAE fine-tuning rounds and evaluations, as a real run does.
    Exploration data and VAE pretraining are cut short: they are outside the window.
    """
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rig.cli",
                "train",
                "--env",
                TASK,
                "--method",
                method,
                "--seed",
                str(seed),
                "--steps",
                str(LEARNING_STARTS + window),
                "--learning-starts",
                str(LEARNING_STARTS),
                "--buffer-size",
                str(buffer_size),
                "--eval.every-steps",
                str(LEARNING_STARTS),
                "--eval.episodes",
                "1",
                "--eval.video-episodes",
                "1",
                "--vae.pretrain-steps",
                "100",
                "--exploration.num-images",
                "500",
                "--out",
                out,
                "--overwrite",
                "--quiet",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())},
        )
        with open(Path(out) / "progress.csv") as f:
            rows = list(csv.DictReader(f))
    return steady_rate([(float(r["env_steps"]), float(r["time/rl_seconds"])) for r in rows])


def sb3_rate(goal_keys: str, window: int, buffer_size: int, seed: int) -> float:
    """Steady env steps/s of SB3 TD3 + HerReplayBuffer (MultiInputPolicy) on ``point``.

    Same batch, nets, learning rates, tau, delays, noise and updates per step as rig;
    HER's "future" strategy with ``n_sampled_goal=1`` relabels half of each batch.
    Image setting: SB3's CNN extractor on the three image keys, pixel-MSE reward.
    """
    from gymnasium.wrappers import FilterObservation
    from stable_baselines3 import TD3 as SB3TD3
    from stable_baselines3 import HerReplayBuffer
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise

    class StepTimes(BaseCallback):
        def __init__(self):
            super().__init__()
            self.times = []

        def _on_step(self) -> bool:
            self.times.append((self.num_timesteps, time.perf_counter()))
            return True

    c = TD3Config()
    env = FilterObservation(rig.envs.make(TASK, goal_keys=goal_keys), list(GOAL_KEYS))
    model = SB3TD3(
        "MultiInputPolicy",
        env,
        learning_rate=c.critic_lr,
        buffer_size=buffer_size,
        learning_starts=LEARNING_STARTS,
        batch_size=c.batch_size,
        tau=c.tau,
        gamma=c.discount,
        train_freq=1,
        gradient_steps=c.updates_per_step,
        policy_delay=c.policy_delay,
        target_policy_noise=c.target_noise,
        target_noise_clip=c.target_noise_clip,
        action_noise=OrnsteinUhlenbeckActionNoise(np.zeros(2), 0.3 * np.ones(2), theta=0.15),
        replay_buffer_class=HerReplayBuffer,
        replay_buffer_kwargs={"n_sampled_goal": 1, "goal_selection_strategy": "future"},
        policy_kwargs={"net_arch": list(c.hidden_sizes)},
        seed=seed,
        device="cpu",
    )
    timer = StepTimes()
    model.learn(LEARNING_STARTS + window, callback=timer)
    return steady_rate(timer.times)


def end_to_end(windows: dict[str, int], repeats: int, buffer_size: int, only: list[str]) -> dict:
    """rig against SB3, state and image settings, each pair back to back per repeat."""
    settings = {
        "state": (
            lambda s: rig_train_rate("oracle", windows["state"], buffer_size, s),
            lambda s: sb3_rate("state", windows["state"], buffer_size, s),
        ),
        "image": (
            lambda s: rig_train_rate("rig", windows["image"], buffer_size, s),
            lambda s: sb3_rate("image", windows["sb3_image"], buffer_size, s),
        ),
    }
    out = {
        "rig_state_measured_with": "rig train --method oracle",
        "windows": windows,
        "buffer_size": buffer_size,
    }
    for name in only:
        ours, theirs = settings[name]
        runs = {"rig": [], "sb3": []}
        for seed in range(repeats):  # back to back, so both sides see the same load
            runs["rig"].append(ours(seed))
            runs["sb3"].append(theirs(seed))
        best = {side: max(rates) for side, rates in runs.items()}
        out[name] = {
            "rig_env_steps_per_s": best["rig"],
            "sb3_env_steps_per_s": best["sb3"],
            "rig_over_sb3": best["rig"] / best["sb3"],
            "runs": runs,
        }
    return out


# ----- memory ------------------------------------------------------------------
def _filled_buffer_peak_rss(capacity: int, horizon: int, image_size: int) -> dict:
    """Runs in a fresh process: fill a buffer through its public API, report peak RSS."""
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rng = np.random.default_rng(0)
    buffer = ReplayBuffer(capacity, horizon, (image_size, image_size, 3), 2, 4, rng)
    frame = np.full((image_size, image_size, 3), 7, np.uint8)
    latent, action = np.ones(4, np.float32), np.ones(2, np.float32)
    start = time.perf_counter()
    for _ in range(buffer.max_episodes):
        buffer.start_episode(frame, latent, latent, frame)
        for _ in range(horizon):
            buffer.add_step(action, frame, latent, False)
    fill_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "transitions": buffer.num_transitions,
        "peak_rss_gib": peak / 2**20,
        "buffer_gib": (peak - base) / 2**20,
        "add_step_us": fill_s / buffer.num_transitions * 1e6,
    }


def buffer_memory(capacity: int, horizon: int, image_size: int = 48) -> dict:
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        result = pool.submit(_filled_buffer_peak_rss, capacity, horizon, image_size).result()
    return {"capacity": capacity, "horizon": horizon, "image_size": image_size, **result}


# ----- the command -------------------------------------------------------------
def machine() -> dict:
    return {
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cores": multiprocessing.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def table(results: dict) -> str:
    lines = []
    if "env" in results:
        lines.append(
            f"image env steps/s ({TASK})          {results['env']['env_steps_per_s']:10.0f}"
        )
    if "td3" in results:
        for key, rows in results["td3"].items():
            if key.startswith("threads_"):
                lines.append(
                    f"TD3, {key.replace('_', ' ')} (x: over the first row; bound: fp32 mm)"
                )
                for name, r in rows.items():
                    lines.append(
                        f"  {name:62s} {r['ms']:6.2f} ms  {r['over_first']:5.2f}x  "
                        f"{r['over_fp32_bound']:5.2f}x bound  {r['gflop_per_s']:4.0f} GFLOP/s"
                    )
    if "e2e" in results:
        for name in ("state", "image"):
            if name not in results["e2e"]:
                continue
            r = results["e2e"][name]
            lines.append(
                f"end to end, {name:5s}: rig {r['rig_env_steps_per_s']:7.1f} steps/s, "
                f"SB3 {r['sb3_env_steps_per_s']:7.1f} steps/s, rig/SB3 {r['rig_over_sb3']:.2f}"
            )
    if "memory" in results:
        r = results["memory"]
        lines.append(
            f"1e6-transition image buffer: peak RSS {r['peak_rss_gib']:.2f} GiB "
            f"(buffer {r['buffer_gib']:.2f} GiB), add_step {r['add_step_us']:.1f} us"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows, 1 repeat")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["env", "td3", "e2e", "memory"],
        default=["env", "td3", "e2e", "memory"],
    )
    parser.add_argument("--repeats", type=int, help="repeats per figure (default 3, quick 1)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument(
        "--settings",
        nargs="+",
        choices=["state", "image"],
        default=["state", "image"],
        help="end-to-end settings to run",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads for the end-to-end runs (both sides; default: PyTorch's, one per core)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    quick = args.quick
    repeats = args.repeats or (1 if quick else 3)
    results: dict = {"machine": machine(), "quick": quick, "repeats": repeats}
    sections = {
        "env": lambda: env_steps_per_s(500 if quick else 5000, repeats),
        "td3": lambda: td3_update_vs_matmul(
            100 if quick else 500, repeats, sorted({1, multiprocessing.cpu_count()})
        ),
        "e2e": lambda: end_to_end(
            {"state": 300, "image": 1000, "sb3_image": 50}
            if quick
            else {"state": 1500, "image": 1500, "sb3_image": 200},
            repeats,
            buffer_size=100_000,
            only=args.settings,
        ),
        "memory": lambda: buffer_memory(1_000_000, HORIZON),
    }
    for name in args.only:
        start = time.perf_counter()
        results[name] = sections[name]()
        print(f"[{name}: {time.perf_counter() - start:.0f} s]", file=sys.stderr, flush=True)
    results["command"] = " ".join(["python", "benchmarks/suite.py", *(argv or sys.argv[1:])])
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
