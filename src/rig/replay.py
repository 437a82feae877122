"""Episode-structured replay buffer: each image stored once, as uint8, with cached latents.

Episode ``e`` occupies one slot: frames ``0..T`` (``T`` = its length so far),
actions ``0..T-1``. Transition ``(e, t)`` is ``frame t -> action t -> frame t+1``,
so no image is ever stored twice. Latents of every frame are cached and
refreshed after each VAE update. Each episode also keeps the image of the goal it
pursued (for imagined goals: the decoded latent), so its goal latent can be
refreshed the same way.
Slots are reused oldest first once the buffer is full.

For a task whose goals are a part of its state (a goal environment), each step also
caches the features of what it achieved (``achieved_dim`` > 0): "future" goals and rewards
read those. A task without camera images stores empty frames (``image_shape=(0,)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

NOTHING = np.zeros(0, np.float32)
"""What is stored for an entry a buffer does not cache (empty frames, no achieved goals)."""


@dataclass
class TransitionBatch:
    """Indices and arrays of a sampled batch: features are the cached latents, or the
    frames themselves for a representation that reads images (``images=True``)."""

    episode: np.ndarray
    t: np.ndarray
    features: np.ndarray
    next_features: np.ndarray
    next_achieved: np.ndarray
    """What the next observation achieved, compared with goals (``next_features`` unless
    the buffer caches achieved goals apart)."""
    action: np.ndarray
    terminal: np.ndarray
    rollout_goal: np.ndarray


class ReplayBuffer:
    """Stores episodes of at most ``horizon`` steps; capacity is in transitions. Goals are
    ``goal_dim`` wide (default ``latent_dim``); ``achieved_dim`` > 0 caches achieved goals
    apart from the latents."""

    def __init__(
        self,
        capacity: int,
        horizon: int,
        image_shape: tuple[int, ...],
        action_dim: int,
        latent_dim: int,
        rng: np.random.Generator,
        goal_dim: int | None = None,
        achieved_dim: int = 0,
    ):
        if capacity < horizon:
            raise ValueError(f"capacity ({capacity}) must hold at least one episode ({horizon})")
        self.horizon = horizon
        self.max_episodes = capacity // horizon
        self.rng = rng
        n, h = self.max_episodes, horizon
        self._frames = np.zeros((n, h + 1, *image_shape), dtype=np.uint8)
        self._latents = np.zeros((n, h + 1, latent_dim), dtype=np.float32)
        self._achieved = np.zeros((n, h + 1, achieved_dim), dtype=np.float32)
        self._actions = np.zeros((n, h, action_dim), dtype=np.float32)
        self._terminals = np.zeros((n, h), dtype=bool)
        goal_dim = latent_dim if goal_dim is None else goal_dim
        self._rollout_goals = np.zeros((n, goal_dim), dtype=np.float32)
        self._rollout_goal_images = np.zeros((n, *image_shape), dtype=np.uint8)
        self._lengths = np.zeros(n, dtype=np.int64)
        self._slot = -1
        self.episodes_started = 0

    # ----- writing ----------------------------------------------------------
    def start_episode(
        self, frame, latent, rollout_goal, rollout_goal_image, achieved=NOTHING
    ) -> None:
        """Open a new episode with its first frame and the goal it will pursue."""
        self._slot = self.episodes_started % self.max_episodes
        self.episodes_started += 1
        self._lengths[self._slot] = 0
        self._frames[self._slot, 0] = frame
        self._latents[self._slot, 0] = latent
        self._achieved[self._slot, 0] = achieved
        self._rollout_goals[self._slot] = rollout_goal
        self._rollout_goal_images[self._slot] = rollout_goal_image

    def add_step(
        self, action, next_frame, next_latent, terminal: bool, next_achieved=NOTHING
    ) -> None:
        """Append one transition to the open episode."""
        if self._slot < 0:
            raise RuntimeError("call start_episode before add_step")
        e, t = self._slot, int(self._lengths[self._slot])
        if t >= self.horizon:
            raise RuntimeError(f"episode is longer than the buffer's horizon {self.horizon}")
        self._actions[e, t] = action
        self._terminals[e, t] = terminal
        self._frames[e, t + 1] = next_frame
        self._latents[e, t + 1] = next_latent
        self._achieved[e, t + 1] = next_achieved
        self._lengths[e] = t + 1

    # ----- reading ----------------------------------------------------------
    @property
    def num_transitions(self) -> int:
        """Transitions stored (over every episode, the open one included)."""
        return int(self._lengths.sum())

    @property
    def num_frames(self) -> int:
        """Frames stored: each episode's transitions plus its first frame."""
        return int((self._lengths + (self._lengths > 0)).sum())

    def _sample_transitions(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        total = self.num_transitions
        if total == 0:
            raise RuntimeError("the replay buffer holds no transitions yet")
        ends = np.cumsum(self._lengths)
        flat = self.rng.integers(total, size=n)
        episode = np.searchsorted(ends, flat, side="right")
        t = flat - (ends[episode] - self._lengths[episode])
        return episode, t

    def sample(self, n: int, images: bool = False) -> TransitionBatch:
        """``n`` transitions uniformly over all stored transitions, as cached latents or,
        with ``images``, as frames (the rollout goal as its image)."""
        e, t = self._sample_transitions(n)
        views, goals = (
            (self._frames, self._rollout_goal_images)
            if images
            else (
                self._latents,
                self._rollout_goals,
            )
        )
        next_features = views[e, t + 1]
        return TransitionBatch(
            episode=e,
            t=t,
            features=views[e, t],
            next_features=next_features,
            next_achieved=self._achieved[e, t + 1] if self._caches_achieved else next_features,
            action=self._actions[e, t],
            terminal=self._terminals[e, t],
            rollout_goal=goals[e],
        )

    def future_goals(self, episode: np.ndarray, t: np.ndarray, images: bool = False) -> np.ndarray:
        """A frame drawn uniformly from ``t+1 .. length`` of the same episode (HER's
        "future"), as what it achieved: its cached latent (or achieved goal) or, with
        ``images``, the frame itself."""
        future = self.rng.integers(t + 1, self._lengths[episode] + 1)
        if images:
            return self._frames[episode, future]
        return (self._achieved if self._caches_achieved else self._latents)[episode, future]

    @property
    def _caches_achieved(self) -> bool:
        return self._achieved.shape[-1] > 0

    def next_images(self, batch: TransitionBatch) -> np.ndarray:
        """The frames after the transitions of ``batch`` (for rewards computed on images)."""
        return self._frames[batch.episode, batch.t + 1]

    @property
    def stores_images(self) -> bool:
        """Whether the task has a camera (else its frames are empty)."""
        return self._frames.shape[2:] != (0,)

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffer's arrays."""
        return sum(getattr(self, "_" + name).nbytes for name in self._ARRAYS)

    def sample_images(self, n: int) -> np.ndarray:
        """``n`` stored frames, uniformly (used to fine-tune the VAE)."""
        e, t = self._sample_transitions(n)
        return self._frames[e, t + 1]

    @property
    def _slots_in_use(self) -> int:
        """Slots ``0..n-1`` hold episodes (slots are filled in order, then reused)."""
        return min(self.episodes_started, self.max_episodes)

    def refresh_latents(
        self, encode: Callable[[np.ndarray], np.ndarray], chunk_episodes: int = 64
    ) -> None:
        """Re-encode every stored frame and rollout goal image (after the VAE has changed).

        Works through the slots in chunks of ``chunk_episodes``, reading the frames in
        place (views, no copy of the buffer), so extra memory stays one chunk's latents.
        """
        n = self._slots_in_use
        for start in range(0, n, chunk_episodes):
            stop = min(start + chunk_episodes, n)
            frames = self._frames[start:stop].reshape(-1, *self._frames.shape[2:])
            self._latents[start:stop] = encode(frames).reshape(stop - start, self.horizon + 1, -1)
            self._rollout_goals[start:stop] = encode(self._rollout_goal_images[start:stop])

    def stored_latents(self) -> np.ndarray:
        """Cached latents of every stored frame, ``(num_frames, latent_dim)``."""
        n = self._slots_in_use
        stored = np.arange(self.horizon + 1)[None, :] <= self._lengths[:n, None]
        return self._latents[:n][stored]

    # ----- persistence --------------------------------------------------------
    _ARRAYS = (
        "frames",
        "latents",
        "achieved",
        "actions",
        "terminals",
        "rollout_goals",
        "rollout_goal_images",
        "lengths",
    )

    def state_dict(self) -> dict[str, np.ndarray]:
        """The stored episodes (only the slots in use) and the write position."""
        used = self._slots_in_use
        state = {name: getattr(self, "_" + name)[:used] for name in self._ARRAYS}
        state["counters"] = np.array([self._slot, self.episodes_started])
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore episodes saved by :meth:`state_dict` (into a buffer at least as large)."""
        used = len(state["lengths"])
        if used > self.max_episodes:
            raise ValueError(
                f"saved buffer holds {used} episodes; this one holds {self.max_episodes}"
            )
        for name in self._ARRAYS:
            if name in state:  # buffers saved before "achieved" existed cache none
                getattr(self, "_" + name)[:used] = state[name]
        self._slot, self.episodes_started = (int(v) for v in state["counters"])
