"""A training run as a value: :class:`Run` holds every part of one run (the tasks, the agent,
the buffer, the goal sources, the three workers of Algorithm 1 and the run's counters), and
:func:`build_run` makes them from a configuration, one small function per part.

Nothing here schedules: :class:`~rig.workspace.Workspace` runs Algorithm 1 over a ``Run``,
and :class:`~rig.checkpointer.Checkpointer` saves each part under its own name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from rig.agent import Agent, TaskSpaces, build_agent
from rig.collector import Collector
from rig.config import Config
from rig.envs import check_eval_task, check_task, episode_horizon, make
from rig.goals import ImaginedGoals, TaskGoals
from rig.learner import Learner
from rig.logger import Logger
from rig.noise import make_noise
from rig.relabel import GoalRelabeler
from rig.replay import ReplayBuffer
from rig.representation_training import RepresentationTraining
from rig.representations import achieved_apart
from rig.reward import RewardInputs, make_reward
from rig.td3 import TD3


@dataclass
class Randomness:
    """The run's NumPy generator (shared by every part that draws) and torch's global state."""

    rng: np.random.Generator

    def state_dict(self) -> dict:
        return {"numpy": self.rng.bit_generator.state, "torch": torch.get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["numpy"]
        torch.set_rng_state(state["torch"])


@dataclass
class RunCounters:
    """What a run has done so far: steps, episodes, RL time, the latest evaluation and its log."""

    run_dir: Path
    env_steps: int = 0
    episodes: int = 0
    rl_seconds: float = 0.0
    eval_metrics: dict[str, float] = field(default_factory=dict)
    logger: Logger | None = None
    """``progress.csv`` and TensorBoard; opened when the run starts or resumes."""
    last_checkpoint_steps: int | None = None
    """Env steps at the last checkpoint written or loaded (None before the first)."""

    def start_log(self, rows: list[dict[str, float]] | None = None, tracker=None) -> None:
        self.logger = Logger(self.run_dir, rows, tracker)

    def state_dict(self) -> dict:
        return {
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "rl_seconds": self.rl_seconds,
            "progress_rows": self.logger.rows if self.logger else [],
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore the counters (the log is reopened by the checkpointer)."""
        self.env_steps, self.episodes = state.get("env_steps", 0), state.get("episodes", 0)
        self.rl_seconds = state.get("rl_seconds", 0.0)


@dataclass
class Run:
    """Every part of one training run; see :func:`build_run`."""

    config: Config
    run_dir: Path
    show_progress: bool
    """Whether long work shows progress bars."""
    randomness: Randomness
    counters: RunCounters
    env: gym.Env
    eval_env: gym.Env
    """One copy of the evaluation task (videos and the representation report)."""
    horizon: int
    spaces: TaskSpaces
    imagined_goals: ImaginedGoals
    """The fitted prior's one owner (the agent's own): the relabeler and the collector read
    it from here."""
    task_goals: TaskGoals | None
    agent: Agent
    buffer: ReplayBuffer
    learner: Learner
    collector: Collector
    representation_training: RepresentationTraining

    @property
    def rng(self) -> np.random.Generator:
        return self.randomness.rng

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


def build_run(config: Config, run_dir: Path, progress: bool = True) -> Run:
    """Every part of a run of ``config`` in ``run_dir``, untrained; ``progress`` shows bars."""
    c = config.validate()
    run_dir = Path(run_dir)
    randomness = _seed(c)
    env, eval_env = _make_tasks(c)
    horizon = episode_horizon(env, c.horizon, c.env)
    spaces = _task_spaces(env)
    agent, critic = build_agent(c, spaces, torch.device(c.device), randomness.rng)
    imagined_goals = agent.imagined_goals
    buffer = _make_buffer(c, env, horizon, spaces, agent, randomness.rng)
    task_goals = _make_task_goals(c, env, randomness.rng)
    learner = _make_learner(c, env, spaces, (agent, critic), buffer, imagined_goals, task_goals)
    noise = make_noise(c.noise, env.action_space.low, env.action_space.high, randomness.rng)
    collector = Collector(
        env, agent, buffer, noise, imagined_goals, c.rollout_goals, randomness.rng
    )
    representation_training = RepresentationTraining(
        c, agent.representation, buffer, imagined_goals, task_goals, eval_env, run_dir,
        randomness.rng, progress,
    )  # fmt: skip
    return Run(
        config=c,
        run_dir=run_dir,
        show_progress=progress,
        randomness=randomness,
        counters=RunCounters(run_dir),
        env=env,
        eval_env=eval_env,
        horizon=horizon,
        spaces=spaces,
        imagined_goals=imagined_goals,
        task_goals=task_goals,
        agent=agent,
        buffer=buffer,
        learner=learner,
        collector=collector,
        representation_training=representation_training,
    )


def _seed(c: Config) -> Randomness:
    torch.manual_seed(c.seed)
    if c.threads:
        torch.set_num_threads(c.threads)
    return Randomness(np.random.default_rng(c.seed))


def _make_tasks(c: Config) -> tuple[gym.Env, gym.Env]:
    """The training task and one copy of the evaluation task, both checked."""
    env = make(c.env, image_size=c.image_size)
    eval_env = make(c.eval_env or c.env, image_size=c.image_size)
    check_task(env, c.image_size, reads_states=c.representation == "state")
    if c.eval_env:
        check_eval_task(env, eval_env)
    if c.reward == "task" and not _goals_are_states(env.observation_space):
        raise ValueError(
            f"reward 'task' needs a goal environment whose achieved_goal is its state "
            f"(e.g. FetchReach-v4); {c.env} rewards its images"
        )
    return env, eval_env


def _task_spaces(env: gym.Env) -> TaskSpaces:
    spaces = env.observation_space.spaces
    state, goal = (spaces.get(f"state_{k}") for k in ("observation", "desired_goal"))
    action_space = env.action_space
    return TaskSpaces(
        action_space.shape[0],
        action_space.high.tolist(),
        state.shape[0] if state else 0,
        goal.shape[0] if goal else 0,
    )


def _make_buffer(
    c: Config, env: gym.Env, horizon: int, spaces: TaskSpaces, agent: Agent, rng
) -> ReplayBuffer:
    camera = env.observation_space.spaces.get("image_observation")
    representation = agent.representation
    return ReplayBuffer(
        c.buffer_size,
        horizon,
        camera.shape if camera else (0,),
        spaces.action_dim,
        representation.latent_dim,
        rng,
        goal_dim=representation.goal_dim,
        achieved_dim=representation.goal_dim if achieved_apart(representation) else 0,
    )


def _make_task_goals(c: Config, env: gym.Env, rng: np.random.Generator) -> TaskGoals | None:
    if c.relabel.env <= 0:
        return None
    if task_method(env, "sample_goals") is None:
        raise ValueError(f"relabel.env > 0 needs a task with sample_goals; {c.env} has none")
    return TaskGoals(rng)


def _make_learner(
    c: Config,
    env: gym.Env,
    spaces: TaskSpaces,
    networks: tuple[Agent, torch.nn.Module],
    buffer: ReplayBuffer,
    imagined_goals: ImaginedGoals,
    task_goals: TaskGoals | None,
) -> Learner:
    """Relabeling, rewards and TD3 on the agent's actor and the critic, on the agent's device."""
    agent, critic = networks
    device = next(critic.parameters()).device
    td3 = TD3(
        0, spaces.action_dim, env.action_space.high, c.td3, device, networks=(agent.actor, critic)
    )
    relabeler = GoalRelabeler(
        c.relabel, imagined_goals.sample, task_goals.sample if task_goals else None
    )
    representation = agent.representation
    reward = make_reward(
        c.reward,
        RewardInputs(
            representation, agent.decode, buffer.next_images, task_method(env, "compute_reward")
        ),
    )
    return Learner(td3, buffer, relabeler, reward, c.td3, representation.reads_images, device)


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
