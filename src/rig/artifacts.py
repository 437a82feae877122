"""Pictures of a run: learning curve, VAE reconstructions and samples, rollout video."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def plot_learning_curve(rows: list[dict[str, float]], path: Path, title: str = "") -> None:
    """Final evaluation distance (mean and std over goals) against environment steps."""
    steps = np.array([r["env_steps"] for r in rows])
    metric_keys = [k for k in rows[0] if k.startswith("eval/final_") and not k.endswith("_std")]
    fig, axes = plt.subplots(
        1, len(metric_keys), figsize=(4.5 * len(metric_keys), 3.5), squeeze=False
    )
    for ax, key in zip(axes[0], metric_keys):
        mean = np.array([r.get(key, np.nan) for r in rows])
        std = np.array([r.get(key + "_std", np.nan) for r in rows])
        ax.plot(steps, mean, marker="o", color="tab:red")
        ax.fill_between(steps, mean - std, mean + std, color="tab:red", alpha=0.2)
        ax.set_xlabel("environment steps")
        ax.set_ylabel(key.removeprefix("eval/"))
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_representation(rows: list[dict[str, float]], path: Path, title: str = "") -> None:
    """The representation report after each representation update, against environment
    steps: held-out R^2 of each true-state dimension, and (where measured) the fraction of
    the steps of straight moves of each object along which the latent distance to the goal
    falls, and the fraction of those moves whose first step it already rewards."""
    steps = np.array([r["env_steps"] for r in rows])
    panels = [
        ("repr/r2_", "held-out R^2 from latents"),
        ("repr/monotone_", "latent distance falls"),
        ("repr/reach_", "moves guided from their start"),
    ]
    panels = [(p, label) for p, label in panels if any(k.startswith(p) for k in rows[0])]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.5), squeeze=False)
    for ax, (prefix, label) in zip(axes[0], panels):
        keys = [k for k in rows[0] if k.startswith(prefix) and not k.endswith("_min")]
        for key in keys:
            ax.plot(
                steps,
                [r[key] for r in rows],
                marker="o",
                markersize=3,
                label=key.removeprefix(prefix),
            )
        ax.axhline(0.9, color="gray", linestyle="--", linewidth=1)
        ax.set_ylim(min(0.0, min(r[f"{prefix}min"] for r in rows)), 1.02)
        ax.set_xlabel("environment steps (0: after pretraining)")
        ax.set_ylabel(label)
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3)
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def image_grid(rows: list[np.ndarray], scale: int = 3, gap: int = 2) -> np.ndarray:
    """Stack rows of uint8 images (each (N, H, W, 3)) into one picture, upscaled."""
    h, w = rows[0].shape[1:3]
    n = max(len(r) for r in rows)
    grid = np.full((len(rows) * (h + gap) - gap, n * (w + gap) - gap, 3), 255, dtype=np.uint8)
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            grid[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = image
    return grid.repeat(scale, 0).repeat(scale, 1)


def save_vae_grid(originals, reconstructions, samples, path: Path) -> None:
    """Rows: dataset images, their VAE reconstructions, decoded prior samples."""
    iio.imwrite(path, image_grid([originals, reconstructions, samples]))


PANEL_LABELS = ("observation", "goal", "VAE(goal)")


def save_rollout_video(episodes: list[list[np.ndarray]], path: Path, scale: int = 4, fps: int = 10):
    """Each frame: [observation | goal image | goal reconstruction], episodes one after another."""
    frames = [frame.repeat(scale, 0).repeat(scale, 1) for episode in episodes for frame in episode]
    header = _label_strip(frames[0].shape[1], len(PANEL_LABELS), PANEL_LABELS)
    iio.imwrite(
        path, np.stack([np.concatenate([header, f]) for f in frames]), duration=1000 / fps, loop=0
    )


def _label_strip(width: int, panels: int, labels) -> np.ndarray:
    from PIL import Image, ImageDraw

    strip = Image.new("RGB", (width, 16), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    for i, label in enumerate(labels[:panels]):
        draw.text((i * width // panels + 4, 2), label, fill=(0, 0, 0))
    return np.asarray(strip)
