"""The ``rig`` command. Each subcommand is a small function; errors are one line."""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import sys
import time
import warnings
from pathlib import Path

from rig.errors import RigError
from rig.interrupt import Interrupted

USAGE = """usage: rig COMMAND [ARGS]

commands:
  train     train an agent             rig train --env point --out runs/point
                                       rig train --resume runs/point [--steps N]
  eval      evaluate a trained agent   rig eval --run runs/point --episodes 100
  goal      write a task goal image    rig goal --env point --out goal.png
  reach     drive toward a goal image  rig reach --run runs/point --goal goal.png
  sweep     tasks x methods x seeds    rig sweep sweeps/figure5.yaml [--workers N | --ray]
  plot      curves across seeds        rig plot runs/sweeps/figure5 --out fig.png
  report    table of final metrics     rig report runs/sweeps/figure5
  methods   list the method presets
  tasks     list the tasks
  show      contact sheet of a task    rig show --env pusher --out pusher.png

'rig COMMAND --help' describes each command; 'rig train --help' lists every
configuration field that can be overridden. Set RIG_TRACEBACK=1 for tracebacks.
"""

SPLIT_HELP = (
    "one line (row) per kind of evaluation episode: an info entry such as num_pucks, for runs "
    "evaluated with --eval-env multi-pusher-variable (Figure 6)"
)

DO_NOTHING_HELP = (
    "add the do-nothing baseline: each seed's evaluation goals with zero actions (builds the "
    "evaluation task; takes a few seconds per seed)"
)


class UsageError(RigError):
    """Bad command-line input."""


def train_config(argv: list[str]):
    """The configuration ``rig train ARGV`` runs: Table 1, then the ``--env`` task's preset,
    then the ``--method`` preset, then the other flags, each a dotted patch applied by
    :func:`rig.presets.resolve`; tyro only reads the flags (and writes ``--help``)."""
    import tyro

    from rig.envs import env_id
    from rig.presets import differences, method, resolve, task_preset

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--method", default="rig")
    pre.add_argument("--env", default="point")
    known, rest = pre.parse_known_args(argv)
    default = resolve(known.method, known.env)
    if "-h" in rest or "--help" in rest:
        print(
            "extra flags: --resume DIR, --overwrite, --quiet (no progress bars)\n"
            "defaults below: Table 1, then the --env task's preset, then the --method "
            "preset ('rig tasks', 'rig methods')\n"
            f"{_patch_line(f'--env {known.env}', task_preset(known.env))}\n"
            f"{_patch_line(f'--method {known.method}', method(known.method).changes)}\n"
        )
    parsed = _parse_fields(tyro, default, rest)
    flags = {name: new for name, (_, new) in differences(parsed, default).items()}
    config = resolve(known.method, known.env, flags).validate()
    env_id(config.env)
    return config


def _patch_line(what: str, changes: dict) -> str:
    """``--method oracle sets: representation=state, ...`` (or ``sets nothing``)."""
    if not changes:
        return f"{what} sets nothing (Table 1 defaults)"
    return f"{what} sets: " + ", ".join(f"{k}={v}" for k, v in changes.items())


def _parse_fields(tyro, default, args: list[str]):
    """``tyro.cli`` with its boxed error messages turned into one-line usage errors."""
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured), contextlib.redirect_stdout(captured):
            return tyro.cli(type(default), default=default, args=args, prog="rig train")
    except SystemExit as exit_:
        if not exit_.code:
            print(captured.getvalue(), end="")
            raise
        message = _boxed_message(captured.getvalue())
        raise UsageError(f"{message} ('rig train --help' lists every field)") from None


def _boxed_message(text: str) -> str:
    """The first section of a message drawn in a box (between its first two rules)."""
    lines = [line.strip().strip("│╭╮╰╯|").strip() for line in text.splitlines()]
    rules = [i for i, line in enumerate(lines) if line and set(line) <= set("─-")]
    body = lines[rules[0] + 1 : rules[1]] if len(rules) >= 2 else lines
    return " ".join(line for line in body if line) or "invalid arguments"


def _train(argv: list[str]) -> int:
    from rig.trainer import RUNTIME_FIELDS, resume, train

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--overwrite", action="store_true")
    pre.add_argument("--quiet", action="store_true")
    pre.add_argument("--resume", type=Path)
    known, rest = pre.parse_known_args(argv)
    if known.resume is not None:
        allowed = argparse.ArgumentParser(add_help=False, exit_on_error=False)
        allowed.add_argument("--steps", type=int)
        allowed.add_argument("--threads", type=int)
        allowed.add_argument("--device")
        allowed.add_argument("--track", action="store_true", default=None)
        try:
            parsed, extra = allowed.parse_known_args(rest)
        except argparse.ArgumentError as err:
            raise UsageError(str(err)) from None
        if extra:
            raise UsageError(
                "--resume takes only --steps, --threads, --device, --track and --quiet (a run's "
                f"other settings cannot change), got {' '.join(extra)}"
            )
        out = known.resume
        runtime = {k: v for k in RUNTIME_FIELDS if (v := getattr(parsed, k)) is not None}
        run = functools.partial(
            resume, out, parsed.steps, progress=not known.quiet, runtime=runtime
        )
    else:
        config = train_config(rest)
        out = config.out
        run = functools.partial(train, config, overwrite=known.overwrite, progress=not known.quiet)
    try:
        summary = run()
    except KeyboardInterrupt:
        raise Interrupted(
            f"stopped at once; resume from the last checkpoint with: rig train --resume {out}"
        ) from None
    print(f"run written to {out}")
    if "eval/final_distance" in summary:
        print(
            f"final evaluation distance: {summary['eval/final_distance']:.3f} "
            f"after {summary['env_steps']} env steps"
        )
    return 0


def _print_representation_report(agent, env, probe_states: int, seed: int) -> None:
    """What the agent's latents carry, on ``probe_states`` fresh goal states of ``env``."""
    from rig.diagnostics import probe_data, report_values, representation_report

    data = probe_data(env, probe_states, seed)
    report = representation_report(agent.encode, data)
    sections = (
        ("r2", "held-out R^2 of each true-state dimension from the latents"),
        (
            "monotone",
            "fraction of the steps of straight moves of each object toward a goal "
            "along which the latent distance falls (1: the reward follows every push)",
        ),
        (
            "reach",
            "fraction of those moves whose first step already lowers the latent distance "
            "by a quarter of the move's mean step (1: every move is guided from its start)",
        ),
    )
    for kind, title in sections:
        values = report_values(report, kind)
        if values:
            print(f"representation: {title} ({probe_states} fresh goal states)")
            for name, value in values.items():
                print(f"  {name:<12}{value:>8.3f}")


def _eval(argv: list[str]) -> int:
    from rig.agent import Agent
    from rig.checkpoint import load_checkpoint
    from rig.envs import episode_horizon, make, make_vector
    from rig.evaluate import evaluate_batched, summarize

    parser = argparse.ArgumentParser(
        prog="rig eval",
        description="Evaluate a trained agent on fresh goals (all episodes stepped together), "
        "and report how well its representation carries each true-state dimension.",
    )
    parser.add_argument("--run", type=Path, required=True, help="run directory")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument(
        "--seed", type=int, default=1, help="goal seed (training evaluations use 0)"
    )
    parser.add_argument(
        "--probe-states",
        type=int,
        default=1000,
        help="fresh goal states for the representation report (0: no report)",
    )
    args = parser.parse_args(argv)
    if args.episodes <= 0:
        raise UsageError(f"--episodes must be positive, got {args.episodes}")
    if args.probe_states and args.probe_states < 8:
        raise UsageError(f"--probe-states must be 0 or at least 8, got {args.probe_states}")
    checkpoint = load_checkpoint(args.run)
    config = checkpoint.config
    agent = Agent.from_checkpoint(checkpoint)
    envs = make_vector(config.env, args.episodes, image_size=config.image_size)
    horizon = episode_horizon(envs, config.horizon, config.env)
    seed = config.eval_seed + args.seed * args.episodes
    result = evaluate_batched(envs, agent.goal_policy(), horizon, seed)
    envs.close()
    print(
        f"{args.run}: {config.method} on {config.env}, {args.episodes} fresh goals, "
        f"checkpoint at env step {checkpoint.env_steps}"
    )
    print(summarize(result.per_episode))
    if not (args.probe_states and agent.representation.trainable):
        return 0
    env = make(config.env, image_size=config.image_size)
    if hasattr(env.unwrapped, "sample_goals"):
        _print_representation_report(agent, env, args.probe_states, seed)
    return 0


def _goal(argv: list[str]) -> int:
    from rig.envs import make
    from rig.images import save_goal_image

    parser = argparse.ArgumentParser(prog="rig goal", description="Write a goal image of a task.")
    parser.add_argument("--env", default="point")
    parser.add_argument("--out", type=Path, default=Path("goal.png"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=48)
    args = parser.parse_args(argv)
    env = make(args.env, image_size=args.image_size)
    env.reset(seed=args.seed)
    goal = env.unwrapped.sample_goals(1)
    state = goal["state_desired_goal"][0]
    save_goal_image(args.out, goal["image_desired_goal"][0], state)
    print(
        f"goal image written to {args.out} (true goal state {[round(float(v), 3) for v in state]})"
    )
    return 0


def _reach(argv: list[str]) -> int:
    from rig.reach import reach

    parser = argparse.ArgumentParser(
        prog="rig reach", description="Drive a trained agent's task toward a goal image."
    )
    parser.add_argument("--run", type=Path, required=True, help="run directory")
    parser.add_argument(
        "--goal", type=Path, required=True, help="goal image (any format Pillow reads)"
    )
    parser.add_argument("--out", type=Path, help="video path (default: RUN/reach.gif)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the start state")
    args = parser.parse_args(argv)
    reach(args.run, args.goal, args.out, args.seed)
    return 0


def _sweep(argv: list[str]) -> int:
    from rig.sweep import describe, load_sweep, run_local, run_ray, trial_state, trials

    parser = argparse.ArgumentParser(
        prog="rig sweep", description="Run every task x method x seed of a sweep file."
    )
    parser.add_argument("file", type=Path, help="sweep file (YAML), e.g. sweeps/figure5.yaml")
    parser.add_argument("--out", type=Path, help="sweep directory (default: runs/sweeps/FILE_STEM)")
    parser.add_argument("--workers", type=int, default=1, help="trials at a time on this machine")
    parser.add_argument("--ray", action="store_true", help="run the trials as Ray Tune trials")
    parser.add_argument(
        "--address", help="Ray cluster: 'auto' or 'ray://HEAD:10001' (implies --ray)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list the trials and their state")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    sweep = load_sweep(args.file)
    out = args.out or Path("runs/sweeps") / args.file.stem
    try:
        todo = trials(sweep, out)
    except ValueError as err:
        raise ValueError(f"sweep {args.file}: {err}") from None
    if args.dry_run:
        for trial in todo:
            print(f"{trial.name:40s} {trial_state(trial.config):9s} {trial.config.out}")
        print(f"{len(todo)} trials" + (f"; compute: {sweep.compute}" if sweep.compute else ""))
        return 0
    start = time.perf_counter()
    if args.ray or args.address:
        results = run_ray(todo, sweep.resources, out, args.address, progress=not args.quiet)
    else:
        results = run_local(todo, args.workers, progress=not args.quiet)
    failed = [r for r in results if r.status == "failed"]
    statuses = ("trained", "resumed", "skipped", "busy")
    counts = {s: sum(r.status == s for r in results) for s in statuses}
    print(
        f"sweep written to {out}: {len(results)} trials, "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
        + f", {len(failed)} failed; wall time {time.perf_counter() - start:.0f} s"
    )
    if failed:
        raise ValueError("; ".join(describe(r) for r in failed))
    if counts["busy"]:
        print(
            f"{counts['busy']} trials were being written by another rig process: "
            "run this sweep again once it ends to collect them"
        )
    print(f"figure: rig plot {out} --out {out}/figure.png; table: rig report {out}")
    return 0


def _plot(argv: list[str]) -> int:
    from rig.baselines import do_nothing_runs
    from rig.plots import METRICS, metric_lines, plot_runs
    from rig.results import load_runs

    parser = argparse.ArgumentParser(
        prog="rig plot",
        description="Final distance (or success) vs env steps: mean and 95% CI across seeds, "
        "one line per method, one panel per task.",
    )
    parser.add_argument(
        "runs", type=Path, nargs="+", help="run directories or folders holding them"
    )
    parser.add_argument("--out", type=Path, required=True, help="figure file (.png, .pdf, .svg)")
    parser.add_argument(
        "--metric",
        default="distance",
        help=f"{', '.join(METRICS)}, or any progress.csv column (e.g. train/moved_door)",
    )
    parser.add_argument("--title", default="")
    parser.add_argument("--split", help=SPLIT_HELP)
    parser.add_argument("--do-nothing", action="store_true", help=DO_NOTHING_HELP)
    args = parser.parse_args(argv)
    runs = load_runs(args.runs)
    metric_lines(runs, args.metric, args.split)  # a bad metric fails before any rollout
    baselines = do_nothing_runs(runs) if args.do_nothing else None
    plot_runs(runs, args.out, args.metric, args.title, baselines, split=args.split)
    print(f"figure of {len(runs)} runs written to {args.out}")
    return 0


def _report(argv: list[str]) -> int:
    from rig.baselines import do_nothing_runs
    from rig.report import report_table
    from rig.results import load_runs

    parser = argparse.ArgumentParser(
        prog="rig report", description="Markdown table of final metrics per task x method."
    )
    parser.add_argument(
        "runs", type=Path, nargs="+", help="run directories or folders holding them"
    )
    parser.add_argument("--out", type=Path, help="write the table to this file (default: print it)")
    parser.add_argument("--split", help=SPLIT_HELP)
    parser.add_argument("--do-nothing", action="store_true", help=DO_NOTHING_HELP)
    parser.add_argument(
        "--unfinished",
        action="store_true",
        help="include runs still in progress, at their last evaluation",
    )
    args = parser.parse_args(argv)
    runs = load_runs(args.runs)
    if args.do_nothing:
        counted = runs if args.unfinished else [r for r in runs if r.summary is not None]
        runs += do_nothing_runs(counted)
    table = report_table(runs, split=args.split, unfinished=args.unfinished)
    if args.out:
        args.out.write_text(table)
        print(f"table written to {args.out}")
    else:
        print(table, end="")
    return 0


def _methods(argv: list[str]) -> int:
    from rig.presets import METHODS, differences

    for m in METHODS.values():
        print(f"{m.name:15s}{m.description}  [{m.paper_section}]")
        changed = {k: v for k, (_, v) in differences(m.config).items() if k != "method"}
        if changed:
            print(
                " " * 15 + "differs from rig: " + ", ".join(f"{k}={v}" for k, v in changed.items())
            )
    return 0


def _show(argv: list[str]) -> int:
    from rig.envs import make
    from rig.envs.contact_sheet import contact_sheet

    parser = argparse.ArgumentParser(
        prog="rig show",
        description="Write a contact sheet of a task's goal images and observations.",
    )
    parser.add_argument("--env", default="pusher")
    parser.add_argument("--out", type=Path, default=Path("sheet.png"))
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=48)
    args = parser.parse_args(argv)
    if args.episodes <= 0:
        raise UsageError(f"--episodes must be positive, got {args.episodes}")
    sheet = contact_sheet(make(args.env, image_size=args.image_size), args.episodes, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"contact sheet written to {args.out} (rows: episodes; columns: goal, then observations)")
    return 0


def _tasks(argv: list[str]) -> int:
    from rig.envs import TASKS
    from rig.presets import TASK_PRESETS, resolve

    for name, gym_id in TASKS.items():
        c = resolve("rig", name)
        horizon = c.horizon or _task_horizon(name)
        print(
            f"{name:22s} {gym_id:32s} {c.steps:>7,d} steps, horizon {horizon}, "
            f"{c.exploration.num_images:,d} images, VAE {c.vae.pretrain_steps:,d} steps "
            f"(beta {c.vae.beta:g}, latent {c.vae.latent_dim}), eval {c.eval.episodes} goals "
            f"every {c.eval.every_steps:,d} steps"
        )
        if name in TASK_PRESETS and TASK_PRESETS[name].changes:
            print(" " * 23 + TASK_PRESETS[name].source)
    print('\nGymnasium-Robotics goal tasks (state methods only; pip install "rig-rl[fetch]"):')
    for name, preset in TASK_PRESETS.items():
        if name not in TASKS:
            c = resolve("her-env-64", name)
            print(
                f"{name:22s} {c.steps:>7,d} steps, eval {c.eval.episodes} goals every "
                f"{c.eval.every_steps:,d} steps; {preset.source}"
            )
    return 0


def _task_horizon(name: str) -> int:
    import gymnasium as gym

    from rig.envs import env_id

    return gym.spec(env_id(name)).max_episode_steps


COMMANDS = {
    "train": _train,
    "eval": _eval,
    "goal": _goal,
    "reach": _reach,
    "sweep": _sweep,
    "plot": _plot,
    "report": _report,
    "methods": _methods,
    "tasks": _tasks,
    "show": _show,
}


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as ``rig: warning: ...`` lines on stderr (no source line)."""
    print(f"rig: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command not in COMMANDS:
            raise UsageError(f"unknown command {command!r}; commands: {', '.join(COMMANDS)}")
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return COMMANDS[command](rest)
    except Interrupted as err:
        print(f"rig: {err}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("rig: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("RIG_TRACEBACK"):
            raise
        message = " ".join(str(err).split())
        if not isinstance(err, (ValueError, OSError, RigError)):
            message = f"{type(err).__name__}: {message} (RIG_TRACEBACK=1 shows where)"
        print(f"rig: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
