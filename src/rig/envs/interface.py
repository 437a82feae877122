"""The interface a task (simulated or a real robot) implements to be trained with rig.

Required: a Gymnasium env with a ``Dict`` observation space holding

* ``image_observation``: the camera image, uint8 (S, S, 3) with S = 48 or 84;
* ``image_desired_goal``: at every reset, an image of the goal for that episode
  (used only by evaluation: training goals are imagined by the VAE);

a ``Box`` action space, and an episode length (a Gymnasium time limit or ``--horizon``).

Optional, never shown to the learner:

* ``state_*`` keys and numeric ``info`` entries (``distance``, ``success``, ...): reported by
  evaluation as true-state metrics;
* ``sample_goals(n)`` and ``set_to_goal(goal)``: let the exploration data jump to goal
  states and enable the ``relabel.env`` strategy.

A task for state-based methods only (representation ``state``, e.g. a Gymnasium-Robotics
Fetch task through :class:`~rig.envs.goal_env.StateGoalTask`) needs no images, but
``state_observation``, ``state_achieved_goal`` and ``state_desired_goal``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

REQUIRED_IMAGE_KEYS = ("image_observation", "image_desired_goal")
REQUIRED_STATE_KEYS = ("state_observation", "state_achieved_goal", "state_desired_goal")


def task_name(env: gym.Env) -> str:
    """The task's Gymnasium id, or its class name where it was not made by id."""
    return env.spec.id if env.spec else type(env.unwrapped).__name__


def check_task(env: gym.Env, image_size: int, reads_states: bool = False) -> None:
    """Raise ``ValueError`` naming the first way ``env`` misses the interface above
    (``reads_states``: for a state-based method, which needs the states and no images)."""
    name = task_name(env)
    space = env.observation_space
    if not isinstance(space, spaces.Dict):
        raise ValueError(f"task {name}: observation space must be a gymnasium Dict, got {space}")
    if reads_states:
        missing = [key for key in REQUIRED_STATE_KEYS if key not in space.spaces]
        if missing:
            raise ValueError(
                f"task {name}: a state-based method needs observations holding "
                f"{', '.join(missing)} (has {sorted(space.spaces)})"
            )
    elif "image_observation" not in space.spaces and "state_observation" in space.spaces:
        raise ValueError(
            f"task {name} has no camera images: only state-based methods (representation "
            "'state', e.g. --method oracle) train on it"
        )
    else:
        _check_images(name, space, image_size)
    if not isinstance(env.action_space, spaces.Box):
        raise ValueError(f"task {name}: the action space must be a Box, got {env.action_space}")


def _check_images(name: str, space: spaces.Dict, image_size: int) -> None:
    for key in REQUIRED_IMAGE_KEYS:
        if key not in space.spaces:
            raise ValueError(
                f"task {name}: observations must hold {key!r} (has {sorted(space.spaces)})"
            )
        sub = space.spaces[key]
        if sub.dtype != np.uint8 or sub.shape != (image_size, image_size, 3):
            raise ValueError(
                f"task {name}: {key} must be uint8 {(image_size, image_size, 3)}, "
                f"got {sub.dtype} {sub.shape} (set the task's image size or --image-size)"
            )


def check_eval_task(env: gym.Env, eval_env: gym.Env) -> None:
    """Raise ``ValueError`` unless ``eval_env`` can stand in for ``env`` at evaluation: the
    same observation and action spaces and the same goal layout (true-state names)."""

    def layout(e: gym.Env):
        return getattr(e.unwrapped, "state_names", None)

    differs = [
        what
        for what, ours, theirs in (
            ("observation spaces", env.observation_space, eval_env.observation_space),
            ("action spaces", env.action_space, eval_env.action_space),
            ("goal layouts", layout(env), layout(eval_env)),
        )
        if ours != theirs
    ]
    if differs:
        raise ValueError(
            f"eval task {task_name(eval_env)} cannot evaluate a policy trained on "
            f"{task_name(env)}: their {' and '.join(differs)} differ (use a variant of the "
            "training task, e.g. --env multi-pusher --eval-env multi-pusher-variable)"
        )


def goal_reward(achieved_goal, desired_goal, goal_keys: str) -> np.ndarray:
    """Our tasks' vectorized ``compute_reward`` for (batches of) goals under the standard keys:
    minus the Euclidean distance for ``goal_keys="state"``, minus the mean squared pixel
    difference (pixels scaled to [0, 1]) for ``"image"``."""
    achieved = np.asarray(achieved_goal, dtype=np.float64)
    desired = np.asarray(desired_goal, dtype=np.float64)
    if goal_keys == "state":
        return -np.linalg.norm(achieved - desired, axis=-1)
    return -np.mean(((achieved - desired) / 255.0) ** 2, axis=(-3, -2, -1))


def goal_observation_space(
    image_space: spaces.Box, state_space: spaces.Box, goal_keys: str
) -> spaces.Dict:
    """The observation space of the contract: ``image_*`` and ``state_*`` entries, and the
    standard goal-env keys holding the images or the states (``goal_keys``)."""
    standard = image_space if goal_keys == "image" else state_space
    return spaces.Dict(
        {
            **dict.fromkeys(("observation", "achieved_goal", "desired_goal"), standard),
            **dict.fromkeys(
                ("image_observation", "image_achieved_goal", "image_desired_goal"), image_space
            ),
            **dict.fromkeys(
                ("state_observation", "state_achieved_goal", "state_desired_goal"), state_space
            ),
        }
    )


def goal_observation(image, goal_image, state, goal_state, goal_keys: str) -> dict:
    """An observation of the contract (single or batched arrays); states as float32."""
    state, goal_state = np.asarray(state, np.float32), np.asarray(goal_state, np.float32)
    obs = {
        "image_observation": image,
        "image_achieved_goal": image,
        "image_desired_goal": goal_image,
        "state_observation": state,
        "state_achieved_goal": state,
        "state_desired_goal": goal_state,
    }
    for key in ("observation", "achieved_goal", "desired_goal"):
        obs[key] = obs[f"{goal_keys}_{key}"]
    return obs


def check_task_arguments(image_size: int, goal_keys: str, render_mode: str | None) -> None:
    """Raise ``ValueError`` for constructor arguments our tasks do not support."""
    if image_size < 16:
        raise ValueError(f"image_size must be at least 16 pixels, got {image_size}")
    if goal_keys not in ("image", "state"):
        raise ValueError(f"goal_keys must be 'image' or 'state', got {goal_keys!r}")
    if render_mode not in (None, "rgb_array"):
        raise ValueError(f"unsupported render_mode {render_mode!r}; use 'rgb_array'")
