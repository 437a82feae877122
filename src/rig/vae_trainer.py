"""Trains the representation (beta-VAE, autoencoder or spatial autoencoder) on the
exploration dataset, later mixed with replay images."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rig.config import RepresentationConfig
from rig.running_means import RunningMeans
from rig.vae import images_to_tensor

ImageSampler = Callable[[int], np.ndarray]
"""Returns ``n`` uint8 images (n, H, W, 3), e.g. from the replay buffer."""


class VAETrainer:
    """Optimises a representation with Adam; keeps a held-out split for the test loss.

    Any module with ``loss(images, beta) -> {"loss": ..., other terms}`` can be trained.
    """

    def __init__(
        self,
        vae: nn.Module,
        dataset: np.ndarray,
        config: RepresentationConfig,
        rng: np.random.Generator,
    ):
        self.vae = vae
        self.config = config
        self.rng = rng
        self.optimizer = torch.optim.Adam(vae.parameters(), lr=config.lr)
        self.dataset = dataset
        n_test = max(1, round(len(dataset) * config.test_fraction))
        self._split(rng.permutation(len(dataset))[:n_test])
        self.device = next(vae.parameters()).device
        self.steps_trained = 0
        """Gradient steps taken so far (pretraining, then fine-tuning)."""
        self.means = RunningMeans()
        """The train losses of every step since they were last taken (:meth:`take_metrics`)."""
        self.last_test: dict[str, float] = {}
        """The held-out losses measured at the end of the latest :meth:`train`."""

    def _split(self, test_indices: np.ndarray) -> None:
        self.test_indices = np.sort(test_indices)
        self.test_images = self.dataset[self.test_indices]
        self.train_images = np.delete(self.dataset, self.test_indices, axis=0)

    def _batch(self, replay: ImageSampler | None) -> torch.Tensor:
        size = self.config.batch_size
        n_replay = int(size * self.config.replay_fraction) if replay is not None else 0
        parts = [self.train_images[self.rng.integers(len(self.train_images), size=size - n_replay)]]
        if n_replay:
            parts.append(replay(n_replay))
        return images_to_tensor(np.concatenate(parts), self.device)

    def train(
        self,
        steps: int,
        replay: ImageSampler | None = None,
        bar: tqdm | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> dict[str, float]:
        """Run ``steps`` gradient steps (fewer if ``should_stop()`` turns true); returns the
        mean train losses of the steps run and the test loss. ``bar`` advances per step."""
        self.vae.train()
        totals: dict[str, float] = {}
        done = 0
        for _ in range(steps):
            if should_stop is not None and should_stop():
                break
            losses = self.vae.loss(self._batch(replay), self.config.beta)
            if not torch.isfinite(losses["loss"]):
                terms = ", ".join(f"{k} {v.item()}" for k, v in losses.items() if k != "loss")
                raise FloatingPointError(f"VAE loss became {losses['loss'].item()} ({terms})")
            self.optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            self.optimizer.step()
            for key, tensor in losses.items():
                value = tensor.item()
                totals[key] = totals.get(key, 0.0) + value
                self.means.add(f"vae/train_{key}", value)
            done += 1
            self.steps_trained += 1
            if bar is not None:
                bar.update(1)
        self.vae.eval()
        self.last_test = self.test_losses()
        result = {f"vae/train_{k}": v / max(done, 1) for k, v in totals.items()}
        result.update(self.last_test)
        return result

    @torch.no_grad()
    def test_losses(self) -> dict[str, float]:
        """Losses on the held-out images (one fixed-seed pass, so values are comparable)."""
        generator_state = torch.get_rng_state()
        torch.manual_seed(0)
        losses = self.vae.loss(images_to_tensor(self.test_images, self.device), self.config.beta)
        torch.set_rng_state(generator_state)
        return {f"vae/test_{k}": v.item() for k, v in losses.items()}

    def take_metrics(self) -> dict[str, float]:
        """The train losses averaged over the steps since the last call (none if no step was
        taken), and the latest held-out losses."""
        return {**self.means.take(), **self.last_test}

    def state_dict(self) -> dict:
        return {
            "optimizer": self.optimizer.state_dict(),
            "test_indices": self.test_indices,
            "steps_trained": self.steps_trained,
            "train_sums": self.means.state_dict(),
            "last_test": self.last_test,
        }

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self._split(np.asarray(state["test_indices"]))
        self.steps_trained = int(state.get("steps_trained", 0))
        self.means.load_state_dict(state.get("train_sums", {}))
        self.last_test = dict(state.get("last_test", {}))
