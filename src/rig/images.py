"""Goal images from files or arrays: checked, converted and resized with a note saying so."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

STATE_KEY = "rig:state_desired_goal"
"""PNG text field in which `rig goal` stores the true goal state (for evaluation only)."""


def check_image(image, size: int, name: str = "image") -> np.ndarray:
    """Return ``image`` if it is a uint8 array of shape (size, size, 3); else a clear ValueError."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 (0-255), got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {image.shape}")
    if image.shape[:2] != (size, size):
        raise ValueError(f"{name} must be {size}x{size}, got {image.shape[0]}x{image.shape[1]}")
    return image


def load_goal_image(path: str | Path, size: int) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """Read any image Pillow reads as a uint8 (size, size, 3) array.

    Returns the image, notes on each conversion made, and the true goal state
    if the file was written by ``rig goal`` (else None).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"goal image {path} does not exist")
    try:
        image = Image.open(path)
        image.load()
    except Exception as err:  # Pillow raises several types for unreadable files
        raise ValueError(f"cannot read {path} as an image: {err}") from err
    notes = []
    state_text = image.info.get(STATE_KEY)
    if _fully_transparent(image):
        warnings.warn(
            f"{path}: every pixel is fully transparent; its colours are used as if opaque",
            stacklevel=2,
        )
    if image.mode != "RGB":
        notes.append(f"converted {image.mode} to RGB")
        image = to_rgb(image)
    if image.size != (size, size):
        notes.append(f"resized {image.size[0]}x{image.size[1]} to {size}x{size}")
        image = image.resize((size, size), Image.Resampling.BILINEAR)
    state = goal_state(path, state_text) if state_text else None
    return np.array(image, dtype=np.uint8), notes, state


def goal_state(path: Path, text: str) -> np.ndarray | None:
    """The true goal state in a goal file's optional ``rig:state_desired_goal`` field; a
    field that is not a list of finite numbers is ignored with a warning."""
    try:
        state = np.asarray(json.loads(text), dtype=np.float32)
    except (ValueError, TypeError):
        return _ignore_state(path, f"not JSON numbers: {text[:40]!r}")
    if state.ndim != 1 or len(state) == 0 or not np.isfinite(state).all():
        return _ignore_state(path, f"not a list of finite numbers: {text[:40]!r}")
    return state


def check_goal_state(path: Path, state: np.ndarray, size: int) -> np.ndarray | None:
    """``state`` if it has the task's goal-state width ``size``; else None, with a warning."""
    if len(state) != size:
        return _ignore_state(path, f"{len(state)} numbers; the task's goal state has {size}")
    return state


def _ignore_state(path: Path, problem: str) -> None:
    warnings.warn(
        f"{path}: ignored its {STATE_KEY} field ({problem}); the true distance is unknown",
        stacklevel=3,
    )


def _fully_transparent(image: Image.Image) -> bool:
    """Whether ``image`` has an alpha channel (or a transparent palette) that hides it all."""
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return False
    alpha = np.asarray(image.convert("RGBA"))[..., 3]
    return bool(alpha.size) and not alpha.any()


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any Pillow mode, scaling high bit depths (Pillow's ``convert`` clips
    16-bit grey to white): 16-bit values are divided by 257 (32-bit integers too when any
    exceeds 255), floats are taken as 0-1 (or 0-255 when any exceeds 1)."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        values = np.asarray(image, dtype=np.float64)
        if image.mode == "F":
            scale = 255.0 if values.max(initial=0.0) <= 1.0 else 1.0
        elif image.mode == "I" and values.max(initial=0.0) <= 255:
            scale = 1.0
        else:
            scale = 1 / 257
        grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    return image.convert("RGB")


def save_goal_image(path: str | Path, image: np.ndarray, state: np.ndarray | None = None) -> None:
    """Write a goal image as PNG; the true state (if given) goes into a text field."""
    info = PngImagePlugin.PngInfo()
    if state is not None:
        info.add_text(STATE_KEY, json.dumps(np.asarray(state).tolist()))
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path, pnginfo=info)
