"""Algorithm 1 of the paper, in order: explore, pretrain the VAE, fit the prior, then
practise imagined goals with TD3, fine-tuning the VAE every K episodes.

The :class:`Workspace` schedules; the parts do the work: :class:`~rig.collector.Collector`
(acting, into the buffer), :class:`~rig.learner.Learner` (relabeling, rewards, TD3) and
:class:`~rig.representation_training.RepresentationTraining` (lines 1-3 and 23). A run
checkpoints at episode ends (atomically); with ``save_buffer`` a resumed run reproduces the
uninterrupted one exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from rig import artifacts
from rig.agent import TaskSpaces, build_agent
from rig.checkpoint import DiskFull, save_arrays, save_checkpoint, save_state
from rig.collector import Collector
from rig.config import Config
from rig.envs import check_eval_task, check_task, make, make_vector
from rig.evaluate import evaluate, evaluate_batched
from rig.goals import ImaginedGoals, TaskGoals
from rig.interrupt import Interrupted, StopRequest
from rig.learner import Learner
from rig.logger import Logger
from rig.noise import ExplorationNoise
from rig.relabel import GoalRelabeler
from rig.replay import ReplayBuffer
from rig.representation_training import RepresentationTraining
from rig.reward import make_reward
from rig.td3 import TD3

PRETRAINING_FILE = "pretraining.pt"
"""VAE pretraining in progress (before the first checkpoint), so that it can be resumed."""
CONFIG_FILE = "config.json"


class TrainingDiverged(Exception):
    """A loss or a logged metric became NaN or infinite; the last good checkpoint is kept."""


class Workspace:
    """Builds every part of a run from its configuration; :meth:`run` executes Algorithm 1
    and writes the run directory."""

    def __init__(self, config: Config, run_dir: Path, progress: bool = True):
        c = self.config = config.validate()
        self.run_dir, self.progress = Path(run_dir), progress
        self.rng = np.random.default_rng(c.seed)
        torch.manual_seed(c.seed)
        if c.threads:
            torch.set_num_threads(c.threads)
        self.device = torch.device(c.device)
        self.env = make(c.env, image_size=c.image_size)
        self.eval_env = make(c.eval_env or c.env, image_size=c.image_size)
        self.eval_envs: gym.vector.VectorEnv | None = None
        """``eval.episodes`` copies of the evaluation task, stepped together (made on first use)."""
        check_task(self.env, c.image_size, reads_states=c.representation == "state")
        if c.eval_env:
            check_eval_task(self.env, self.eval_env)
        self.horizon = c.horizon or (self.env.spec.max_episode_steps if self.env.spec else 0)
        if not self.horizon:
            raise ValueError(f"task {c.env} has no time limit; set --horizon")
        obs_space, action_space = self.env.observation_space, self.env.action_space
        state, goal = (obs_space.spaces.get(f"state_{k}") for k in ("observation", "desired_goal"))
        self.spaces = TaskSpaces(
            action_space.shape[0],
            action_space.high.tolist(),
            state.shape[0] if state else 0,
            goal.shape[0] if goal else 0,
        )
        self.agent, critic = build_agent(c, self.spaces, self.device)
        representation = self.agent.representation
        td3 = TD3(
            0,
            self.spaces.action_dim,
            action_space.high,
            c.td3,
            self.device,
            networks=(self.agent.actor, critic),
        )
        camera = obs_space.spaces.get("image_observation")
        self.buffer = ReplayBuffer(
            c.buffer_size,
            self.horizon,
            camera.shape if camera else (0,),
            self.spaces.action_dim,
            representation.latent_dim,
            self.rng,
            goal_dim=representation.goal_dim,
            achieved_dim=(
                representation.goal_dim
                if representation.achieved_key != representation.observation_key
                else 0
            ),
        )
        self.imagined_goals = ImaginedGoals(c.imagined_goals, representation.latent_dim, self.rng)
        self.task_goals: TaskGoals | None = None
        if c.relabel.env > 0:
            if _task_method(self.env, "sample_goals") is None:
                raise ValueError(
                    f"relabel.env > 0 needs a task with sample_goals; {c.env} has none"
                )
            self.task_goals = TaskGoals(self.rng)
        relabeler = GoalRelabeler(
            c.relabel,
            self.imagined_goals.sample,
            self.task_goals.sample if self.task_goals else None,
        )
        reward = make_reward(
            c.reward,
            representation,
            self.agent.decode,
            self.buffer.next_images,
            _task_method(self.env, "compute_reward"),
        )
        self.learner = Learner(
            td3, self.buffer, relabeler, reward, c.td3, representation.reads_images, self.device
        )
        noise = ExplorationNoise(c.noise, action_space.low, action_space.high, self.rng)
        self.collector = Collector(
            self.env, self.agent, self.buffer, noise, self.imagined_goals, c.rollout_goals, self.rng
        )
        self.representation_training = RepresentationTraining(
            c,
            representation,
            self.buffer,
            self.imagined_goals,
            self.task_goals,
            self.eval_env,
            self.run_dir,
            self.rng,
            progress,
        )
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

    # ----- Algorithm 1 ------------------------------------------------------
    def run(self) -> dict[str, float]:
        """Lines 1-3 (unless resumed), then the episode loop, then the run's artifacts."""
        with self.stop:
            if self.logger is None:
                self._prepare()
            bar = tqdm(
                total=self.config.steps,
                initial=self.env_steps,
                desc="rig train",
                unit="step",
                disable=not self.progress,
            )
            while self.env_steps < self.config.steps:
                self._episode_start = time.perf_counter()
                self._run_episode(bar)
                self.episodes += 1
                unfinished = self.env_steps < self.config.steps
                if unfinished and self.representation_training.finetune_due(
                    self.episodes, self.env_steps
                ):
                    with self._stop_if_diverged():
                        self.train_metrics.update(
                            self.representation_training.finetune(self.episodes, self.env_steps)
                        )
                    self._representation_changed()
                self.rl_seconds += time.perf_counter() - self._episode_start
                self._episode_start = None
                if self.stop.requested and unfinished:
                    bar.close()
                    self.save_checkpoint()
                    raise Interrupted(
                        f"interrupted at env step {self.env_steps}; checkpoint "
                        f"written; resume with: rig train --resume {self.run_dir}"
                    )
                if self._checkpoint_due():
                    self.save_checkpoint()
            bar.close()
            return self._finish()

    def _prepare(self) -> None:
        """Lines 1-3: exploration data, representation pretraining, prior fit; then the
        first evaluation. Representations that are not learned (state, pixels) skip 1-3.
        Pretraining is saved (``pretraining.pt``) until the first checkpoint."""
        c, representation = self.config, self.representation_training
        c.save(self.run_dir / CONFIG_FILE)
        self.logger = Logger(self.run_dir)
        if self.task_goals is not None and self.task_goals.raw is None:
            goals = _task_method(self.env, "sample_goals")(c.relabel.env_goal_pool)
            self.task_goals.raw = goals[self.agent.goal_key]
        if representation.learned and representation.trainer is None:
            representation.collect(self.env, self.horizon)
        if representation.learned:
            representation.pretrain(self._save_pretraining, self.stop)
            if self.stop.requested:
                done, total = representation.trainer.steps_trained, c.vae.pretrain_steps
                raise Interrupted(
                    f"interrupted during VAE pretraining (step {done} of {total}); progress "
                    f"written; resume with: rig train --resume {self.run_dir}"
                )
        representation.refresh(self.env_steps)
        self._representation_changed()
        representation.warn_if_objects_missed()
        self._evaluate_and_log()
        self.save_checkpoint()
        (self.run_dir / PRETRAINING_FILE).unlink(missing_ok=True)

    def _run_episode(self, bar: tqdm) -> None:
        """Lines 5-22: one episode toward a goal, with TD3 updates after every step (or all
        at its end, with ``td3.updates_per_episode``)."""
        c = self.config
        self.collector.start_episode()
        for step in range(self.horizon):
            ended = self.collector.step()
            self.env_steps += 1
            bar.update(1)
            ended = ended or step == self.horizon - 1 or self.env_steps >= c.steps
            if self.env_steps >= c.learning_starts:
                with self._stop_if_diverged():
                    self.learner.train(self._updates_due(ended))
            if self.stop.requested:
                break
            if self.env_steps % c.eval.every_steps == 0 or self.env_steps == c.steps:
                self._evaluate_and_log()
                distance = self.eval_metrics.get("eval/final_distance")
                if distance is not None:
                    bar.set_postfix(final_distance=f"{distance:.3f}")
            if ended:
                break

    def _updates_due(self, episode_ended: bool) -> int:
        per_episode = self.config.td3.updates_per_episode
        if per_episode:
            return per_episode if episode_ended else 0
        return self.config.td3.updates_per_step

    def _representation_changed(self) -> None:
        self.train_metrics.update(self.representation_training.last_report)
        self.agent.prior = self.imagined_goals.prior

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

    def _evaluate_and_log(self) -> None:
        c = self.config
        if self.eval_envs is None:
            self.eval_envs = make_vector(
                c.eval_env or c.env, c.eval.episodes, image_size=c.image_size
            )
        result = evaluate_batched(
            self.eval_envs, self.agent.goal_policy(), self.horizon, seed=c.seed + c.eval.seed_offset
        )
        self.eval_metrics = result.metrics
        self.train_metrics.update(self.learner.take_metrics())
        elapsed = self.rl_seconds
        if self._episode_start is not None:
            elapsed += time.perf_counter() - self._episode_start
        updates = self.learner.td3.updates
        row = {
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "td3_updates": updates,
            "time/rl_seconds": elapsed,
            "time/env_steps_per_s": self.env_steps / elapsed if elapsed else 0.0,
            "time/updates_per_s": updates / max(self.learner.seconds, 1e-9),
            **result.metrics,
            **self.train_metrics,
        }
        bad = [k for k, v in row.items() if not np.isfinite(v)]
        if bad:
            with self._stop_if_diverged():
                raise FloatingPointError(f"non-finite {', '.join(bad)}")
        self.logger.log(row, self.env_steps)

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


def _task_method(env: gym.Env, name: str):
    """The task's method ``name`` (on the task or on one of its wrappers), or None."""
    try:
        return env.get_wrapper_attr(name)
    except AttributeError:
        return None
