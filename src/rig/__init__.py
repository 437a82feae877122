"""rig: Visual Reinforcement Learning with Imagined Goals."""

__version__ = "0.1.0"
