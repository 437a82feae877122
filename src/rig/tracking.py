"""Experiment tracking with Weights & Biases (``--track``), beside TensorBoard.

A tracked run logs its configuration, every progress row, and at the end its pictures
(``vae.png``, ``learning_curve.png``, ``representation.png``) and eval video
(``rollouts.gif``). The W&B run id is kept in the run folder (``wandb_id.txt``), so a
resumed run continues the same W&B run. ``WANDB_MODE=offline`` logs without a network.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path

from rig.errors import RigError

INSTALL_HINT = 'pip install "rig-rl[track]"'
ID_FILE = "wandb_id.txt"


class TrackingUnavailable(RigError, ModuleNotFoundError):
    """``--track`` was asked for without wandb installed."""


class WandbTracker:
    """One W&B run per rig run folder."""

    def __init__(self, config, run_dir: Path):
        try:
            import wandb
        except ImportError:
            raise TrackingUnavailable(
                f"--track logs to Weights & Biases, which is not installed: {INSTALL_HINT}"
            ) from None
        self._wandb = wandb
        id_file = run_dir / ID_FILE
        run_id = id_file.read_text().strip() if id_file.exists() else uuid.uuid4().hex[:8]
        id_file.write_text(run_id + "\n")
        self.run = wandb.init(
            project=config.track_project,
            name=run_dir.name,
            id=run_id,
            resume="allow",
            dir=str(run_dir),
            config=config.to_dict(),
        )

    def log(self, row: dict[str, float], step: int) -> None:
        self.run.log({k: v for k, v in row.items() if math.isfinite(v)}, step=step)

    def log_media(self, paths: dict[str, Path], step: int) -> None:
        """Images (``.png``) and videos (``.gif``) that exist, under their names."""
        media = {
            name: self._wandb.Video(str(path), format="gif")
            if path.suffix == ".gif"
            else self._wandb.Image(str(path))
            for name, path in paths.items()
            if path.exists()
        }
        if media:
            self.run.log(media, step=step)

    def close(self) -> None:
        self.run.finish()


def open_tracker(config, run_dir: Path) -> WandbTracker | None:
    """A tracker if ``config.track`` is set, else None."""
    return WandbTracker(config, run_dir) if config.track else None
