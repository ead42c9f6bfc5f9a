"""Images and videos on disk: tensor <-> uint8 conversion, grids, PNG and MP4 writing (atomic)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from PIL import Image

from invert3d.errors import Invert3dError
from invert3d.files import atomic_file

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")  # what a folder of photos holds


def from_uint8(image: np.ndarray) -> torch.Tensor:
    """[H, W, 3] uint8 -> [1, 3, H, W] float in [-1, 1] (x / 127.5 - 1)."""
    return torch.from_numpy(image.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """[3, H, W] or [1, 3, H, W] in [-1, 1] -> [H, W, 3] uint8 (EG3D's x * 127.5 + 128, clamped)."""
    if image.ndim == 4:
        image = image[0]
    return (image.detach().float().cpu() * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def unit_to_uint8(values: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """Values in [0, 1] (colours, any shape; tensor or array) -> uint8 of the same shape and kind (x * 255,
    rounded, clamped)."""
    if isinstance(values, np.ndarray):
        return np.floor(values * 255 + 0.5).clip(0, 255).astype(np.uint8)
    return (values.detach().float() * 255 + 0.5).floor().clamp(0, 255).to(torch.uint8)


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


def read_rgb(path: str | Path) -> np.ndarray:
    """A photo file as [H, W, 3] uint8 RGB, upright.

    Handles PNG/JPEG/WebP/..., EXIF orientation, greyscale, palette, 16-bit and transparent images (alpha is
    composited over white); an unreadable file raises ``Invert3dError`` naming it.
    """
    from PIL import ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise Invert3dError(f"image not found: {path}")
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float64)
                im = Image.fromarray((arr / max(arr.max(), 1) * 255 if arr.max() > 255 else arr).astype(np.uint8))
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im = Image.alpha_composite(white, rgba)
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Invert3dError(f"{path}: not a readable image ({exc})") from None


def load_photo(path: str | Path, size: int, notice=None) -> torch.Tensor:
    """A square photo (read as ``read_rgb`` does) as [1, 3, size, size] in [-1, 1].

    A square image of another size is resized (Lanczos) and ``notice`` is called with a message; a non-square
    image is refused, since its framing cannot be guessed (``invert3d align`` makes the crop).
    """
    path = Path(path)
    im = Image.fromarray(read_rgb(path))
    w, h = im.size
    if w != h:
        raise Invert3dError(f"{path} is {w}x{h}; the model needs a square crop framed like its training faces")
    if w != size:
        if notice is not None:
            notice(f"{path.name} is {w}x{h}; resizing to the model's {size}x{size}")
        im = im.resize((size, size), Image.LANCZOS)
    arr = np.asarray(im, dtype=np.float32) / 127.5 - 1
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)[None]


def photos_in(path: Path) -> list[Path]:
    """``path`` itself, or the images in the folder ``path`` (sorted by name)."""
    if path.is_file():
        return [path]
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not images:
            raise Invert3dError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        return images
    raise Invert3dError(f"image not found: {path}")
