"""Checkpoints: written atomically (temporary file, then rename), loaded into an Agent."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rig.agent import Agent
from rig.config import Config
from rig.representations import make_networks, make_representation
from rig.vae import FittedPrior

CHECKPOINT_FILE = "checkpoint.pt"


def _atomic_write(path: Path, write) -> Path:
    """Call ``write(file)`` on a temporary file, sync it, then rename it over ``path``."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_checkpoint(run_dir: Path, payload: dict) -> Path:
    """Write ``payload`` to ``run_dir/checkpoint.pt`` so that a crash never leaves it half-written."""
    return _atomic_write(Path(run_dir) / CHECKPOINT_FILE, lambda f: torch.save(payload, f))


def save_arrays(path: Path, arrays: np.ndarray | dict[str, np.ndarray]) -> Path:
    """Atomically write one array (``.npy``) or a dict of arrays (``.npz``, uncompressed)."""
    if isinstance(arrays, dict):
        return _atomic_write(path, lambda f: np.savez(f, **arrays))
    return _atomic_write(path, lambda f: np.save(f, arrays))


@dataclass
class Checkpoint:
    config: Config
    state: dict

    def agent(self, device: str = "cpu") -> Agent:
        """Rebuild the representation, prior and policy saved in the checkpoint."""
        spaces = self.state["spaces"]
        representation = make_representation(self.config, spaces.get("state_dim", 0)).to(device)
        representation.load_state_dict(self.state["representation"])
        representation.eval()
        actor, _ = make_networks(
            self.config, representation, spaces["action_dim"], spaces["action_scale"]
        )
        actor.to(device).load_state_dict(self.state["td3"]["actor"])
        actor.eval()
        return Agent(representation, actor, FittedPrior(**self.state["prior"]))


def load_checkpoint(run_dir: Path, device: str = "cpu") -> Checkpoint:
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint in {run_dir} (expected {path.name})")
    state = torch.load(path, map_location=device, weights_only=False)
    return Checkpoint(Config.from_dict(state["config"]), state)
