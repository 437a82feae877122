"""Algorithm 1 of the paper, in order: explore, pretrain the VAE, fit the prior, then
practise imagined goals with TD3, fine-tuning the VAE every K episodes.

The :class:`Workspace` schedules; the parts do the work: :class:`~rig.collector.Collector`
(acting, into the buffer), :class:`~rig.learner.Learner` (relabeling, rewards, TD3) and
:class:`~rig.representation_training.RepresentationTraining` (lines 1-3 and 23). A run
checkpoints at episode ends (atomically); with ``save_buffer`` a resumed run reproduces the
uninterrupted one exactly.
"""

from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from rig.envs import make_vector
from rig.evaluate import evaluate_batched
from rig.interrupt import Interrupted
from rig.logger import Logger
from rig.run_state import CONFIG_FILE, PRETRAINING_FILE, RunState


class Workspace(RunState):
    """Algorithm 1 over a run's parts (:class:`~rig.run_parts.RunParts`), with its progress
    and checkpoints (:class:`~rig.run_state.RunState`)."""

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
        self.draw_task_goals()
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
            if ended:
                self.collector.end_episode()
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
        self.train_metrics.update(self.collector.take_metrics())
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
