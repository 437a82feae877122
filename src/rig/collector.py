"""Lines 5-10 and 16-19 of Algorithm 1: act toward a goal with exploration noise and store
what happens."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rig.agent import Agent
from rig.diagnostics import object_dimensions, state_names
from rig.goals import ImaginedGoals
from rig.noise import ExplorationNoise
from rig.replay import NOTHING, ReplayBuffer
from rig.representations import achieved_apart
from rig.running_means import RunningMeans


class Collector:
    """Runs episodes in ``env`` toward imagined goals (``rollout_goals="prior"``) or the
    task's own goals (``"env"``: its goal images, or goal states for the oracle), one step
    per :meth:`step`, into ``buffer``; it also measures how far each object of the true
    state moves per episode (:meth:`take_metrics`), which tells whether exploration ever
    touches the objects."""

    def __init__(
        self,
        env: gym.Env,
        agent: Agent,
        buffer: ReplayBuffer,
        noise: ExplorationNoise,
        imagined_goals: ImaginedGoals,
        rollout_goals: str,
        rng: np.random.Generator,
    ):
        self.env = env
        self.agent = agent
        self.representation = agent.representation
        self.buffer = buffer
        self.noise = noise
        self.imagined_goals = imagined_goals
        self.rollout_goals = rollout_goals
        self.rng = rng
        self._features: np.ndarray | None = None
        self._goal: np.ndarray | None = None
        self._achieved_apart = achieved_apart(self.representation)
        state_space = env.observation_space.spaces.get("state_observation")
        self._objects = (
            {}  # a camera-only task: nothing to measure
            if state_space is None
            else object_dimensions(state_names(env.unwrapped, state_space.shape[0]))
        )
        self._start_state: np.ndarray | None = None
        self._state: np.ndarray | None = None
        self._moved = RunningMeans()

    def _encode(self, observation: dict, key: str) -> np.ndarray:
        return self.agent.encode_entry(observation, key)

    def _cached(self, features: np.ndarray) -> np.ndarray:
        """What the buffer caches of one observation's features (nothing for images)."""
        return NOTHING if self.representation.reads_images else features[0]

    def _achieved(self, observation: dict) -> np.ndarray:
        if not self._achieved_apart:
            return NOTHING
        return self._encode(observation, self.representation.achieved_key)[0]

    @staticmethod
    def _image(observation: dict, key: str) -> np.ndarray:
        """The camera image under ``key``, or nothing for a task without a camera."""
        return observation.get(key, NOTHING)

    def start_episode(self) -> None:
        """Lines 5-6: a goal and a first observation."""
        if self.rollout_goals == "prior":
            self._goal = self.imagined_goals.sample(1)
            goal_image = self.agent.decode(self._goal)[0]
            obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        else:
            obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
            self._goal = self._encode(obs, self.representation.goal_key)
            goal_image = self._image(obs, "image_desired_goal")
        self.noise.reset()
        self._start_state = self._state = obs.get("state_observation")
        self._features = self._encode(obs, self.representation.observation_key)
        self.buffer.start_episode(
            self._image(obs, "image_observation"),
            self._cached(self._features),
            self._cached(self._goal),
            goal_image,
            self._achieved(obs),
        )

    def step(self) -> bool:
        """Lines 7-10: one noisy action, stored; returns whether the episode has ended."""
        action = self.noise(self.agent.act_latent(self._features, self._goal)[0])
        obs, _, terminated, truncated, _ = self.env.step(action)
        self._state = obs.get("state_observation")
        self._features = self._encode(obs, self.representation.observation_key)
        self.buffer.add_step(
            action,
            self._image(obs, "image_observation"),
            self._cached(self._features),
            terminated,
            self._achieved(obs),
        )
        return terminated or truncated

    def end_episode(self) -> None:
        """Add how far each object moved, from the episode's start to its end, to the totals."""
        for name, dims in self._objects.items():
            moved = float(np.linalg.norm(self._state[dims] - self._start_state[dims]))
            self._moved.add(name, moved)

    def take_metrics(self) -> dict[str, float]:
        """``train/moved_<object>``: how far it moved per episode (in the state's units, e.g.
        metres or radians), averaged over the episodes ended since the last call."""
        return {f"train/moved_{name}": mean for name, mean in self._moved.take().items()}

    def state_dict(self) -> dict:
        """The movement totals not yet taken."""
        return {"collector_moved": self._moved.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (absent from checkpoints of older runs)."""
        self._moved.load_state_dict(state.get("collector_moved", {}))
