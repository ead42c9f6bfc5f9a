"""Images and videos on disk: tensor <-> uint8 conversion, grids, PNG and MP4 writing (atomic)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from PIL import Image

from invert3d.files import atomic_file


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """[3, H, W] or [1, 3, H, W] in [-1, 1] -> [H, W, 3] uint8 (EG3D's x * 127.5 + 128, clamped)."""
    if image.ndim == 4:
        image = image[0]
    return (image.detach().float().cpu() * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def image_grid(images: list[np.ndarray], cols: int) -> np.ndarray:
    """Tile equally sized [H, W, 3] images row by row."""
    h, w, c = images[0].shape
    rows = (len(images) + cols - 1) // cols
    grid = np.zeros((rows * h, cols * w, c), dtype=images[0].dtype)
    for i, img in enumerate(images):
        r, k = divmod(i, cols)
        grid[r * h:(r + 1) * h, k * w:(k + 1) * w] = img
    return grid


def save_png(path: str | Path, image: np.ndarray) -> Path:
    with atomic_file(path) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")
    return Path(path)


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: int = 30) -> Path:
    """Encode [H, W, 3] uint8 frames as H.264 MP4 (yuv420p, plays everywhere) with imageio-ffmpeg's ffmpeg."""
    import imageio_ffmpeg

    writer = None
    with atomic_file(path) as tmp:
        try:
            for frame in frames:
                if writer is None:
                    writer = imageio_ffmpeg.write_frames(str(tmp), (frame.shape[1], frame.shape[0]), fps=fps,
                                                         codec="libx264", quality=8, macro_block_size=2,
                                                         ffmpeg_log_level="error")
                    writer.send(None)
                writer.send(np.ascontiguousarray(frame))
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise ValueError("a video needs at least one frame")
    return Path(path)
