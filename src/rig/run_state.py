"""What a run has done so far (counters, metrics, its log) and its checkpoints: written
atomically at episode ends, with VAE pretraining saved apart until the first one, and
restored for a resume; with ``save_buffer`` a resumed run reproduces the uninterrupted one
exactly. Also the end of a run: its pictures, video and summary."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from rig import artifacts
from rig.checkpoint import DiskFull, save_arrays, save_checkpoint, save_state
from rig.config import Config
from rig.errors import RigError
from rig.evaluate import evaluate
from rig.interrupt import StopRequest
from rig.logger import Logger
from rig.run_parts import RunParts

PRETRAINING_FILE = "pretraining.pt"
"""VAE pretraining in progress (before the first checkpoint), so that it can be resumed."""
CONFIG_FILE = "config.json"


class TrainingDiverged(RigError):
    """A loss or a logged metric became NaN or infinite; the last good checkpoint is kept."""


class RunState(RunParts):
    """A run's parts with its progress, saved to and restored from its checkpoints."""

    def __init__(self, config: Config, run_dir: Path, progress: bool = True):
        super().__init__(config, run_dir, progress)
        self.logger: Logger | None = None
        self.env_steps = self.episodes = 0
        self.last_checkpoint_steps: int | None = None
        self.buffer_files: tuple[str | None, str | None] = (None, None)
        """Replay files of the previous and the last checkpoint (``save_buffer``)."""
        self.train_metrics: dict[str, float] = {}
        self.eval_metrics: dict[str, float] = {}
        self.rl_seconds = 0.0
        self._episode_start: float | None = None
        self.stop = StopRequest(announce=progress)
        """Set by Ctrl-C: the run stops after the current step and writes a checkpoint."""

    @contextlib.contextmanager
    def _stop_if_diverged(self):
        try:
            yield
        except FloatingPointError as err:
            raise TrainingDiverged(
                f"training stopped at env step {self.env_steps}: {err}; "
                f"{self._kept_checkpoint()} in {self.run_dir}"
            ) from None

    def _kept_checkpoint(self) -> str:
        if self.last_checkpoint_steps is None:
            return "no checkpoint was written yet"
        return f"the last good checkpoint (env step {self.last_checkpoint_steps}) is kept"

    # ----- checkpoints ------------------------------------------------------
    def _checkpoint_due(self) -> bool:
        every, last = self.config.checkpoint_every, self.last_checkpoint_steps or 0
        unfinished = self.env_steps < self.config.steps
        return bool(every) and self.env_steps // every > last // every and unfinished

    def _rng_state(self) -> dict:
        return {"numpy": self.rng.bit_generator.state, "torch": torch.get_rng_state()}

    def _load_rng(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]["numpy"]
        torch.set_rng_state(state["rng"]["torch"])

    def _save_pretraining(self, metrics: dict[str, float]) -> None:
        """Save VAE pretraining so far, with the metrics of its latest piece."""
        self.train_metrics.update(metrics)
        save_state(
            self.run_dir / PRETRAINING_FILE,
            {
                "config": self.config.to_dict(),
                **self.representation_training.state_dict(),
                "rng": self._rng_state(),
                "train_metrics": self.train_metrics,
                "env_goals": self.task_goals.raw if self.task_goals else None,
            },
        )

    def load_pretraining(self, state: dict) -> None:
        """Restore VAE pretraining saved by :meth:`_save_pretraining` (with its dataset)."""
        self.representation_training.load_state_dict(state)
        self._load_rng(state)
        self.train_metrics = dict(state["train_metrics"])
        if self.task_goals is not None:
            self.task_goals.raw = state["env_goals"]

    def save_checkpoint(self) -> None:
        """Everything needed to continue the run, written atomically (the buffer first); the
        previous checkpoint and its buffer are kept. A full disk stops the run in one line."""
        try:
            self._write_checkpoint()
        except DiskFull as err:
            raise DiskFull(err.errno, f"{err.strerror}; {self._kept_checkpoint()}") from None

    def _write_checkpoint(self) -> None:
        buffer_file = None
        if self.config.save_buffer:
            buffer_file = f"replay_{self.env_steps:09d}.npz"
            save_arrays(self.run_dir / buffer_file, self.buffer.state_dict())
        save_checkpoint(
            self.run_dir,
            {
                "config": self.config.to_dict(),
                **self.representation_training.state_dict(),
                **self.imagined_goals.state_dict(),
                **self.learner.state_dict(),
                **self.collector.state_dict(),
                "spaces": dataclasses.asdict(self.spaces),
                "counters": {
                    "env_steps": self.env_steps,
                    "episodes": self.episodes,
                    "rl_seconds": self.rl_seconds,
                },
                "rng": self._rng_state(),
                "train_metrics": self.train_metrics,
                "progress_rows": self.logger.rows,
                "env_goals": self.task_goals.raw if self.task_goals else None,
                "buffer_file": buffer_file,
            },
        )
        self.last_checkpoint_steps = self.env_steps
        self.buffer_files = (self.buffer_files[1], buffer_file)
        for old in self.run_dir.glob("replay_*.npz"):
            if old.name not in self.buffer_files:
                old.unlink()

    def load_state(self, state: dict) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint` (and its buffer, if saved)."""
        self.representation_training.load_state_dict(state)
        self.imagined_goals.load_state_dict(state)
        self.agent.prior = self.imagined_goals.prior
        self.learner.load_state_dict(state)
        self.collector.load_state_dict(state)
        counters = state["counters"]
        self.env_steps, self.episodes = counters["env_steps"], counters["episodes"]
        self.rl_seconds = counters["rl_seconds"]
        self.last_checkpoint_steps = self.env_steps
        self.train_metrics = dict(state["train_metrics"])
        if self.task_goals is not None:
            self.task_goals.raw = state["env_goals"]
            self.task_goals.encode(self.representation_training.encode)
        if state["buffer_file"]:
            with np.load(self.run_dir / state["buffer_file"]) as arrays:
                self.buffer.load_state_dict(dict(arrays))
        self.buffer_files = (None, state["buffer_file"])
        self._load_rng(state)
        self.logger = Logger(self.run_dir, state["progress_rows"])

    # ----- the end ------------------------------------------------------------
    def _finish(self) -> dict[str, float]:
        """Write the checkpoint, pictures, video and summary of the run."""
        c = self.config
        self.save_checkpoint()
        self.logger.close()
        title = f"{c.method} on {c.env}"
        artifacts.plot_learning_curve(self.logger.rows, self.run_dir / "learning_curve.png", title)
        if self.representation_training.report_rows:
            artifacts.plot_representation(
                self.representation_training.report_rows,
                self.run_dir / "representation.png",
                title=f"{title}: what the latents carry",
            )
        if self.representation_training.trainer is not None:
            shown = self.representation_training.trainer.test_images[:8]
            samples = self.imagined_goals.prior.sample(8, np.random.default_rng(c.seed))
            artifacts.save_vae_grid(
                shown,
                self.agent.decode(self.representation_training.encode(shown)),
                self.agent.decode(samples),
                self.run_dir / "vae.png",
            )
        recorded = evaluate(
            self.eval_env,
            self.agent.goal_policy(),
            c.eval.video_episodes,
            self.horizon,
            seed=c.seed + c.eval.seed_offset,
            record_episodes=c.eval.video_episodes if self.buffer.stores_images else 0,
        )
        if recorded.frames:
            artifacts.save_rollout_video(recorded.frames, self.run_dir / "rollouts.gif")
        updates = self.learner.td3.updates
        summary = {
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "td3_updates": updates,
            "rl_seconds": self.rl_seconds,
            "env_steps_per_s": self.env_steps / max(self.rl_seconds, 1e-9),
            "updates_per_s": updates / max(self.learner.seconds, 1e-9),
            **{k: v for k, v in self.logger.rows[-1].items() if k.startswith("eval/")},
        }
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary
