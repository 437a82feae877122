"""rig: Visual Reinforcement Learning with Imagined Goals.

Importing ``rig`` registers its tasks with Gymnasium (``gymnasium.make("rig/VisualPusher-v0")``).
"""

import rig.envs  # noqa: F401 (registers the rig/... Gymnasium ids)

__version__ = "0.1.0"
