"""A trained agent: representation, fitted prior and goal-conditioned policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rig.checkpoint import Checkpoint, load_checkpoint
from rig.config import Config
from rig.goals import ImaginedGoals
from rig.images import check_image
from rig.representations import make_networks, make_representation
from rig.vae import FittedPrior


@dataclass(frozen=True)
class TaskSpaces:
    """What an agent's networks need to know of its task (saved in each checkpoint)."""

    action_dim: int
    action_scale: list[float]
    state_dim: int = 0
    goal_dim: int = 0
    """Width of the task's goal states (``state_dim`` in our tasks; less in a goal
    environment whose goals are a part of its state)."""

    @classmethod
    def from_dict(cls, data: dict) -> TaskSpaces:
        state_dim = data.get("state_dim", 0)
        return cls(
            int(data["action_dim"]),
            list(data["action_scale"]),
            state_dim,
            data.get("goal_dim", state_dim),
        )


def build_agent(
    config: Config,
    spaces: TaskSpaces,
    device: str | torch.device = "cpu",
    rng: np.random.Generator | None = None,
) -> tuple[Agent, nn.Module]:
    """The method's untrained agent (representation, actor, imagined goals from a standard
    prior, drawn with ``rng``) and its critic: what training starts from and what a
    checkpoint is loaded into."""
    representation = make_representation(config, spaces.state_dim, spaces.goal_dim).to(device)
    actor, critic = make_networks(config, representation, spaces.action_dim, spaces.action_scale)
    goals = ImaginedGoals(
        config.imagined_goals,
        representation.latent_dim,
        rng if rng is not None else np.random.default_rng(config.seed),
    )
    return Agent(representation, actor.to(device), goals), critic.to(device)


class Agent:
    """Acts from observations (camera images, or states for the oracle) toward a goal,
    through the method's representation."""

    def __init__(self, representation: nn.Module, actor: nn.Module, imagined_goals: ImaginedGoals):
        self.representation = representation
        self.actor = actor
        self.imagined_goals = imagined_goals
        """Where the agent's goals are imagined; in a run, the same object the run refits."""
        self.device = next(actor.parameters()).device

    @property
    def prior(self) -> FittedPrior:
        """The fitted prior over latents that imagined goals are drawn from."""
        return self.imagined_goals.prior

    @property
    def observation_key(self) -> str:
        """The observation entry the agent reads: ``image_observation`` or ``state_observation``."""
        return self.representation.observation_key

    @property
    def goal_key(self) -> str:
        return self.representation.goal_key

    def encode(self, observations: np.ndarray) -> np.ndarray:
        """Features of a batch of observations (encoder means for images)."""
        return self.representation.features(observations)

    def encode_entry(self, observation: dict, key: str, batched: bool = False) -> np.ndarray:
        """Features of one observation's entry ``key`` (``batched``: of a vector env's batch)."""
        values = np.asarray(observation[key])
        return self.encode(values if batched else values[None])

    def decode(self, latents: np.ndarray) -> np.ndarray | None:
        """Images of latents, for representations with a decoder (else None)."""
        decode = getattr(self.representation, "decode_to_images", None)
        return decode(latents) if decode is not None else None

    @torch.no_grad()
    def act_latent(self, latent: np.ndarray, goal_latent: np.ndarray) -> np.ndarray:
        """Deterministic actions for batches of (z, z_g)."""
        obs = torch.as_tensor(np.concatenate([latent, goal_latent], axis=-1), device=self.device)
        return self.actor(obs).cpu().numpy()

    def act(self, observation: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Action for one observation and goal: uint8 HxWx3 images (states for the oracle)."""
        observation, goal = self._check(observation, "image"), self._check(goal, "goal image")
        return self.act_latent(self.encode(observation[None]), self.encode(goal[None]))[0]

    def _check(self, x: np.ndarray, name: str) -> np.ndarray:
        if self.observation_key == "image_observation":
            return check_image(x, self.representation.image_size, name)
        x = np.asarray(x, dtype=np.float32)
        rep = self.representation
        width = rep.goal_dim if name.startswith("goal") else rep.latent_dim
        if x.shape != (width,):
            raise ValueError(f"{name.split()[0]} state must have shape ({width},), got {x.shape}")
        return x

    def goal_policy(self) -> GoalPolicy:
        return GoalPolicy(self)

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "cpu") -> Agent:
        """Load the agent from a run directory's latest checkpoint."""
        return cls.from_checkpoint(load_checkpoint(Path(run_dir), device), device)

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, device: str = "cpu") -> Agent:
        """Rebuild the representation, prior and policy saved in ``checkpoint``."""
        state, parts = checkpoint.state, checkpoint.state["parts"]
        agent, _ = build_agent(checkpoint.config, TaskSpaces.from_dict(state["spaces"]), device)
        agent.representation.load_state_dict(parts["representation_training"]["representation"])
        agent.representation.eval()
        agent.actor.load_state_dict(parts["learner"]["td3"]["actor"])
        agent.actor.eval()
        agent.imagined_goals.load_state_dict(parts["imagined_goals"])
        return agent


class GoalPolicy:
    """Encodes each episode's goal once, then acts on each observation (dicts from the task).

    Works on one task's observations or on a batch from a vector env (a leading axis).
    """

    def __init__(self, agent: Agent):
        self.agent = agent
        self.goal_latent = None
        self.goal_reconstruction = None
        self._batched = False

    def _encode(self, observation: dict, key: str) -> np.ndarray:
        return self.agent.encode_entry(observation, key, self._batched)

    def set_goal(self, observation: dict, batched: bool = False) -> None:
        """Read the goals of an episode's first observation (``batched``: from a vector env)."""
        self._batched = batched
        self.goal_latent = self._encode(observation, self.agent.goal_key)
        reconstruction = self.agent.decode(self.goal_latent)
        if reconstruction is None:
            self.goal_reconstruction = None
        else:
            self.goal_reconstruction = reconstruction if batched else reconstruction[0]

    def __call__(self, observation: dict) -> np.ndarray:
        latent = self._encode(observation, self.agent.observation_key)
        actions = self.agent.act_latent(latent, self.goal_latent)
        return actions if self._batched else actions[0]

    def final_metrics(self, observation: dict) -> dict[str, float | np.ndarray]:
        """Distance between the final observation's and the goal's features (no true state)."""
        representation = self.agent.representation
        if representation.reads_images:
            return {}
        achieved = self._encode(observation, representation.achieved_key)
        distance = np.linalg.norm(achieved - self.goal_latent, axis=-1)
        return {"latent_distance": distance if self._batched else float(distance[0])}
