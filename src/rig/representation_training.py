"""Lines 1-3 and 23 of Algorithm 1 for a learned representation: exploration images,
pretraining (resumable), fine-tuning on replay images, and what must follow every change
of the representation: re-encoded buffer and task goals, a refitted prior and a report of
what the latents carry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from rig.checkpoint import save_arrays
from rig.config import Config
from rig.diagnostics import ProbeData, probe_data, report_values, representation_report
from rig.exploration import collect_exploration_images
from rig.goals import ImaginedGoals, TaskGoals
from rig.replay import ReplayBuffer
from rig.representations import Representation
from rig.vae_trainer import VAETrainer

DATASET_FILE = "exploration_images.npy"
PRETRAINING_CHECKPOINT_STEPS = 500
"""VAE pretraining steps between two saves of the pretraining state."""
REPRESENTATION_R2_WARNING = 0.8
"""Below this held-out R^2, a true-state dimension counts as missed by the representation."""
REPRESENTATION_MONOTONE_WARNING = 0.9
"""Below this fraction of reward-improving steps, an object's moves count as not rewarded."""
REPRESENTATION_REACH_WARNING = 0.9
"""Below this fraction of moves guided from their start, an object's long moves count as not
rewarded."""

_WARNINGS = (
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
    (
        "reach",
        "moves whose first step already lowers the latent distance",
        REPRESENTATION_REACH_WARNING,
        "warning: far from a goal the latent distance stops growing for {} (fewer than {} of "
        "its moves are guided from their start), so RL will learn short moves of it sooner "
        "than long ones: see representation.png and docs/task_protocols.md",
    ),
)


class RepresentationTraining:
    """The representation's data, training and refreshes. For representations that are not
    learned (state, pixels) only the task goals are encoded."""

    def __init__(
        self,
        config: Config,
        representation: Representation,
        buffer: ReplayBuffer,
        imagined_goals: ImaginedGoals,
        task_goals: TaskGoals | None,
        eval_env: gym.Env,
        run_dir: Path,
        rng: np.random.Generator,
        progress: bool,
    ):
        self.config = config
        self.representation = representation
        self.buffer = buffer
        self.imagined_goals = imagined_goals
        self.task_goals = task_goals
        self.eval_env = eval_env
        self.run_dir = run_dir
        self.rng = rng
        self.progress = progress
        self.dataset: np.ndarray | None = None
        self.trainer: VAETrainer | None = None
        self.probe: ProbeData | None = None
        """Fresh goal states for the report (true state: this report only, never training)."""
        self.report_rows: list[dict[str, float]] = []
        self.last_finetune = (0, 0)
        """Episodes and env steps at the last fine-tuning."""

    @property
    def learned(self) -> bool:
        """Whether the representation is learned (VAE, AE, spatial AE), not given."""
        return self.representation.trainable

    def encode(self, observations: np.ndarray) -> np.ndarray:
        """The current representation's features of a batch of observations."""
        return self.representation.features(observations)

    def collect(self, env: gym.Env, horizon: int) -> None:
        """Line 1: the exploration images (saved in the run directory)."""
        self.dataset = collect_exploration_images(
            env, self.config.exploration, horizon, self.rng, progress=self.progress
        )
        save_arrays(self.run_dir / DATASET_FILE, self.dataset)
        self.trainer = VAETrainer(self.representation, self.dataset, self.config.vae, self.rng)

    def pretrain(self, save: Callable[[], None], stop_requested: Callable[[], bool]) -> None:
        """Line 2, in pieces, each followed by ``save()``; stops after the piece in which a
        stop was requested."""
        total = self.config.vae.pretrain_steps
        bar = tqdm(
            total=total,
            initial=self.trainer.steps_trained,
            desc="VAE pretraining",
            unit="step",
            disable=not self.progress,
        )
        while self.trainer.steps_trained < total:
            steps = min(PRETRAINING_CHECKPOINT_STEPS, total - self.trainer.steps_trained)
            self.trainer.train(steps, bar=bar, should_stop=stop_requested)
            save()
            if stop_requested():
                break
        bar.close()

    def finetune_due(self, episodes: int, env_steps: int) -> bool:
        """Line 23's schedule: every K episodes (or ``vae.finetune_every_steps`` env steps),
        and, once the buffer is large, only as often as re-encoding all of it stays within
        ``vae.refresh_frames_per_step`` per env step."""
        v = self.config.vae
        if not ((v.finetune_every_episodes or v.finetune_every_steps) and self.learned):
            return False
        last_episodes, last_steps = self.last_finetune
        if v.finetune_every_steps:
            waited = env_steps - last_steps >= v.finetune_every_steps
        else:
            waited = episodes - last_episodes >= v.finetune_every_episodes
        if not waited:
            return False
        budget = v.refresh_frames_per_step
        return not budget or (env_steps - last_steps) * budget >= self.buffer.num_frames

    def finetune(self, episodes: int, env_steps: int) -> None:
        """Line 23: fine-tune on the dataset and replay images, then refresh."""
        self.trainer.train(self.config.vae.finetune_steps, self.buffer.sample_images)
        self.last_finetune = (episodes, env_steps)
        self.refresh(env_steps)

    def refresh(self, env_steps: int) -> None:
        """After the representation changed: re-encode the buffer and the task goals, refit
        the imagined goals and report what the latents carry."""
        if self.task_goals is not None:
            self.task_goals.encode(self.encode)
        if not self.learned:
            return
        self.buffer.refresh_latents(self.encode)
        self.imagined_goals.fit(self.encode(self.dataset), self.buffer.stored_latents())
        self._report(env_steps)

    def _report(self, env_steps: int) -> None:
        """Held-out R^2 of each true-state dimension from the latents of fresh goal states."""
        if self.probe is None:
            has_state = "state_observation" in self.eval_env.observation_space.spaces
            if not (has_state and hasattr(self.eval_env.unwrapped, "sample_goals")):
                return
            c = self.config
            self.probe = probe_data(self.eval_env, c.eval.probe_states, c.eval_seed)
        self.report_rows.append(
            {"env_steps": env_steps, **representation_report(self.encode, self.probe)}
        )

    def take_metrics(self) -> dict[str, float]:
        """The train losses averaged over the steps since the last call, the latest held-out
        losses and the latest representation report (``repr/...``)."""
        losses = self.trainer.take_metrics() if self.trainer else {}
        report = {k: v for k, v in (self.report_rows or [{}])[-1].items() if k != "env_steps"}
        return {**losses, **report}

    def warn_if_objects_missed(self) -> None:
        """Say, before RL starts, which true-state dimensions the latents do not carry and
        which objects' moves their distance does not reward."""
        if not self.report_rows or not self.progress:
            return
        for kind, title, threshold, warning in _WARNINGS:
            values = report_values(self.report_rows[-1], kind)
            if not values:
                continue
            tqdm.write(f"{title}: " + ", ".join(f"{n} {v:.2f}" for n, v in values.items()))
            below = [name for name, value in values.items() if value < threshold]
            if below:
                tqdm.write(warning.format(", ".join(below), threshold))

    def state_dict(self) -> dict:
        """Weights, trainer state, reports and fine-tuning schedule, for checkpoints."""
        return {
            "representation": self.representation.state_dict(),
            "vae_trainer": self.trainer.state_dict() if self.trainer else None,
            "representation_rows": self.report_rows,
            "last_finetune": list(self.last_finetune),
        }

    def load_state_dict(self, state: dict) -> None:
        """The representation's weights; for a learned one, its dataset and trainer too."""
        self.representation.load_state_dict(state["representation"])
        self.representation.eval()
        if self.learned:
            self.dataset = np.load(self.run_dir / DATASET_FILE)
            self.trainer = VAETrainer(self.representation, self.dataset, self.config.vae, self.rng)
            self.trainer.load_state_dict(state["vae_trainer"])
        self.report_rows = list(state.get("representation_rows", []))
        self.last_finetune = tuple(state["last_finetune"])
