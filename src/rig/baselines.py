"""The do-nothing baseline of finished runs: each seed's own evaluation goals, never moved.

The issue's bar for learning is relative to it: a method has learned a task when its final
distance falls well below the distance left when the policy never moves (zero actions).
"""

from __future__ import annotations

from rig.config import Config
from rig.envs import episode_horizon, make_vector
from rig.evaluate import DoNothingPolicy, evaluate_batched
from rig.results import DO_NOTHING, Run


def do_nothing_runs(runs: list[Run]) -> list[Run]:
    """One pseudo-run per task and seed of ``runs``, labelled ``do nothing``: the final
    metrics of zero actions on the goals and starts that seed's evaluations used (its
    evaluation task, number of goals, horizon and evaluation seed), logged as if at the
    seed's last evaluation step, so that tables and figures set them beside the methods."""
    first: dict[tuple[str, int], Run] = {}
    for run in runs:
        first.setdefault((run.task, run.seed), run)
    baselines = []
    for (task, seed), run in first.items():
        config = Config.load(run.path / "config.json")
        envs = make_vector(
            config.eval_env or config.env, config.eval.episodes, image_size=config.image_size
        )
        try:
            horizon = episode_horizon(envs, config.horizon, config.env)
            result = evaluate_batched(
                envs,
                DoNothingPolicy(envs.single_action_space),
                horizon,
                seed=config.eval_seed,
            )
        finally:
            envs.close()
        last_step = max((row["env_steps"] for row in run.rows), default=0.0)
        row = {"env_steps": last_step, **result.metrics}
        baselines.append(Run(run.path, task, DO_NOTHING, seed, [row], row))
    return baselines
