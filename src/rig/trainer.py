"""Algorithm 1 of the paper, in order: explore, pretrain the VAE, fit the prior, then
practise imagined goals with TD3, fine-tuning the VAE every K episodes.

A run checkpoints at episode ends (atomically); :func:`resume` continues it.
With ``save_buffer`` the resumed run reproduces the uninterrupted one exactly.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from rig import artifacts
from rig.agent import TaskSpaces, build_agent
from rig.checkpoint import (
    CHECKPOINT_FILE,
    PREVIOUS_CHECKPOINT_FILE,
    DiskFull,
    load_checkpoint,
    read_state,
    remove_stray_temporary_files,
    save_arrays,
    save_checkpoint,
    save_state,
)
from rig.config import Config
from rig.diagnostics import ProbeData, probe_data, report_values, representation_report
from rig.envs import check_eval_task, check_task, make, make_vector
from rig.evaluate import evaluate, evaluate_batched
from rig.exploration import collect_exploration_images
from rig.interrupt import Interrupted, StopRequest
from rig.logger import Logger
from rig.noise import ExplorationNoise
from rig.relabel import GoalRelabeler
from rig.replay import ReplayBuffer, TransitionBatch
from rig.reward import latent_distance_reward, log_prob_reward, pixel_mse_reward
from rig.td3 import TD3
from rig.vae import FittedPrior
from rig.vae_trainer import VAETrainer

DATASET_FILE = "exploration_images.npy"
PRETRAINING_FILE = "pretraining.pt"
"""VAE pretraining in progress (before the first checkpoint), so that it can be resumed."""
PRETRAINING_CHECKPOINT_STEPS = 500
"""VAE pretraining steps between two writes of the pretraining file."""
CONFIG_FILE = "config.json"
REPRESENTATION_R2_WARNING = 0.8
"""Below this held-out R^2, a true-state dimension counts as missed by the representation."""
REPRESENTATION_MONOTONE_WARNING = 0.9
"""Below this fraction of reward-improving steps, an object's moves count as not rewarded."""


class RunDirectoryExists(Exception):
    """The run directory already holds a run and ``overwrite`` was not given."""


class TrainingDiverged(Exception):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` is recognisably a rig run (it holds a configuration or a checkpoint)."""
    return any((Path(path) / name).is_file() for name in (CONFIG_FILE, CHECKPOINT_FILE))


def check_run_dir(out: Path, overwrite: bool) -> bool:
    """Check that a new run may write ``out``; returns whether an old run must be deleted first.

    Only a directory that is recognisably a rig run is ever deleted, never the working
    directory, one above it or the home directory.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirectoryExists(f"--out {out} is a file, not a directory")
    if not (out.exists() and any(out.iterdir())):
        return False
    if not overwrite:
        hint = f"pass --resume {out} to continue it" if is_run_dir(out) else "choose another --out"
        raise RunDirectoryExists(
            f"run directory {out} is not empty; {hint}, or --overwrite to replace a rig run"
        )
    resolved = out.resolve()
    protected = {Path.cwd(), *Path.cwd().parents, Path.home()}
    if resolved in protected or not is_run_dir(out):
        raise RunDirectoryExists(
            f"--overwrite deletes only a rig run directory (holding {CONFIG_FILE} or "
            f"{CHECKPOINT_FILE}); {out} is not one, so nothing was deleted"
        )
    return True


class RIGTrainer:
    """Owns every part of a run; :meth:`run` executes Algorithm 1 and writes the run directory."""

    def __init__(self, config: Config, run_dir: Path, progress: bool = True):
        self.config = config.validate()
        self.run_dir = Path(run_dir)
        self.progress = progress
        self.rng = np.random.default_rng(config.seed)
        torch.manual_seed(config.seed)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = torch.device(config.device)

        self.env = make(config.env, image_size=config.image_size)
        self.eval_env = make(config.eval_env or config.env, image_size=config.image_size)
        self.eval_envs: gym.vector.VectorEnv | None = None
        """``eval.episodes`` copies of the evaluation task, stepped together (made on first use)."""
        check_task(self.env, config.image_size)
        if config.eval_env:
            check_eval_task(self.env, self.eval_env)
        self.horizon = config.horizon or (self.env.spec.max_episode_steps if self.env.spec else 0)
        if not self.horizon:
            raise ValueError(f"task {config.env} has no time limit; set --horizon")
        obs_space = self.env.observation_space
        self.has_state = "state_observation" in obs_space.spaces
        self.state_dim = obs_space["state_observation"].shape[0] if self.has_state else 0
        action_space = self.env.action_space
        self.action_low, self.action_high = action_space.low, action_space.high

        c = config
        self.spaces = TaskSpaces(action_space.shape[0], action_space.high.tolist(), self.state_dim)
        self.agent, critic = build_agent(c, self.spaces, self.device)
        self.representation = self.agent.representation
        self.latent_dim = self.representation.latent_dim
        self.pixels = self.latent_dim == 0
        """Raw-pixel methods: the TD3 networks read images from the buffer, nothing is cached."""
        self.prior = self.agent.prior
        self.td3 = TD3(
            0,
            action_space.shape[0],
            action_space.high,
            c.td3,
            self.device,
            networks=(self.agent.actor, critic),
        )
        self.buffer = ReplayBuffer(
            c.buffer_size,
            self.horizon,
            obs_space["image_observation"].shape,
            action_space.shape[0],
            self.latent_dim,
            self.rng,
        )
        self.env_goals: np.ndarray | None = None
        """Task goals (``relabel.env``): the representation's goal entries, encoded as needed."""
        self.stored_goal_latents: np.ndarray | None = None
        """Latents imagined goals are drawn from, as of the last refresh (``imagined_goals``
        ``stored-latents`` or ``exploration-latents``)."""
        self.env_goal_latents: np.ndarray | None = None
        if c.relabel.env > 0 and not hasattr(self.env.unwrapped, "sample_goals"):
            raise ValueError(f"relabel.env > 0 needs a task with sample_goals; {c.env} has none")
        self.relabeler = GoalRelabeler(c.relabel, self._sample_prior, self._sample_env_goals)
        self.noise = ExplorationNoise(c.noise, self.action_low, self.action_high, self.rng)
        self.dataset: np.ndarray | None = None
        self.vae_trainer: VAETrainer | None = None
        self.logger: Logger | None = None
        self.env_steps = 0
        self.episodes = 0
        self.last_checkpoint_steps: int | None = None
        self.buffer_files: tuple[str | None, str | None] = (None, None)
        """Replay files of the previous and the last checkpoint (``save_buffer``)."""
        self.last_finetune = (0, 0)
        """Episodes and env steps at the last VAE fine-tuning."""
        self.train_metrics: dict[str, float] = {}
        self.td3_totals: dict[str, tuple] = {}
        """Sums (kept on the device) and counts of TD3's metrics since the last log."""
        self.probe: ProbeData | None = None
        """Fresh goal states for the representation report (true state: this report only)."""
        self.representation_rows: list[dict[str, float]] = []
        self.eval_metrics: dict[str, float] = {}
        self.rl_seconds = 0.0
        self.update_seconds = 0.0
        self._episode_start: float | None = None
        self.stop = StopRequest(announce=progress)
        """Set by Ctrl-C: the run stops after the current step and writes a checkpoint."""

    # ----- goal sources -----------------------------------------------------
    def _sample_prior(self, n: int) -> np.ndarray:
        """Imagined goals: from the fitted prior, or latents of stored images."""
        pool = self.stored_goal_latents
        if self.config.imagined_goals.endswith("-latents") and pool is not None:
            return pool[self.rng.integers(len(pool), size=n)]
        return self.prior.sample(n, self.rng)

    def _sample_env_goals(self, n: int) -> np.ndarray:
        return self.env_goal_latents[self.rng.integers(len(self.env_goal_latents), size=n)]

    def _sample_future(self, episode: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.pixels:
            return self.buffer.frames[episode, self.buffer.future_indices(episode, t)]
        return self.buffer.future_latents(episode, t)

    # ----- representation ---------------------------------------------------
    def _encode(self, observations: np.ndarray) -> np.ndarray:
        return self.representation.features(observations)

    def _cached(self, latent: np.ndarray) -> np.ndarray:
        """What the buffer caches for one encoded observation (nothing for raw pixels)."""
        return latent[0] if not self.pixels else np.zeros(0, np.float32)

    def _encode_env_goals(self) -> None:
        if self.env_goals is not None:
            self.env_goal_latents = self._encode(self.env_goals)

    def _refresh_representation(self) -> None:
        """After a representation update: re-encode the buffer and task goals, refit the prior."""
        self.buffer.refresh_latents(self._encode)
        self._encode_env_goals()
        latents = self._encode(self.dataset)
        if not self.config.imagined_goals.startswith("exploration-"):
            latents = np.concatenate([latents, self.buffer.stored_latents()])
        self.prior = FittedPrior.fit(latents)
        if self.config.imagined_goals.endswith("-latents"):
            self.stored_goal_latents = latents.astype(np.float32)
        self.agent.prior = self.prior
        self._report_representation()

    def _report_representation(self) -> None:
        """Held-out R^2 of each true-state dimension from the latents of fresh goal states."""
        if self.probe is None:
            task = self.eval_env.unwrapped
            if not (self.has_state and hasattr(task, "sample_goals")):
                return
            c = self.config
            self.probe = probe_data(self.eval_env, c.eval.probe_states, c.seed + c.eval.seed_offset)
        report = representation_report(self._encode, self.probe)
        self.train_metrics.update(report)
        self.representation_rows.append({"env_steps": self.env_steps, **report})

    # ----- Algorithm 1 ------------------------------------------------------
    def run(self) -> dict[str, float]:
        """Lines 1-3 (unless resumed), then the episode loop, then the run's artifacts."""
        with self.stop:
            return self._run()

    def _run(self) -> dict[str, float]:
        c = self.config
        if self.logger is None:
            self._prepare()
        bar = tqdm(
            total=c.steps,
            initial=self.env_steps,
            desc="rig train",
            unit="step",
            disable=not self.progress,
        )
        while self.env_steps < c.steps:
            self._episode_start = time.perf_counter()
            self._run_episode(bar)
            self.episodes += 1
            if self._finetune_due() and self.env_steps < c.steps:
                self.train_metrics.update(self._finetune_vae())
                self.last_finetune = (self.episodes, self.env_steps)
            self.rl_seconds += time.perf_counter() - self._episode_start
            self._episode_start = None
            if self.stop.requested and self.env_steps < c.steps:
                bar.close()
                self.save_checkpoint()
                raise self._interrupted()
            if self._checkpoint_due():
                self.save_checkpoint()
        bar.close()
        return self._finish()

    def _interrupted(self) -> Interrupted:
        return Interrupted(
            f"interrupted at env step {self.env_steps}; checkpoint written; "
            f"resume with: rig train --resume {self.run_dir}"
        )

    def _prepare(self) -> None:
        """Lines 1-3: exploration data, representation pretraining, prior fit; then the
        first evaluation. Representations that are not learned (state, pixels) skip 1-3.
        Pretraining is checkpointed (``pretraining.pt``) until the first checkpoint."""
        c = self.config
        c.save(self.run_dir / CONFIG_FILE)
        self.logger = Logger(self.run_dir)
        if self.vae_trainer is None:
            if c.relabel.env > 0:
                goals = self.env.unwrapped.sample_goals(c.relabel.env_goal_pool)
                self.env_goals = goals[self.representation.goal_key]
            if self.representation.trainable:
                self.dataset = collect_exploration_images(
                    self.env, c.exploration, self.horizon, self.rng, progress=self.progress
                )
                save_arrays(self.run_dir / DATASET_FILE, self.dataset)
                self.vae_trainer = VAETrainer(self.representation, self.dataset, c.vae, self.rng)
        if self.representation.trainable:
            self._pretrain()
            self._refresh_representation()
            self._warn_if_objects_missed()
        else:
            self._encode_env_goals()
        self._evaluate_and_log()
        self.save_checkpoint()
        (self.run_dir / PRETRAINING_FILE).unlink(missing_ok=True)

    def _pretrain(self) -> None:
        """Line 2, in pieces: each piece ends with a write of the pretraining file."""
        total = self.config.vae.pretrain_steps
        trainer = self.vae_trainer
        bar = tqdm(
            total=total,
            initial=trainer.steps_trained,
            desc="VAE pretraining",
            unit="step",
            disable=not self.progress,
        )
        while trainer.steps_trained < total:
            steps = min(PRETRAINING_CHECKPOINT_STEPS, total - trainer.steps_trained)
            self.train_metrics.update(trainer.train(steps, bar=bar, should_stop=self.stop))
            self._save_pretraining()
            if self.stop.requested:
                bar.close()
                raise Interrupted(
                    f"interrupted during VAE pretraining (step {trainer.steps_trained} of "
                    f"{total}); progress written; resume with: rig train --resume {self.run_dir}"
                )
        bar.close()

    def _save_pretraining(self) -> None:
        save_state(
            self.run_dir / PRETRAINING_FILE,
            {
                "config": self.config.to_dict(),
                "representation": self.representation.state_dict(),
                "vae_trainer": self.vae_trainer.state_dict(),
                "rng": self._rng_state(),
                "train_metrics": self.train_metrics,
                "env_goals": self.env_goals,
            },
        )

    def load_pretraining(self, state: dict) -> None:
        """Restore VAE pretraining saved by :meth:`_save_pretraining` (with its dataset)."""
        self._load_representation(state)
        self._load_rng(state)
        self.train_metrics = dict(state["train_metrics"])
        self.env_goals = state["env_goals"]

    def _load_representation(self, state: dict) -> None:
        """The representation's weights; for a learned one, its dataset and trainer too."""
        self.representation.load_state_dict(state["representation"])
        self.representation.eval()
        if self.representation.trainable:
            self.dataset = np.load(self.run_dir / DATASET_FILE)
            self.vae_trainer = VAETrainer(
                self.representation, self.dataset, self.config.vae, self.rng
            )
            self.vae_trainer.load_state_dict(state["vae_trainer"])

    def _rng_state(self) -> dict:
        return {"numpy": self.rng.bit_generator.state, "torch": torch.get_rng_state()}

    def _load_rng(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]["numpy"]
        torch.set_rng_state(state["rng"]["torch"])

    def _finetune_due(self) -> bool:
        """Line 23's schedule: every K episodes, and, once the buffer is large, only as often
        as re-encoding all of it stays within ``vae.refresh_frames_per_step`` per env step."""
        v = self.config.vae
        if not (v.finetune_every_episodes and self.representation.trainable):
            return False
        episodes, steps = self.last_finetune
        if self.episodes - episodes < v.finetune_every_episodes:
            return False
        budget = v.refresh_frames_per_step
        return not budget or (self.env_steps - steps) * budget >= self.buffer.num_frames

    def _warn_if_objects_missed(self) -> None:
        """Say, before RL starts, which true-state dimensions the latents do not carry and
        which objects' moves their distance does not reward."""
        if not self.representation_rows or not self.progress:
            return
        report = self.representation_rows[-1]
        checks = (
            (
                "r2",
                "representation R^2 on fresh goal states",
                REPRESENTATION_R2_WARNING,
                "warning: the latents barely carry {} (R^2 < {}); RL cannot learn to move what the "
                "representation misses: consider more --vae.pretrain-steps, a larger "
                "--vae.latent-dim or a smaller --vae.beta (see vae.png)",
            ),
            (
                "monotone",
                "latent distance falls along straight moves toward a goal",
                REPRESENTATION_MONOTONE_WARNING,
                "warning: moving {} toward a goal often raises the latent distance (below {} of "
                "the steps: the latent space folds), so the reward does not teach that move: see "
                "representation.png and docs/task_protocols.md",
            ),
        )
        for kind, title, threshold, warning in checks:
            values = report_values(report, kind)
            if not values:
                continue
            tqdm.write(f"{title}: " + ", ".join(f"{n} {v:.2f}" for n, v in values.items()))
            below = [name for name, value in values.items() if value < threshold]
            if below:
                tqdm.write(warning.format(", ".join(below), threshold))

    def _finetune_vae(self) -> dict[str, float]:
        """Line 23: fine-tune on the dataset and replay images, then refresh every latent."""
        try:
            metrics = self.vae_trainer.train(
                self.config.vae.finetune_steps, self.buffer.sample_images
            )
        except FloatingPointError as err:
            self._diverged(str(err))
        self._refresh_representation()
        return metrics

    def _run_episode(self, bar) -> None:
        """Lines 5-22: one episode toward an imagined goal, with TD3 updates after every step."""
        c = self.config
        key = self.representation.observation_key
        if c.rollout_goals == "prior":
            goal_latent = self._sample_prior(1)
            goal_image = self.agent.decode(goal_latent)[0]
            obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        else:
            obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
            goal_latent = self._encode(obs[self.representation.goal_key][None])
            goal_image = obs["image_desired_goal"]
        self.noise.reset()
        latent = self._encode(obs[key][None])
        self.buffer.start_episode(
            obs["image_observation"],
            self._cached(latent),
            self._cached(goal_latent),
            goal_image,
        )
        for _ in range(self.horizon):
            action = self.noise(self.agent.act_latent(latent, goal_latent)[0])
            obs, _, terminated, truncated, _ = self.env.step(action)
            latent = self._encode(obs[key][None])
            self.buffer.add_step(action, obs["image_observation"], self._cached(latent), terminated)
            self.env_steps += 1
            bar.update(1)
            if self.env_steps >= c.learning_starts:
                self._train_td3(c.td3.updates_per_step)
            if self.stop.requested:
                break
            if self.env_steps % c.eval.every_steps == 0 or self.env_steps == c.steps:
                self._evaluate_and_log()
                distance = self.eval_metrics.get("eval/final_distance")
                if distance is not None:
                    bar.set_postfix(final_distance=f"{distance:.3f}")
            if terminated or truncated or self.env_steps >= c.steps:
                break

    def _train_td3(self, updates: int) -> None:
        """Lines 11-15: sample, relabel goals, recompute rewards, update TD3."""
        c = self.config.td3
        tick = time.perf_counter()
        for _ in range(updates):
            batch = self.buffer.sample(c.batch_size)
            if self.pixels:
                batch.latent = self.buffer.frames[batch.episode, batch.t]
                batch.next_latent = self.buffer.frames[batch.episode, batch.t + 1]
                batch.rollout_goal = self.buffer.rollout_goal_images[batch.episode]
            goals = self.relabeler.goals(batch, self._sample_future)
            reward = self._rewards(batch, goals) * c.reward_scale
            tensors = [
                torch.as_tensor(x, device=self.device)
                for x in (
                    np.concatenate([batch.latent, goals], axis=-1),
                    batch.action,
                    reward,
                    np.concatenate([batch.next_latent, goals], axis=-1),
                    batch.terminal.astype(np.float32),
                )
            ]
            metrics = self.td3.update(*tensors)
            for key, value in metrics.items():
                total, count = self.td3_totals.get(key, (0.0, 0))
                self.td3_totals[key] = (total + value, count + 1)
        self.update_seconds += time.perf_counter() - tick
        for key, value in metrics.items():
            value = float(value)
            if not np.isfinite(value):
                self._diverged(f"{key.removeprefix('td3/')} became {value}")

    def _take_td3_means(self) -> None:
        """TD3's metrics averaged over the updates since the last log (then reset)."""
        for key, (total, count) in self.td3_totals.items():
            self.train_metrics[key] = float(total) / count
        self.td3_totals = {}

    def _rewards(self, batch: TransitionBatch, goals: np.ndarray) -> np.ndarray:
        """The configured reward of each transition for its relabeled goal."""
        kind = self.config.reward
        if kind == "latent-distance":
            return latent_distance_reward(batch.next_latent, goals)
        next_images = self.buffer.frames[batch.episode, batch.t + 1]
        if kind == "log-prob":
            log_variance = self.representation.encode_log_variances(next_images)
            return log_prob_reward(batch.next_latent, log_variance, goals)
        goal_images = goals if self.pixels else self.agent.decode(goals)
        return pixel_mse_reward(next_images, goal_images)

    def _diverged(self, what: str) -> None:
        kept = (
            f"the last good checkpoint (env step {self.last_checkpoint_steps}) "
            f"is kept in {self.run_dir}"
            if self.last_checkpoint_steps is not None
            else "no checkpoint was written yet"
        )
        raise TrainingDiverged(f"training stopped at env step {self.env_steps}: {what}; {kept}")

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
        self._take_td3_means()
        elapsed = self.rl_seconds
        if self._episode_start is not None:
            elapsed += time.perf_counter() - self._episode_start
        row = {
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "td3_updates": self.td3.updates,
            "time/rl_seconds": elapsed,
            "time/env_steps_per_s": self.env_steps / elapsed if elapsed else 0.0,
            "time/updates_per_s": self.td3.updates / max(self.update_seconds, 1e-9),
            **result.metrics,
            **self.train_metrics,
        }
        bad = [k for k, v in row.items() if not np.isfinite(v)]
        if bad:
            self._diverged(f"non-finite {', '.join(bad)}")
        self.logger.log(row, self.env_steps)

    # ----- checkpoints ------------------------------------------------------
    def _checkpoint_due(self) -> bool:
        every = self.config.checkpoint_every
        last = self.last_checkpoint_steps or 0
        return (
            bool(every)
            and self.env_steps // every > last // every
            and self.env_steps < self.config.steps
        )

    def save_checkpoint(self) -> None:
        """Everything needed to continue the run, written atomically (the buffer first); the
        previous checkpoint and its buffer are kept. A full disk stops the run in one line."""
        try:
            self._write_checkpoint()
        except DiskFull as err:
            kept = (
                f"the last good checkpoint (env step {self.last_checkpoint_steps}) is kept"
                if self.last_checkpoint_steps is not None
                else "no checkpoint was written yet"
            )
            raise DiskFull(err.errno, f"{err.strerror}; {kept}") from None

    def _write_checkpoint(self) -> None:
        buffer_file = None
        if self.config.save_buffer:
            buffer_file = f"replay_{self.env_steps:09d}.npz"
            save_arrays(self.run_dir / buffer_file, self.buffer.state_dict())
        save_checkpoint(
            self.run_dir,
            {
                "config": self.config.to_dict(),
                "representation": self.representation.state_dict(),
                "vae_trainer": self.vae_trainer.state_dict() if self.vae_trainer else None,
                "prior": self.prior.state_dict(),
                "stored_goal_latents": self.stored_goal_latents,
                "td3": self.td3.state_dict(),
                "spaces": dataclasses.asdict(self.spaces),
                "counters": {
                    "env_steps": self.env_steps,
                    "episodes": self.episodes,
                    "rl_seconds": self.rl_seconds,
                    "update_seconds": self.update_seconds,
                    "last_finetune": list(self.last_finetune),
                },
                "rng": self._rng_state(),
                "train_metrics": self.train_metrics,
                "td3_totals": {k: (float(t), c) for k, (t, c) in self.td3_totals.items()},
                "progress_rows": self.logger.rows,
                "representation_rows": self.representation_rows,
                "env_goals": self.env_goals,
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
        self._load_representation(state)
        self.td3.load_state_dict(state["td3"])
        self.prior = FittedPrior(**state["prior"])
        self.agent.prior = self.prior
        self.stored_goal_latents = state.get("stored_goal_latents")
        counters = state["counters"]
        self.env_steps, self.episodes = counters["env_steps"], counters["episodes"]
        self.rl_seconds, self.update_seconds = counters["rl_seconds"], counters["update_seconds"]
        self.last_finetune = tuple(counters.get("last_finetune", (0, 0)))
        self.last_checkpoint_steps = self.env_steps
        self.train_metrics = dict(state["train_metrics"])
        self.td3_totals = dict(state.get("td3_totals", {}))
        self.representation_rows = list(state.get("representation_rows", []))
        self.env_goals = state["env_goals"]
        self._encode_env_goals()
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
        artifacts.plot_learning_curve(
            self.logger.rows, self.run_dir / "learning_curve.png", title=f"{c.method} on {c.env}"
        )
        if self.representation_rows:
            artifacts.plot_representation(
                self.representation_rows,
                self.run_dir / "representation.png",
                title=f"{c.method} on {c.env}: what the latents carry",
            )
        if self.vae_trainer is not None:
            shown = self.vae_trainer.test_images[:8]
            artifacts.save_vae_grid(
                shown,
                self.agent.decode(self._encode(shown)),
                self.agent.decode(self.prior.sample(8, np.random.default_rng(c.seed))),
                self.run_dir / "vae.png",
            )
        recorded = evaluate(
            self.eval_env,
            self.agent.goal_policy(),
            c.eval.video_episodes,
            self.horizon,
            seed=c.seed + c.eval.seed_offset,
            record_episodes=c.eval.video_episodes,
        )
        if recorded.frames:
            artifacts.save_rollout_video(recorded.frames, self.run_dir / "rollouts.gif")
        final = self.logger.rows[-1]
        summary = {
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "td3_updates": self.td3.updates,
            "rl_seconds": self.rl_seconds,
            "env_steps_per_s": self.env_steps / max(self.rl_seconds, 1e-9),
            "updates_per_s": self.td3.updates / max(self.update_seconds, 1e-9),
            **{k: v for k, v in final.items() if k.startswith("eval/")},
        }
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary


def train(config: Config, overwrite: bool = False, progress: bool = True) -> dict[str, float]:
    """Run RIG with ``config``; returns the final summary (also in ``summary.json``).

    With ``overwrite``, an old run in ``config.out`` is deleted only once the new run has
    been built (a run that cannot start destroys nothing)."""
    config.validate()
    run_dir = Path(config.out)
    replace = check_run_dir(run_dir, overwrite)
    trainer = RIGTrainer(config, run_dir, progress)
    if replace:
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return trainer.run()


def resume(run_dir: Path, steps: int | None = None, progress: bool = True) -> dict[str, float]:
    """Continue the run in ``run_dir`` from its last checkpoint (optionally to more ``steps``).

    A run stopped before its first checkpoint continues its VAE pretraining, or starts
    again from its ``config.json`` if it had not reached pretraining.
    """
    run_dir = Path(run_dir)
    remove_stray_temporary_files(run_dir)
    if not (run_dir / CHECKPOINT_FILE).exists():
        return _resume_before_first_checkpoint(run_dir, steps, progress)
    checkpoint = load_checkpoint(run_dir)
    config = _resumed_config(run_dir, checkpoint.config, checkpoint.state, steps)
    trainer = RIGTrainer(config, run_dir, progress)
    trainer.load_state(checkpoint.state)
    if checkpoint.path is not None and checkpoint.path.name == PREVIOUS_CHECKPOINT_FILE:
        shutil.copyfile(checkpoint.path, run_dir / CHECKPOINT_FILE)
    config.save(run_dir / CONFIG_FILE)
    if progress:
        print(f"resuming {run_dir} at env step {trainer.env_steps}", flush=True)
    return trainer.run()


def _resume_before_first_checkpoint(
    run_dir: Path, steps: int | None, progress: bool
) -> dict[str, float]:
    if not (run_dir / CONFIG_FILE).is_file():
        raise FileNotFoundError(
            f"no checkpoint in {run_dir} (expected {CHECKPOINT_FILE}) and no {CONFIG_FILE} "
            "to start it again from"
        )
    pretraining = run_dir / PRETRAINING_FILE
    state = read_state(pretraining) if pretraining.exists() else None
    if state is not None:
        config = _resumed_config(run_dir, Config.from_dict(state["config"]), state, steps)
    else:
        try:
            config = Config.load(run_dir / CONFIG_FILE)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{run_dir / CONFIG_FILE} is unreadable ({err}) and the run has no checkpoint "
                "to restore it from"
            ) from None
        config = dataclasses.replace(config, out=run_dir)
        if steps is not None:
            config = config.with_steps(steps)
    trainer = RIGTrainer(config, run_dir, progress)
    if state is not None:
        trainer.load_pretraining(state)
    if progress:
        done = trainer.vae_trainer.steps_trained if trainer.vae_trainer else 0
        stage = f"VAE pretraining step {done}" if state is not None else "the start"
        print(f"resuming {run_dir} (no checkpoint yet) from {stage}", flush=True)
    return trainer.run()


def _resumed_config(run_dir: Path, saved: Config, state: dict, steps: int | None) -> Config:
    """The saved configuration (restoring an edited ``config.json``), with ``steps`` if given."""
    done = state.get("counters", {}).get("env_steps", 0)
    if steps is not None and steps < done:
        raise ValueError(f"--steps {steps} is below the {done} env steps {run_dir} has run already")
    try:
        on_disk = Config.load(run_dir / CONFIG_FILE)
    except (OSError, ValueError, TypeError):
        on_disk = None
    if on_disk is None or dataclasses.replace(on_disk, steps=saved.steps, out=saved.out) != saved:
        print(
            f"rig: {run_dir / CONFIG_FILE} was edited, unreadable or missing; restored from the "
            "checkpoint (a run's settings cannot change on resume: start a new run for that)",
            file=sys.stderr,
        )
    saved = dataclasses.replace(saved, out=run_dir)
    return saved.with_steps(steps) if steps is not None else saved
