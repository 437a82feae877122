"""Algorithm 1 of the paper, in order: explore, pretrain the VAE, fit the prior, then
practise imagined goals with TD3, fine-tuning the VAE every K episodes."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from rig import artifacts
from rig.agent import Agent
from rig.checkpoint import save_checkpoint
from rig.config import Config
from rig.envs import make
from rig.evaluate import evaluate
from rig.exploration import collect_exploration_images
from rig.logger import Logger
from rig.noise import ExplorationNoise
from rig.relabel import GoalRelabeler
from rig.replay import ReplayBuffer
from rig.reward import latent_distance_reward
from rig.td3 import TD3
from rig.vae import ConvVAE, FittedPrior
from rig.vae_trainer import VAETrainer


class RunDirectoryExists(Exception):
    """The run directory already holds a run and ``overwrite`` was not given."""


def prepare_run_dir(out: Path, overwrite: bool) -> Path:
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise RunDirectoryExists(f"run directory {out} is not empty; pass --overwrite to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


class RIGTrainer:
    """Owns every part of a run; :meth:`run` executes Algorithm 1 and writes the run directory."""

    def __init__(self, config: Config, run_dir: Path, progress: bool = True):
        self.config = config.validate()
        self.run_dir = Path(run_dir)
        self.progress = progress
        self.rng = np.random.default_rng(config.seed)
        torch.manual_seed(config.seed)
        self.device = torch.device(config.device)

        self.env = make(config.env, image_size=config.image_size)
        self.eval_env = make(config.env, image_size=config.image_size)
        self.horizon = config.horizon or self.env.spec.max_episode_steps
        if not self.horizon:
            raise ValueError(f"task {config.env} has no time limit; set --horizon")
        obs_space = self.env.observation_space
        image_shape = obs_space["image_observation"].shape
        action_space = self.env.action_space
        self.action_low, self.action_high = action_space.low, action_space.high

        c = config
        self.vae = ConvVAE(c.image_size, c.vae.latent_dim).to(self.device)
        self.prior = FittedPrior.standard(c.vae.latent_dim)
        self.td3 = TD3(
            2 * c.vae.latent_dim, action_space.shape[0], action_space.high, c.td3, self.device
        )
        self.agent = Agent(self.vae, self.td3.actor, self.prior)
        self.buffer = ReplayBuffer(
            c.buffer_size,
            self.horizon,
            image_shape,
            action_space.shape[0],
            c.vae.latent_dim,
            obs_space["state_observation"].shape[0],
            self.rng,
        )
        self.env_goal_images: np.ndarray | None = None
        self.env_goal_latents: np.ndarray | None = None
        self.relabeler = GoalRelabeler(c.relabel, self._sample_prior, self._sample_env_goals)
        self.noise = ExplorationNoise(c.noise, self.action_low, self.action_high, self.rng)
        self.logger = Logger(self.run_dir)
        self.env_steps = 0
        self.episodes = 0
        self.last_metrics: dict[str, float] = {}
        self.eval_metrics: dict[str, float] = {}
        self.update_seconds = 0.0

    # ----- goal sources -----------------------------------------------------
    def _sample_prior(self, n: int) -> np.ndarray:
        return self.prior.sample(n, self.rng)

    def _sample_env_goals(self, n: int) -> np.ndarray:
        return self.env_goal_latents[self.rng.integers(len(self.env_goal_latents), size=n)]

    # ----- representation ---------------------------------------------------
    def _encode(self, images: np.ndarray) -> np.ndarray:
        return self.vae.encode_images(images)

    def _refresh_representation(self) -> None:
        """After a VAE update: re-encode the buffer and the task goals, refit the prior."""
        self.buffer.refresh_latents(self._encode)
        if self.env_goal_images is not None:
            self.env_goal_latents = self._encode(self.env_goal_images)
        latents = [self._encode(self.dataset)]
        used = self.buffer.lengths > 0
        if used.any():
            frames = np.arange(self.horizon + 1)[None, :] <= self.buffer.lengths[used][:, None]
            latents.append(self.buffer.latents[used][frames])
        self.prior = FittedPrior.fit(np.concatenate(latents))
        self.agent.prior = self.prior

    # ----- Algorithm 1 ------------------------------------------------------
    def run(self) -> dict[str, float]:
        c = self.config
        c.save(self.run_dir / "config.json")
        start = time.perf_counter()
        self.dataset = collect_exploration_images(
            self.env, c.exploration, self.horizon, self.rng, progress=self.progress
        )
        self.vae_trainer = VAETrainer(self.vae, self.dataset, c.vae, self.rng)
        self.last_metrics.update(self._pretrain_vae())
        if c.relabel.env > 0:
            self.env_goal_images = self.env.unwrapped.sample_goals(c.relabel.env_goal_pool)[
                "image_desired_goal"
            ]
        self._refresh_representation()
        self._evaluate_and_log(time.perf_counter())

        rl_start = time.perf_counter()
        bar = tqdm(total=c.steps, desc="rig train", unit="step", disable=not self.progress)
        while self.env_steps < c.steps:
            self._run_episode(bar, rl_start)
            self.episodes += 1
            k = c.vae.finetune_every_episodes
            if k and self.episodes % k == 0 and self.env_steps < c.steps:
                self.last_metrics.update(self._finetune_vae())
        bar.close()

        summary = self._finish(time.perf_counter() - start, time.perf_counter() - rl_start)
        return summary

    def _pretrain_vae(self) -> dict[str, float]:
        steps = self.config.vae.pretrain_steps
        if self.progress:
            print(f"pretraining the VAE: {steps} steps on {len(self.dataset)} images", flush=True)
        return self.vae_trainer.train(steps)

    def _finetune_vae(self) -> dict[str, float]:
        metrics = self.vae_trainer.train(self.config.vae.finetune_steps, self.buffer.sample_images)
        self._refresh_representation()
        return metrics

    def _run_episode(self, bar, rl_start: float) -> None:
        """Lines 5-22: one episode toward an imagined goal, with TD3 updates after every step."""
        c = self.config
        goal_latent = self.prior.sample(1, self.rng)
        goal_image = self.vae.decode_to_images(goal_latent)[0]
        obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        self.noise.reset()
        latent = self._encode(obs["image_observation"][None])
        self.buffer.start_episode(
            obs["image_observation"], latent[0], obs["state_observation"], goal_latent[0], goal_image
        )
        for _ in range(self.horizon):
            action = self.noise(self.agent.act_latent(latent, goal_latent)[0])
            obs, _, terminated, truncated, _ = self.env.step(action)
            latent = self._encode(obs["image_observation"][None])
            self.buffer.add_step(
                action, obs["image_observation"], latent[0], obs["state_observation"], terminated
            )
            self.env_steps += 1
            bar.update(1)
            if self.env_steps >= c.learning_starts:
                self._train_td3(c.td3.updates_per_step)
            if self.env_steps % c.eval.every_steps == 0 or self.env_steps == c.steps:
                self._evaluate_and_log(rl_start)
                bar.set_postfix(
                    final_distance=f"{self.eval_metrics.get('eval/final_distance', np.nan):.3f}"
                )
            if terminated or truncated or self.env_steps >= c.steps:
                break

    def _train_td3(self, updates: int) -> None:
        """Lines 11-15: sample, relabel goals, recompute rewards, update TD3."""
        c = self.config.td3
        tick = time.perf_counter()
        for _ in range(updates):
            batch = self.buffer.sample(c.batch_size)
            goals = self.relabeler.goals(batch, self.buffer)
            reward = latent_distance_reward(batch.next_latent, goals) * c.reward_scale
            tensors = [
                torch.as_tensor(x, device=self.device)
                for x in (
                    np.concatenate([batch.latent, goals], axis=1),
                    batch.action,
                    reward,
                    np.concatenate([batch.next_latent, goals], axis=1),
                    batch.terminal.astype(np.float32),
                )
            ]
            metrics = self.td3.update(*tensors)
        self.last_metrics.update({k: float(v) for k, v in metrics.items()})
        self.update_seconds += time.perf_counter() - tick

    def _evaluate_and_log(self, rl_start: float) -> None:
        c = self.config
        result = evaluate(
            self.eval_env,
            self.agent.goal_policy(),
            c.eval.episodes,
            self.horizon,
            seed=c.seed + c.eval.seed_offset,
        )
        self.eval_metrics = result.metrics
        elapsed = max(time.perf_counter() - rl_start, 1e-9)
        row = {
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "td3_updates": self.td3.updates,
            "time/rl_seconds": elapsed,
            "time/env_steps_per_s": self.env_steps / elapsed,
            "time/updates_per_s": self.td3.updates / max(self.update_seconds, 1e-9),
            **result.metrics,
            **self.last_metrics,
        }
        bad = [k for k, v in row.items() if not np.isfinite(v)]
        if bad:
            raise FloatingPointError(f"non-finite values at step {self.env_steps}: {', '.join(bad)}")
        self.logger.log(row, self.env_steps)
        if c.checkpoint_every and self.env_steps % c.checkpoint_every == 0:
            self._save_checkpoint()

    def _checkpoint_payload(self) -> dict:
        return {
            "config": self.config.to_dict(),
            "vae": self.vae.state_dict(),
            "vae_trainer": self.vae_trainer.state_dict(),
            "prior": self.prior.state_dict(),
            "td3": self.td3.state_dict(),
            "spaces": {
                "action_dim": int(self.action_high.shape[0]),
                "action_scale": self.action_high.tolist(),
            },
            "counters": {"env_steps": self.env_steps, "episodes": self.episodes},
        }

    def _save_checkpoint(self) -> None:
        save_checkpoint(self.run_dir, self._checkpoint_payload())

    def _finish(self, total_seconds: float, rl_seconds: float) -> dict[str, float]:
        """Write the checkpoint, pictures, video and summary of the run."""
        c = self.config
        self._save_checkpoint()
        self.logger.close()
        artifacts.plot_learning_curve(
            self.logger.rows, self.run_dir / "learning_curve.png", title=f"{c.method} on {c.env}"
        )
        shown = self.vae_trainer.test_images[:8]
        artifacts.save_vae_grid(
            shown,
            self.vae.decode_to_images(self._encode(shown)),
            self.vae.decode_to_images(self.prior.sample(8, np.random.default_rng(c.seed))),
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
            "total_seconds": total_seconds,
            "rl_seconds": rl_seconds,
            "env_steps_per_s": self.env_steps / rl_seconds,
            "updates_per_s": self.td3.updates / max(self.update_seconds, 1e-9),
            **{k: v for k, v in final.items() if k.startswith("eval/")},
        }
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary


def train(config: Config, overwrite: bool = False, progress: bool = True) -> dict[str, float]:
    """Run RIG with ``config``; returns the final summary (also in ``summary.json``)."""
    config.validate()
    run_dir = prepare_run_dir(config.out, overwrite)
    return RIGTrainer(config, run_dir, progress).run()
