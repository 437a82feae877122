"""A contact sheet of a task: per episode, its goal image and observations along the way."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from PIL import Image, ImageDraw

GAP = 4
LABEL_HEIGHT = 14


def contact_sheet(
    env: gym.Env, episodes: int = 4, frames: int = 6, every: int = 8, seed: int = 0, scale: int = 4
) -> Image.Image:
    """Rows are episodes: goal image, then an observation every ``every`` steps.

    The actions are random directions held for ``every`` steps, so that the
    arm travels across the workspace.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        row = [obs["image_desired_goal"], obs["image_observation"]]
        for _ in range(frames - 1):
            action = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
            for _ in range(every):
                obs, *_ = env.step(action)
            row.append(obs["image_observation"])
        rows.append(row)
    size = rows[0][0].shape[0] * scale
    labels = ["goal"] + [f"t={i * every}" for i in range(frames)]
    sheet = Image.new(
        "RGB",
        (len(labels) * (size + GAP) + GAP, LABEL_HEIGHT + episodes * (size + GAP) + GAP),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    for col, label in enumerate(labels):
        draw.text((GAP + col * (size + GAP), 1), label, fill="black")
    for r, row in enumerate(rows):
        for col, image in enumerate(row):
            tile = Image.fromarray(image).resize((size, size), Image.NEAREST)
            sheet.paste(tile, (GAP + col * (size + GAP), LABEL_HEIGHT + r * (size + GAP)))
    return sheet
