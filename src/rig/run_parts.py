"""Every part of a training run, built from its configuration: the task, the agent and
its TD3 networks, the replay buffer, the goal sources, and the three workers of
Algorithm 1 (:class:`~rig.collector.Collector`, :class:`~rig.learner.Learner`,
:class:`~rig.representation_training.RepresentationTraining`)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from rig.agent import TaskSpaces, build_agent
from rig.collector import Collector
from rig.config import Config
from rig.envs import check_eval_task, check_task, make
from rig.goals import ImaginedGoals, TaskGoals
from rig.learner import Learner
from rig.noise import ExplorationNoise
from rig.relabel import GoalRelabeler
from rig.replay import ReplayBuffer
from rig.representation_training import RepresentationTraining
from rig.representations import achieved_apart
from rig.reward import make_reward
from rig.td3 import TD3


class RunParts:
    """The parts of one run, wired together; :class:`~rig.workspace.Workspace` schedules them."""

    def __init__(self, config: Config, run_dir: Path, progress: bool = True):
        c = self.config = config.validate()
        self.run_dir, self.progress = Path(run_dir), progress
        self.rng = np.random.default_rng(c.seed)
        torch.manual_seed(c.seed)
        if c.threads:
            torch.set_num_threads(c.threads)
        self.device = torch.device(c.device)
        self.env = make(c.env, image_size=c.image_size)
        self.eval_env = make(c.eval_env or c.env, image_size=c.image_size)
        self.eval_envs: gym.vector.VectorEnv | None = None
        """``eval.episodes`` copies of the evaluation task, stepped together (made on first use)."""
        check_task(self.env, c.image_size, reads_states=c.representation == "state")
        if c.eval_env:
            check_eval_task(self.env, self.eval_env)
        self.horizon = c.horizon or (self.env.spec.max_episode_steps if self.env.spec else 0)
        if not self.horizon:
            raise ValueError(f"task {c.env} has no time limit; set --horizon")
        obs_space, action_space = self.env.observation_space, self.env.action_space
        if c.reward == "task" and not _goals_are_states(obs_space):
            raise ValueError(
                f"reward 'task' needs a goal environment whose achieved_goal is its state "
                f"(e.g. FetchReach-v4); {c.env} rewards its images"
            )
        state, goal = (obs_space.spaces.get(f"state_{k}") for k in ("observation", "desired_goal"))
        self.spaces = TaskSpaces(
            action_space.shape[0],
            action_space.high.tolist(),
            state.shape[0] if state else 0,
            goal.shape[0] if goal else 0,
        )
        self.agent, critic = build_agent(c, self.spaces, self.device)
        representation = self.agent.representation
        td3 = TD3(
            0,
            self.spaces.action_dim,
            action_space.high,
            c.td3,
            self.device,
            networks=(self.agent.actor, critic),
        )
        camera = obs_space.spaces.get("image_observation")
        self.buffer = ReplayBuffer(
            c.buffer_size,
            self.horizon,
            camera.shape if camera else (0,),
            self.spaces.action_dim,
            representation.latent_dim,
            self.rng,
            goal_dim=representation.goal_dim,
            achieved_dim=representation.goal_dim if achieved_apart(representation) else 0,
        )
        self.imagined_goals = ImaginedGoals(c.imagined_goals, representation.latent_dim, self.rng)
        self.task_goals: TaskGoals | None = None
        if c.relabel.env > 0:
            if task_method(self.env, "sample_goals") is None:
                raise ValueError(
                    f"relabel.env > 0 needs a task with sample_goals; {c.env} has none"
                )
            self.task_goals = TaskGoals(self.rng)
        relabeler = GoalRelabeler(
            c.relabel,
            self.imagined_goals.sample,
            self.task_goals.sample if self.task_goals else None,
        )
        reward = make_reward(
            c.reward,
            representation,
            self.agent.decode,
            self.buffer.next_images,
            task_method(self.env, "compute_reward"),
        )
        self.learner = Learner(
            td3, self.buffer, relabeler, reward, c.td3, representation.reads_images, self.device
        )
        noise = ExplorationNoise(c.noise, action_space.low, action_space.high, self.rng)
        self.collector = Collector(
            self.env, self.agent, self.buffer, noise, self.imagined_goals, c.rollout_goals, self.rng
        )
        self.representation_training = RepresentationTraining(
            c,
            representation,
            self.buffer,
            self.imagined_goals,
            self.task_goals,
            self.eval_env,
            self.run_dir,
            self.rng,
            progress,
        )

    def draw_task_goals(self) -> None:
        """The pool of the task's own goals (``relabel.env``), if the run uses one and has
        not drawn it yet (a resumed run restores its pool)."""
        if self.task_goals is not None and self.task_goals.raw is None:
            goals = task_method(self.env, "sample_goals")(self.config.relabel.env_goal_pool)
            self.task_goals.raw = goals[self.agent.goal_key]

    def prepare_untrained(self, episodes: int) -> None:
        """Ready for TD3 updates with nothing trained (benchmarks and tests): exploration
        data, the task's goal pool, imagined goals fitted to the untrained features, and
        ``episodes`` episodes of the collector in the buffer."""
        training = self.representation_training
        if training.learned:
            training.collect(self.env, self.horizon)
        self.draw_task_goals()
        training.refresh(0)
        for _ in range(episodes):
            self.collector.start_episode()
            while not self.collector.step():
                pass
            self.collector.end_episode()


def task_method(env: gym.Env, name: str):
    """The task's method ``name`` (on the task or on one of its wrappers), or None."""
    try:
        return env.get_wrapper_attr(name)
    except AttributeError:
        return None


def _goals_are_states(space: gym.spaces.Dict) -> bool:
    """Whether the task's own goal entries (and so its ``compute_reward``) are its states."""
    achieved, state = space.get("achieved_goal"), space.get("state_achieved_goal")
    if achieved is None or state is None:
        return False
    return achieved.shape == state.shape and achieved.dtype != np.uint8
