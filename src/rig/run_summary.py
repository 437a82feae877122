"""The end of a run: its learning curve, representation report, VAE grid, rollout video
and ``summary.json``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rig import artifacts
from rig.evaluate import evaluate
from rig.run import Run


def write_run_outputs(run: Run) -> dict[str, float]:
    """Write the run's pictures, video and summary; returns the summary."""
    c, counters, training = run.config, run.counters, run.representation_training
    title = f"{c.method} on {c.env}"
    artifacts.plot_learning_curve(counters.logger.rows, run.run_dir / "learning_curve.png", title)
    if training.report_rows:
        artifacts.plot_representation(
            training.report_rows,
            run.run_dir / "representation.png",
            title=f"{title}: what the latents carry",
        )
    if training.trainer is not None:
        shown = training.trainer.test_images[:8]
        samples = run.imagined_goals.prior.sample(8, np.random.default_rng(c.seed))
        artifacts.save_vae_grid(
            shown,
            run.agent.decode(training.encode(shown)),
            run.agent.decode(samples),
            run.run_dir / "vae.png",
        )
    _write_video(run)
    pictures = ("vae.png", "learning_curve.png", "representation.png", "rollouts.gif")
    counters.logger.log_media(
        {Path(name).stem: run.run_dir / name for name in pictures}, counters.env_steps
    )
    updates = run.learner.td3.updates
    summary = {
        "env_steps": counters.env_steps,
        "episodes": counters.episodes,
        "td3_updates": updates,
        "rl_seconds": counters.rl_seconds,
        "env_steps_per_s": counters.env_steps / max(counters.rl_seconds, 1e-9),
        "updates_per_s": updates / max(run.learner.seconds, 1e-9),
        **{k: v for k, v in counters.logger.rows[-1].items() if k.startswith("eval/")},
    }
    (run.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _write_video(run: Run) -> None:
    episodes = run.config.eval.video_episodes
    recorded = evaluate(
        run.eval_env,
        run.agent.goal_policy(),
        episodes,
        run.horizon,
        seed=run.config.eval_seed,
        record_episodes=episodes if run.buffer.stores_images else 0,
    )
    if recorded.frames:
        artifacts.save_rollout_video(recorded.frames, run.run_dir / "rollouts.gif")
