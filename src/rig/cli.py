"""The ``rig`` command: ``rig train``, ``rig methods``, ``rig tasks``."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

USAGE = """usage: rig COMMAND [ARGS]

commands:
  train     train an agent (rig train --env point --steps 3000 --out runs/point)
  methods   list the method presets
  tasks     list the tasks

'rig train --help' lists every configuration field that can be overridden.
"""


def _train(argv: list[str]) -> int:
    import tyro

    from rig.envs import env_id
    from rig.presets import preset
    from rig.trainer import RunDirectoryExists, train

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--method", default="rig")
    pre.add_argument("--overwrite", action="store_true")
    pre.add_argument("--quiet", action="store_true")
    known, rest = pre.parse_known_args(argv)
    try:
        default = preset(known.method)
    except ValueError as err:
        return _fail(err)
    if "-h" in rest or "--help" in rest:
        print("extra flags: --overwrite (replace an existing run directory), --quiet (no progress bars)")
    config = tyro.cli(type(default), default=default, args=rest, prog="rig train")
    config = dataclasses.replace(config, method=known.method)
    try:
        env_id(config.env)
        summary = train(config, overwrite=known.overwrite, progress=not known.quiet)
    except (ValueError, RunDirectoryExists, FloatingPointError) as err:
        return _fail(err)
    distance = summary.get("eval/final_distance")
    print(f"run written to {config.out}")
    if distance is not None:
        print(f"final evaluation distance: {distance:.3f} after {summary['env_steps']} env steps")
    return 0


def _methods() -> int:
    from rig.presets import METHODS

    for m in METHODS.values():
        print(f"{m.name:12s} {m.description}  [{m.paper_section}]")
    return 0


def _tasks() -> int:
    from rig.envs import TASKS

    for name, gym_id in TASKS.items():
        print(f"{name:12s} {gym_id}")
    return 0


def _fail(err: Exception) -> int:
    print(f"rig: error: {err}", file=sys.stderr)
    if os.environ.get("RIG_TRACEBACK"):
        raise err
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    commands = {"train": lambda: _train(rest), "methods": _methods, "tasks": _tasks}
    if command not in commands:
        return _fail(ValueError(f"unknown command {command!r}; commands: {', '.join(commands)}"))
    return commands[command]()


if __name__ == "__main__":
    sys.exit(main())
