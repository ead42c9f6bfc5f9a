"""Decals: out-of-distribution texture fixed to a subject's surface in 3D (text, an emblem, a tattoo, face paint).

A decal is an RGBA image projected onto the surface along a projector axis, like a slide projector standing at
(yaw, pitch) around the head: a surface point takes the decal's colour where it falls inside the image, faces the
projector and lies within a depth band around the decal's centre. Being a function of the 3D point, a decorated
subject has exact ground truth from every view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from invert3d.errors import Invert3dError
from invert3d.synthetic.head import trace

@dataclass(frozen=True)
class Decal:
    image: torch.Tensor  # [4, H, W] RGBA in [0, 1]
    centre: torch.Tensor  # [3] point on the surface
    axis: torch.Tensor  # [3] unit projection direction (from the projector into the head)
    right: torch.Tensor  # [3] unit image x axis
    down: torch.Tensor  # [3] unit image y axis
    width: float  # world units covered by the image width

    @property
    def height(self) -> float:
        return self.width * self.image.shape[1] / self.image.shape[2]


def place_decal(field, image: np.ndarray | torch.Tensor, yaw: float, pitch: float, width: float,
                roll: float = 0.0, target=(0.0, 0.0, 0.0)) -> Decal:
    """Project ``image`` ([H, W, 4] uint8 or [4, H, W] float) from direction (yaw, pitch) toward ``target``."""
    img = torch.as_tensor(np.array(image)) if isinstance(image, np.ndarray) else image
    if img.dtype == torch.uint8:
        img = img.permute(2, 0, 1).float() / 255
    origin = torch.tensor(target, dtype=torch.float32) + 2.0 * torch.tensor(
        [math.sin(yaw) * math.cos(pitch), -math.sin(pitch), math.cos(yaw) * math.cos(pitch)], dtype=torch.float32)
    axis = F.normalize(torch.tensor(target, dtype=torch.float32) - origin, dim=0)
    t, hit = trace(field, origin[None], axis[None], 0.5, 3.5)
    if not bool(hit[0]):
        raise Invert3dError("the decal's projector misses the subject; choose another placement")
    centre = origin + t[0] * axis
    right = F.normalize(torch.linalg.cross(torch.tensor([0.0, 1.0, 0.0]), -axis), dim=0)
    down = torch.linalg.cross(axis, right)
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    return Decal(img.float(), centre, axis, right, down, float(width))


def _projection(d: Decal, points: torch.Tensor, normals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where decal ``d`` falls on surface points [P, 3] with normals [P, 3]: image coordinates [P, 2] (0..1
    inside the image) and the strength [P] in [0, 1] with which it is printed there (facing and depth band)."""
    rel = points - d.centre
    uv = torch.stack([rel @ d.right / d.width + 0.5, rel @ d.down / d.height + 0.5], dim=-1)
    facing = (-(normals @ d.axis)).clamp(0, 1)
    near = (rel @ d.axis).abs() < 0.5 * d.width
    return uv, torch.clamp((facing - 0.15) / 0.25, 0, 1) * near


def apply_decals(albedo: torch.Tensor, points: torch.Tensor, normals: torch.Tensor, decals: list[Decal]) -> torch.Tensor:
    """Blend decals over albedo [P, 3] at surface points [P, 3] with normals [P, 3]."""
    for d in decals:
        uv, strength = _projection(d, points, normals)
        grid = (uv * 2 - 1)[None, None]  # [1, 1, P, 2]
        rgba = F.grid_sample(d.image[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0, :, 0]
        alpha = rgba[3] * strength
        albedo = albedo * (1 - alpha[:, None]) + rgba[:3].T * alpha[:, None]
    return albedo


def decal_footprint(points: torch.Tensor, normals: torch.Tensor, decals: list[Decal]) -> torch.Tensor:
    """[P] bool: surface points where a decal's image rectangle is printed at more than half strength (its
    transparent parts included: the region whose appearance the decal decides)."""
    inside = torch.zeros(points.shape[0], dtype=torch.bool)
    for d in decals:
        uv, strength = _projection(d, points, normals)
        inside |= ((uv >= 0) & (uv <= 1)).all(dim=-1) & (strength > 0.5)
    return inside


def text_image(text: str, colour=(250, 250, 245), outline=(15, 20, 60), size: int = 96) -> np.ndarray:
    """Text as an RGBA image [H, W, 4] uint8, tightly cropped; light letters with a dark outline read on any skin."""
    font = ImageFont.load_default(size=size)
    stroke = max(2, size // 14)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    img = Image.new("RGBA", (right - left + 16, bottom - top + 16), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((8 - left, 8 - top), text, font=font, fill=colour + (255,), stroke_width=stroke,
                             stroke_fill=outline + (255,))
    return np.asarray(img)


def emblem_image(seed: int, size: int = 256) -> np.ndarray:
    """A round emblem: a coloured ring around a star."""
    rng = np.random.RandomState(seed)
    colour = tuple(int(c) for c in rng.randint(20, 235, 3))
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse([8, 8, size - 8, size - 8], outline=colour + (255,), width=size // 12)
    points = rng.randint(5, 8)
    star = []
    for k in range(2 * points):
        r = (0.36 if k % 2 == 0 else 0.16) * size
        a = math.pi * k / points - math.pi / 2
        star.append((size / 2 + r * math.cos(a), size / 2 + r * math.sin(a)))
    draw.polygon(star, fill=(240, 200, 40, 255) if colour[0] < 128 else (30, 30, 120, 255))
    return np.asarray(img)


def tattoo_image(seed: int, size: int = 256) -> np.ndarray:
    """A tattoo-like ink pattern: dark curling strokes."""
    rng = np.random.RandomState(seed)
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    ink = (25, 30, 45, 235)
    for k in range(rng.randint(3, 6)):
        phase, freq, amp = rng.uniform(0, 6.28), rng.uniform(1.5, 3.5), rng.uniform(0.1, 0.3) * size
        y0 = size * (k + 1) / 7
        pts = [(x, y0 + amp * math.sin(freq * x / size * 6.28 + phase)) for x in range(0, size, 4)]
        draw.line(pts, fill=ink, width=max(3, size // 40))
    for _ in range(rng.randint(4, 9)):
        cx, cy, r = rng.uniform(0.15, 0.85) * size, rng.uniform(0.15, 0.85) * size, rng.uniform(0.03, 0.08) * size
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=ink, width=max(2, size // 60))
    return np.asarray(img)


def paint_image(seed: int, size: int = 256) -> np.ndarray:
    """Face paint: two or three bold translucent stripes."""
    rng = np.random.RandomState(seed)
    img = np.zeros((size // 2, size, 4), np.uint8)
    bands = rng.randint(2, 4)
    for k in range(bands):
        lo, hi = k * img.shape[0] // bands, (k + 1) * img.shape[0] // bands
        img[lo:hi, :, :3] = rng.randint(0, 256, 3)
        img[lo:hi, :, 3] = 200
    return img


def load_decal_image(path: str | Path) -> np.ndarray:
    """An image file as an RGBA decal [H, W, 4] uint8 (RGB images get an opaque alpha)."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGBA"))
    except OSError as exc:
        raise Invert3dError(f"{path}: not a readable image ({exc})") from None
