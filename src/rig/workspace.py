"""Algorithm 1 of the paper, in order: explore, pretrain the VAE, fit the prior, then
practise imagined goals with TD3, fine-tuning the VAE every K episodes.

The :class:`Workspace` schedules a :class:`~rig.run.Run` it is handed; the run's parts do
the work: :class:`~rig.collector.Collector` (acting, into the buffer),
:class:`~rig.learner.Learner` (relabeling, rewards, TD3) and
:class:`~rig.representation_training.RepresentationTraining` (lines 1-3 and 23). The
:class:`~rig.checkpointer.Checkpointer` saves the run at episode ends.
"""

from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from rig.checkpointer import Checkpointer, PretrainingSaves
from rig.divergence import stop_if_diverged
from rig.envs import make_vector
from rig.evaluate import evaluate_batched
from rig.interrupt import Interrupted, StopRequest
from rig.run import Run
from rig.run_summary import write_run_outputs
from rig.tracking import open_tracker

CONFIG_FILE = "config.json"


class Workspace:
    """Algorithm 1 over one run, with its checkpoints and its Ctrl-C stop."""

    def __init__(self, run: Run):
        self.run = run
        self.checkpointer = Checkpointer(run)
        self.pretraining = PretrainingSaves(run)
        self.stop = StopRequest(announce=run.show_progress)
        """Set by Ctrl-C: the run stops after the current step and writes a checkpoint."""
        self.eval_envs = None
        """``eval.episodes`` copies of the evaluation task, stepped together (made on first use)."""
        self._episode_start: float | None = None

    def train(self) -> dict[str, float]:
        """Lines 1-3 (unless resumed), then the episode loop, then the run's outputs."""
        run, counters = self.run, self.run.counters
        with self.stop:
            if counters.last_checkpoint_steps is None:
                self._prepare()
            bar = tqdm(
                total=run.config.steps,
                initial=counters.env_steps,
                desc="rig train",
                unit="step",
                disable=not run.show_progress,
            )
            while counters.env_steps < run.config.steps:
                self._episode_start = time.perf_counter()
                self._run_episode(bar)
                counters.episodes += 1
                unfinished = counters.env_steps < run.config.steps
                if unfinished:
                    self._finetune_if_due()
                counters.rl_seconds += time.perf_counter() - self._episode_start
                self._episode_start = None
                if self.stop.requested and unfinished:
                    bar.close()
                    self.checkpointer.save()
                    raise Interrupted(
                        f"interrupted at env step {counters.env_steps}; checkpoint "
                        f"written; resume with: rig train --resume {run.run_dir}"
                    )
                if self.checkpointer.due():
                    self.checkpointer.save()
            bar.close()
            self.checkpointer.save()
            summary = write_run_outputs(run)
            counters.logger.close()
            return summary

    def _diverged_guard(self):
        run = self.run
        return stop_if_diverged(run.counters.env_steps, run.run_dir, self.checkpointer.kept)

    def _finetune_if_due(self) -> None:
        """Line 23: fine-tune the representation every K episodes."""
        training, counters = self.run.representation_training, self.run.counters
        if training.finetune_due(counters.episodes, counters.env_steps):
            with self._diverged_guard():
                training.finetune(counters.episodes, counters.env_steps)

    def _prepare(self) -> None:
        """Lines 1-3: exploration data, representation pretraining, prior fit; then the
        first evaluation. Representations that are not learned (state, pixels) skip 1-3.
        Pretraining is saved (``pretraining.pt``) until the first checkpoint."""
        run, training = self.run, self.run.representation_training
        run.config.save(run.run_dir / CONFIG_FILE)
        run.counters.start_log(tracker=open_tracker(run.config, run.run_dir))
        run.draw_task_goals()
        if training.learned and training.trainer is None:
            training.collect(run.env, run.horizon)
        if training.learned:
            training.pretrain(self.pretraining.save, self.stop)
            if self.stop.requested:
                done, total = training.trainer.steps_trained, run.config.vae.pretrain_steps
                raise Interrupted(
                    f"interrupted during VAE pretraining (step {done} of {total}); progress "
                    f"written; resume with: rig train --resume {run.run_dir}"
                )
        training.refresh(run.counters.env_steps)
        training.warn_if_objects_missed()
        self._evaluate_and_log()
        self.checkpointer.save()
        self.pretraining.remove()

    def _run_episode(self, bar: tqdm) -> None:
        """Lines 5-22: one episode toward a goal, with TD3 updates after every step (or all
        at its end, with ``td3.updates_per_episode``)."""
        run, c, counters = self.run, self.run.config, self.run.counters
        run.collector.start_episode()
        for step in range(run.horizon):
            ended = run.collector.step()
            counters.env_steps += 1
            bar.update(1)
            ended = ended or step == run.horizon - 1 or counters.env_steps >= c.steps
            if ended:
                run.collector.end_episode()
            if counters.env_steps >= c.learning_starts:
                with self._diverged_guard():
                    run.learner.train(self._updates_due(ended))
            if self.stop.requested:
                break
            if counters.env_steps % c.eval.every_steps == 0 or counters.env_steps == c.steps:
                self._evaluate_and_log()
                distance = counters.eval_metrics.get("eval/final_distance")
                if distance is not None:
                    bar.set_postfix(final_distance=f"{distance:.3f}")
            if ended:
                break

    def _updates_due(self, episode_ended: bool) -> int:
        per_episode = self.run.config.td3.updates_per_episode
        if per_episode:
            return per_episode if episode_ended else 0
        return self.run.config.td3.updates_per_step

    def _evaluate_and_log(self) -> None:
        run, c, counters = self.run, self.run.config, self.run.counters
        if self.eval_envs is None:
            self.eval_envs = make_vector(
                c.eval_env or c.env, c.eval.episodes, image_size=c.image_size
            )
        result = evaluate_batched(
            self.eval_envs, run.agent.goal_policy(), run.horizon, seed=c.eval_seed
        )
        counters.eval_metrics = result.metrics
        elapsed = counters.rl_seconds
        if self._episode_start is not None:
            elapsed += time.perf_counter() - self._episode_start
        updates = run.learner.td3.updates
        row = {
            "env_steps": counters.env_steps,
            "episodes": counters.episodes,
            "td3_updates": updates,
            "time/rl_seconds": elapsed,
            "time/env_steps_per_s": counters.env_steps / elapsed if elapsed else 0.0,
            "time/updates_per_s": updates / max(run.learner.seconds, 1e-9),
            **result.metrics,
            **run.learner.take_metrics(),
            **run.collector.take_metrics(),
            **run.representation_training.take_metrics(),
        }
        bad = [k for k, v in row.items() if not np.isfinite(v)]
        if bad:
            with self._diverged_guard():
                raise FloatingPointError(f"non-finite {', '.join(bad)}")
        counters.logger.log(row, counters.env_steps)
