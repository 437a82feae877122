"""Sweeps of tasks x methods x seeds: a YAML file becomes a list of trials, run here or on Ray.

A sweep file::

    tasks: [point-wall]                 # CLI task names or Gymnasium ids
    methods: [rig, relabel-none]        # method presets (``rig methods``)
    seeds: 3                            # 0, 1, 2; or a list such as [0, 4, 7]
    steps: 3000                         # optional: env steps of every trial
    overrides:                          # optional: dotted configuration fields
      eval.every_steps: 500
    resources: {cpu: 1, gpu: 0}         # optional: per trial, under Ray
    compute: "12 trials x 2 min ..."    # optional: free text, what the sweep costs

Every trial writes an ordinary run directory ``OUT/TASK/METHOD/seedK``. Trials run through
one function, :func:`run_trial`, both on this machine and as Ray Tune trials: a finished
trial (``summary.json``) is skipped, an interrupted one is resumed from its checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import yaml

from rig.config import Config, replace_fields
from rig.run_lock import RunInUse, RunLock

_SWEEP_KEYS = {
    "tasks",
    "methods",
    "seeds",
    "steps",
    "overrides",
    "resources",
    "compute",
    "description",
}
_SET_BY_SWEEP = {
    "env": "tasks",
    "method": "methods",
    "seed": "seeds",
    "steps": "steps",
    "out": "--out",
}


@dataclass(frozen=True)
class Sweep:
    """The contents of a sweep file."""

    tasks: tuple[str, ...]
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int | None = None
    """Environment steps of every trial; ``None`` keeps each preset's own."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Dotted configuration fields applied on top of each method's preset."""
    resources: dict[str, float] = field(default_factory=lambda: {"cpu": 1, "gpu": 0})
    """CPUs and GPUs each trial reserves under Ray."""
    compute: str = ""
    description: str = ""


@dataclass(frozen=True)
class Trial:
    task: str
    method: str
    seed: int
    config: Config

    @property
    def name(self) -> str:
        return f"{self.task}/{self.method}/seed{self.seed}"


@dataclass(frozen=True)
class TrialResult:
    name: str
    status: str
    """``trained``, ``resumed``, ``skipped`` (already finished), ``busy`` (another process is
    writing it; a later sweep collects it) or ``failed``."""
    summary: dict[str, float] = field(default_factory=dict)
    error: str = ""


def read_sweep(path: Path) -> Sweep:
    """Parse and check the structure of a sweep file and its overrides (not the names)."""
    path = Path(path)
    data = _read_mapping(path)
    seeds = data["seeds"]
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(seeds))
    sweep = Sweep(
        data["tasks"],
        data["methods"],
        seeds,
        data.get("steps"),
        data.get("overrides") or {},
        {"cpu": 1, "gpu": 0, **(data.get("resources") or {})},
        str(data.get("compute", "")),
        str(data.get("description", "")),
    )
    problem = _value_problem(sweep)
    if problem:
        raise ValueError(f"sweep {path}: {problem}")
    try:
        apply_overrides(Config(), sweep.overrides)  # names and types; values: per trial
    except ValueError as err:
        raise ValueError(f"sweep {path}: {err}") from None
    return dataclasses.replace(
        sweep,
        tasks=tuple(sweep.tasks),
        methods=tuple(sweep.methods),
        seeds=tuple(sweep.seeds),
        overrides=dict(sweep.overrides),
    )


def _read_mapping(path: Path) -> dict[str, Any]:
    """The sweep file's YAML mapping, with its keys checked."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"sweep {path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"sweep {path}: expected a mapping with keys tasks, methods, seeds")
    unknown = sorted(set(data) - _SWEEP_KEYS)
    if unknown:
        raise ValueError(f"sweep {path}: unknown keys {unknown}; known keys: {sorted(_SWEEP_KEYS)}")
    missing = [k for k in ("tasks", "methods", "seeds") if k not in data]
    if missing:
        raise ValueError(f"sweep {path}: missing {', '.join(missing)}")
    return data


def _value_problem(sweep: Sweep) -> str | None:
    """What is wrong with a sweep's values as read (before ``tuple``), if anything."""
    resources = sweep.resources
    checks = [
        (_names(sweep.tasks), "tasks must be a non-empty list of names"),
        (_names(sweep.methods), "methods must be a non-empty list of names"),
        (
            _ints(sweep.seeds) and min(sweep.seeds) >= 0,
            "seeds must be a positive number or a non-empty list of integers >= 0",
        ),
        (
            sweep.steps is None or (_ints([sweep.steps]) and sweep.steps > 0),
            "steps must be a positive integer",
        ),
        (isinstance(sweep.overrides, dict), "overrides must map dotted field names to values"),
        (
            set(resources) <= {"cpu", "gpu"}
            and all(isinstance(v, (int, float)) and v >= 0 for v in resources.values()),
            "resources must be {cpu: N, gpu: N} with N >= 0",
        ),
    ]
    return next((message for ok, message in checks if not ok), None)


def load_sweep(path: Path) -> Sweep:
    """:func:`read_sweep`, then check that every task and method name is known."""
    from rig.envs import env_id
    from rig.presets import preset

    sweep = read_sweep(path)
    try:
        for method in sweep.methods:
            preset(method)
        for task in sweep.tasks:
            env_id(task)
    except ValueError as err:
        raise ValueError(f"sweep {path}: {err}") from None
    return sweep


def _names(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _ints(value) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def apply_overrides(config: Config, overrides: dict[str, Any]) -> Config:
    """``config`` with dotted fields replaced (``{"vae.beta": 2}``); unknown fields are errors."""
    for key in overrides:
        parts = str(key).replace("-", "_").split(".")
        if parts[0] in _SET_BY_SWEEP:
            where = _SET_BY_SWEEP[parts[0]]
            raise ValueError(f"override {key!r} is set by the sweep's {where!r}, not by overrides")
    return replace_fields(config, overrides)


def trials(sweep: Sweep, out: Path) -> list[Trial]:
    """Every (task, method, seed) of ``sweep``, each writing ``out/TASK/METHOD/seedK``."""
    from rig.presets import resolve

    result = []
    for seed in sweep.seeds:  # seed-major: a sweep stopped early still covers every method
        for task in sweep.tasks:
            for method in sweep.methods:
                base = apply_overrides(resolve(method, task), sweep.overrides)
                config = dataclasses.replace(
                    base,
                    method=method,
                    seed=seed,
                    steps=sweep.steps or base.steps,
                    out=Path(out) / task.replace("/", "_") / method / f"seed{seed}",
                )
                trial = Trial(task, method, seed, config)
                try:
                    config.validate()
                except ValueError as err:
                    raise ValueError(f"trial {trial.name}: {err}") from None
                result.append(trial)
    names = [trial.name for trial in result]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"the sweep lists trials more than once ({', '.join(repeated)}): two would write "
            "one directory; list each task, method and seed once"
        )
    return result


def trial_state(config: Config) -> str:
    """``finished``, ``partial`` (interrupted: resumable or restartable) or ``new``."""
    run_dir = Path(config.out)
    summary = run_dir / "summary.json"
    if summary.exists() and json.loads(summary.read_text())["env_steps"] >= config.steps:
        return "finished"
    return "partial" if (run_dir / "config.json").exists() else "new"


def run_trial(config: Config) -> tuple[str, dict[str, float]]:
    """Bring one trial to completion: skip it if finished, resume it if interrupted, else train.

    Returns the status (``skipped``, ``resumed``, ``trained`` or ``busy``) and the run's
    summary. This is the one function that runs trials, on this machine and under Ray alike.
    The trial's lock is held from the moment its state is read, so two sweeps on one ``--out``
    never run one trial twice: the second finds it ``busy``, or finished.
    """
    try:
        with RunLock(config.out):
            return _run_locked_trial(config)
    except RunInUse:
        return "busy", {}


def _run_locked_trial(config: Config) -> tuple[str, dict[str, float]]:
    from rig.presets import differences
    from rig.trainer import resume, train

    run_dir = Path(config.out)
    state = trial_state(config)
    if state != "new":
        changed = set(differences(Config.load(run_dir / "config.json"), config)) - {"out", "steps"}
        if changed:
            raise ValueError(
                f"{run_dir} holds a run with a different configuration "
                f"({', '.join(sorted(changed))}); delete it or sweep into another --out"
            )
    if state == "finished":
        return "skipped", json.loads((run_dir / "summary.json").read_text())
    if state == "partial":
        return "resumed", resume(run_dir, config.steps, progress=False)
    return "trained", train(config, progress=False)


def _run_caught(trial: Trial) -> TrialResult:
    try:
        return TrialResult(trial.name, *run_trial(trial.config))
    except Exception as err:
        message = f"{type(err).__name__}: {' '.join(str(err).split())}"
        return TrialResult(trial.name, "failed", error=message)


def _limit_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def run_local(todo: list[Trial], workers: int = 1, progress: bool = True) -> list[TrialResult]:
    """Run trials on this machine, one at a time or in a pool of ``workers`` processes."""
    from tqdm import tqdm

    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    bar = tqdm(total=len(todo), desc="rig sweep", unit="trial", disable=not progress)
    results = []

    def done(result: TrialResult) -> None:
        results.append(result)
        bar.update()
        if progress:
            bar.write(describe(result))

    if workers == 1:
        for trial in todo:
            bar.set_postfix_str(f"running {trial.name}")
            done(_run_caught(trial))
    else:
        threads = max(1, (os.cpu_count() or 1) // workers)
        spawn = get_context("spawn")
        with ProcessPoolExecutor(workers, spawn, _limit_threads, (threads,)) as pool:
            for future in as_completed([pool.submit(_run_caught, t) for t in todo]):
                done(future.result())
    bar.close()
    return results


def run_ray(
    todo: list[Trial],
    resources: dict[str, float],
    out: Path,
    address: str | None = None,
    progress: bool = True,
) -> list[TrialResult]:
    """Run trials as Ray Tune trials, each reserving ``resources`` (``{"cpu": 1, "gpu": 0}``).

    Tune's own records go to ``out/tune``; each trial writes its usual run directory.

    ``address``: ``None`` starts Ray here (unless already started), ``"auto"`` joins the
    cluster this machine belongs to, ``"ray://HEAD:10001"`` connects to a remote head node.
    Run directories are written by the worker that runs each trial: on a multi-node cluster,
    sweep into a directory that every node shares.
    """
    try:
        import ray
        from ray import tune
    except ImportError:
        raise ValueError('--ray needs Ray Tune: pip install "rig-rl[sweep]"') from None

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        return _fit(tune, todo, resources, out, progress)
    finally:
        if started:
            ray.shutdown()


def _fit(tune, todo, resources, out, progress) -> list[TrialResult]:
    """One Tune trial per sweep trial, each calling :func:`run_trial`."""
    configs = {
        t.name: dataclasses.replace(t.config, out=Path(t.config.out).absolute()) for t in todo
    }

    def trainable(params: dict) -> None:
        status, summary = run_trial(configs[params["trial"]])
        tune.report({"status": status, "summary": summary})

    tuner = tune.Tuner(
        tune.with_resources(trainable, {k: float(v) for k, v in resources.items()}),
        param_space={"trial": tune.grid_search(list(configs))},
        tune_config=tune.TuneConfig(
            trial_name_creator=lambda trial: trial.config["trial"],
            trial_dirname_creator=lambda trial: trial.config["trial"].replace("/", "_"),
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(Path(out).absolute()),
            verbose=1 if progress else 0,
        ),
    )
    results = []
    for result in tuner.fit():
        name = result.config["trial"]
        if result.error is not None:
            message = " ".join(str(result.error).split())[-300:]
            results.append(TrialResult(name, "failed", error=message))
        else:
            results.append(TrialResult(name, result.metrics["status"], result.metrics["summary"]))
    return results


def describe(result: TrialResult) -> str:
    """One line about a finished trial."""
    if result.status == "failed":
        return f"{result.name}: failed: {result.error}"
    if result.status == "busy":
        return f"{result.name}: busy (another rig process is writing it; not run here)"
    distance = result.summary.get("eval/final_distance")
    shown = f", final distance {distance:.3f}" if distance is not None else ""
    return f"{result.name}: {result.status}{shown}"
