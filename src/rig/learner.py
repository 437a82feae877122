"""Lines 11-15 of Algorithm 1: sample transitions, relabel their goals, recompute their
rewards, and update TD3."""

from __future__ import annotations

import time

import numpy as np
import torch

from rig.config import TD3Config
from rig.relabel import GoalRelabeler
from rig.replay import ReplayBuffer, TransitionBatch
from rig.reward import RewardFn
from rig.running_means import RunningMeans
from rig.td3 import TD3


class Learner:
    """Updates TD3 from the replay buffer; its metrics are averaged over the updates since
    they were last taken (:meth:`take_metrics`).

    Args:
        td3: the agent's actor and critics, with their optimizers.
        buffer: read for batches and "future" goals.
        relabeler: the goal of each transition.
        reward: ``(batch, goals) -> rewards`` in the representation's feature space.
        reads_images: batches and goals are frames (the representation reads images).
    """

    def __init__(
        self,
        td3: TD3,
        buffer: ReplayBuffer,
        relabeler: GoalRelabeler,
        reward: RewardFn,
        config: TD3Config,
        reads_images: bool,
        device: torch.device,
    ):
        self.td3 = td3
        self.buffer = buffer
        self.relabeler = relabeler
        self.reward = reward
        self.config = config
        self.reads_images = reads_images
        self.device = device
        self.means = RunningMeans()
        """TD3's metrics (summed on the device) since they were last taken."""
        self.seconds = 0.0
        """Time spent in :meth:`train`."""

    def train(self, updates: int) -> None:
        """``updates`` TD3 updates on fresh batches; raises ``FloatingPointError`` if a loss
        is no longer finite."""
        if updates <= 0:
            return
        tick = time.perf_counter()
        for _ in range(updates):
            metrics = self.update(self.buffer.sample(self.config.batch_size, self.reads_images))
        self.seconds += time.perf_counter() - tick
        for key, value in metrics.items():
            value = float(value)
            if not np.isfinite(value):
                raise FloatingPointError(f"{key.removeprefix('td3/')} became {value}")

    def update(self, batch: TransitionBatch) -> dict[str, torch.Tensor]:
        """One TD3 update on ``batch`` with relabeled goals; returns TD3's metrics."""
        goals = self.relabeler.goals(
            batch, lambda e, t: self.buffer.future_goals(e, t, self.reads_images)
        )
        reward = self.reward(batch, goals) * self.config.reward_scale
        tensors = [
            torch.as_tensor(x, device=self.device)
            for x in (
                np.concatenate([batch.features, goals], axis=-1),
                batch.action,
                reward,
                np.concatenate([batch.next_features, goals], axis=-1),
                batch.terminal.astype(np.float32),
            )
        ]
        metrics = self.td3.update(*tensors)
        for key, value in metrics.items():
            self.means.add(key, value)
        return metrics

    def take_metrics(self) -> dict[str, float]:
        """TD3's metrics averaged over the updates since the last call."""
        return self.means.take()

    def state_dict(self) -> dict:
        """TD3's networks and optimizers, the metric sums since the last log, and the time."""
        return {
            "td3": self.td3.state_dict(),
            "td3_totals": self.means.state_dict(),
            "update_seconds": self.seconds,
        }

    def load_state_dict(self, state: dict) -> None:
        self.td3.load_state_dict(state["td3"])
        self.means.load_state_dict(state.get("td3_totals", {}))
        self.seconds = state["update_seconds"]
