"""Training data from the synthetic world: a pool of rendered views that is refreshed as training goes, and
3D point samples with their true occupancy and colour.

Views are rendered at the generator's output resolution by sphere tracing (the expensive part, ~0.2 s each at
128^2), so they are kept in a pool of ``pool_size`` entries, one entry replaced per refresh. Point samples cost
almost nothing and are drawn fresh for every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from invert3d.cameras import pose_label
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.params import LATENT_DIM, subject_from_latent
from invert3d.synthetic.render import render_subject, surface_colour


@dataclass
class ViewBatch:
    z: torch.Tensor  # [B, LATENT_DIM]
    c: torch.Tensor  # [B, 25]
    rgb: torch.Tensor  # [B, 3, R, R] in [-1, 1]
    depth: torch.Tensor  # [B, 1, R, R] ray distance
    mask: torch.Tensor  # [B, 1, R, R] in {0, 1}


@dataclass
class PointBatch:
    points: torch.Tensor  # [B, P, 3]
    occupancy: torch.Tensor  # [B, P] soft inside-ness in [0, 1]
    colour: torch.Tensor  # [B, P, 3] shaded surface colour in [0, 1] (meaningful where near_surface)
    near_surface: torch.Tensor  # [B, P] bool


class ViewPool:
    """A fixed-size pool of (latent, camera, render) triples, refreshed one entry at a time."""

    def __init__(self, size: int, resolution: int, yaw_range: float, pitch_range: float, generator: torch.Generator):
        self.size, self.resolution = size, resolution
        self.yaw_range, self.pitch_range = yaw_range, pitch_range
        self.g = generator
        self.z = torch.zeros(size, LATENT_DIM)
        self.c = torch.zeros(size, 25)
        self.rgb = torch.zeros(size, 3, resolution, resolution, dtype=torch.uint8)
        self.depth = torch.zeros(size, 1, resolution, resolution, dtype=torch.float16)
        self.mask = torch.zeros(size, 1, resolution, resolution, dtype=torch.bool)
        self.filled = 0
        self.cursor = 0

    def render_one(self) -> None:
        """Draw a new subject and camera, render it, and store it over the oldest entry."""
        z = torch.randn(LATENT_DIM, generator=self.g)
        yaw = (torch.rand((), generator=self.g) * 2 - 1) * self.yaw_range
        pitch = (torch.rand((), generator=self.g) * 2 - 1) * self.pitch_range
        label = pose_label(float(yaw), float(pitch))
        r = render_subject(HeadField(subject_from_latent(z)), label, self.resolution)
        i = self.cursor
        self.z[i], self.c[i] = z, label
        self.rgb[i] = (r.rgb * 255 + 0.5).clamp(0, 255).to(torch.uint8)
        self.depth[i] = r.depth.half()
        self.mask[i] = r.mask > 0.5
        self.cursor = (self.cursor + 1) % self.size
        self.filled = min(self.filled + 1, self.size)

    def sample(self, batch: int) -> ViewBatch:
        idx = torch.randint(0, self.filled, (batch,), generator=self.g)
        rgb = self.rgb[idx].float() / 127.5 - 1
        return ViewBatch(self.z[idx], self.c[idx], rgb, self.depth[idx].float(), self.mask[idx].float())

    def state(self) -> dict[str, torch.Tensor]:
        return {"z": self.z, "c": self.c, "rgb": self.rgb, "depth": self.depth, "mask": self.mask,
                "counters": torch.tensor([self.filled, self.cursor])}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        for key in ("z", "c", "rgb", "depth", "mask"):
            getattr(self, key).copy_(state[key])
        self.filled, self.cursor = (int(v) for v in state["counters"])


def downsample_targets(view: ViewBatch, resolution: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Area-downsample rgb, mask and (mask-weighted) depth to the neural rendering resolution."""
    factor = view.rgb.shape[-1] // resolution
    rgb = F.avg_pool2d(view.rgb, factor)
    mask = F.avg_pool2d(view.mask, factor)
    depth = F.avg_pool2d(view.depth * view.mask, factor) / mask.clamp_min(1e-6)
    return rgb, mask, depth


def sample_points(z: torch.Tensor, count: int, generator: torch.Generator, surface_jitter: float = 0.01,
                  sharpness: float = 0.003) -> PointBatch:
    """For each latent in z [B, LATENT_DIM]: ``count`` points, half uniform in the box and half jittered around
    the surface, with their soft occupancy sigmoid(-sdf / sharpness) and shaded surface colour."""
    pts, occ, col, near = [], [], [], []
    for zi in z:
        field = HeadField(subject_from_latent(zi))
        uniform = torch.rand(count // 2, 3, generator=generator) - 0.5
        seeds = torch.rand(count - count // 2, 3, generator=generator) * 0.9 - 0.45
        surface = (seeds - field.sdf(seeds)[:, None] * field.normals(seeds)).clamp(-0.5, 0.5)  # onto the surface
        jittered = surface + torch.randn(surface.shape, generator=generator) * surface_jitter
        p = torch.cat([uniform, jittered]).clamp(-0.5, 0.5)
        sdf = field.sdf(p)
        normals = field.normals(surface)
        colour = surface_colour(field, surface, normals, [])
        pts.append(p)
        occ.append(torch.sigmoid(-sdf / sharpness))
        col.append(torch.cat([torch.zeros(count // 2, 3), colour]))
        near.append(torch.cat([torch.zeros(count // 2, dtype=torch.bool),
                               (field.sdf(surface).abs() < 3e-3) & ((p[count // 2:] - surface).norm(dim=-1) < 0.01)]))
    return PointBatch(torch.stack(pts), torch.stack(occ), torch.stack(col), torch.stack(near))
