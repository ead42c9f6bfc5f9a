"""Ground-truth rendering of a synthetic subject: sphere tracing of its signed distance field.

Outputs per camera: RGB (albedo under a fixed world-space light, so colours do not change with the view, as in
EG3D's view-independent decoder), depth as distance along the ray (EG3D's ``image_depth`` convention), foreground
mask and world-space normals. Background is white, matching a generator rendered with ``white_back``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from invert3d.cameras import split_label
from invert3d.cameras.rays import camera_rays
from invert3d.synthetic.decals import Decal, apply_decals, decal_footprint
from invert3d.synthetic.head import HeadField, trace

LIGHT_DIR = (-0.35, 0.55, 0.75)  # towards the light, world frame
AMBIENT = 0.45
# Antialiasing: rotated-grid subsample offsets (pixels), and the neighbourhood contrast that calls for them.
SUBSAMPLES = ((0.125, -0.375), (0.375, 0.125), (-0.125, 0.375), (-0.375, -0.125))
EDGE_CONTRAST = 0.05


@dataclass
class Render:
    rgb: torch.Tensor  # [3, H, W] in [0, 1]
    depth: torch.Tensor  # [1, H, W], ray distance (mean over the samples that hit); t_far where nothing is hit
    mask: torch.Tensor  # [1, H, W] covered fraction of each pixel, in [0, 1]
    normals: torch.Tensor  # [3, H, W] world space, zero on the background


def shade(albedo: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
    """Lambertian shading under the fixed world light: albedo [P, 3] * (ambient + diffuse)."""
    light = torch.nn.functional.normalize(torch.tensor(LIGHT_DIR, dtype=normals.dtype), dim=0)
    diffuse = (normals @ light).clamp_min(0)
    return (albedo * (AMBIENT + (1 - AMBIENT) * diffuse[:, None])).clamp(0, 1)


def surface_colour(field: HeadField, points: torch.Tensor, normals: torch.Tensor, decals: list[Decal]) -> torch.Tensor:
    """Shaded colour [P, 3] of surface points, decals applied to the albedo."""
    return shade(apply_decals(field.albedo(points), points, normals, decals), normals)


def _shade_rays(field: HeadField, origins: torch.Tensor, directions: torch.Tensor, decals: list[Decal],
                t_near: float, t_far: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Trace rays [R, 3] -> rgb [R, 3] (white where nothing is hit), distance [R], hit [R] bool, normals [R, 3]."""
    t, hit = trace(field, origins, directions, t_near, t_far)
    rgb = torch.ones(origins.shape[0], 3)
    normals = torch.zeros(origins.shape[0], 3)
    if hit.any():
        points = origins[hit] + t[hit, None] * directions[hit]
        nrm = field.normals(points)
        normals[hit] = nrm
        rgb[hit] = surface_colour(field, points, nrm, decals)
    return rgb, t, hit, normals


def pixel_surface_points(label: torch.Tensor, depth: torch.Tensor, coverage: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each pixel's centre ray meets the surface, from a render's ray distances ``depth`` [H, W] and coverage
    [H, W] at camera ``label`` [25] -> points [H * W, 3] (world; the camera centre where nothing is hit) and hit
    [H * W] bool (coverage > 0.5)."""
    cam2world, intrinsics = split_label(label.reshape(1, 25).float())
    origins, directions = camera_rays(cam2world, intrinsics, depth.shape[-1])
    hit = coverage.reshape(-1) > 0.5
    distance = torch.where(hit, depth.reshape(-1).float(), torch.zeros(hit.shape))
    return origins[0] + directions[0] * distance[:, None], hit


def _edge_pixels(rgb: torch.Tensor, hit: torch.Tensor, resolution: int) -> torch.Tensor:
    """Indices of pixels whose 3x3 neighbourhood crosses the silhouette or spans more than EDGE_CONTRAST in a
    colour channel: the pixels a single sample would alias."""
    image = torch.cat([rgb, hit[:, None].float()], dim=1).T.reshape(1, 4, resolution, resolution)
    spread = F.max_pool2d(image, 3, 1, 1) + F.max_pool2d(-image, 3, 1, 1)
    return torch.nonzero(spread[0].amax(dim=0).reshape(-1) > EDGE_CONTRAST).squeeze(1)


@torch.no_grad()
def render_subject(field: HeadField, label: torch.Tensor, resolution: int, decals: list[Decal] = (),
                   t_near: float = 2.0, t_far: float = 3.6, antialias: bool = True) -> Render:
    """Render one camera label [25] at ``resolution`` squared pixels.

    With ``antialias`` (as a camera integrates over its pixels), pixels at silhouettes and colour edges are
    re-rendered from four rotated-grid samples and averaged: rgb is the mean colour, mask the covered fraction,
    depth the mean over the samples that hit, normals their normalized mean.
    """
    decals = list(decals)
    cam2world, intrinsics = split_label(label.reshape(1, 25).float())
    origins, directions = camera_rays(cam2world, intrinsics, resolution)
    rgb, t, hit, normals = _shade_rays(field, origins[0].contiguous(), directions[0], decals, t_near, t_far)
    mask = hit.float()
    if antialias:
        idx = _edge_pixels(rgb, hit, resolution)
        rays = [camera_rays(cam2world, intrinsics, resolution, offset) for offset in SUBSAMPLES]
        o = torch.cat([r[0][0, idx] for r in rays])  # one trace for all subsamples: [S * len(idx), 3]
        d = torch.cat([r[1][0, idx] for r in rays])
        c_s, t_s, hit_s, n_s = (x.reshape(len(SUBSAMPLES), idx.numel(), *x.shape[1:])
                                for x in _shade_rays(field, o, d, decals, t_near, t_far))
        hits = hit_s.float().sum(dim=0)
        colour_sum, depth_sum, normal_sum = c_s.sum(dim=0), (t_s * hit_s).sum(dim=0), n_s.sum(dim=0)
        rgb[idx] = colour_sum / len(SUBSAMPLES)
        mask[idx] = hits / len(SUBSAMPLES)
        t[idx] = torch.where(hits > 0, depth_sum / hits.clamp_min(1), t_far)
        normals[idx] = F.normalize(normal_sum, dim=-1)
    to_image = lambda x: x.T.reshape(-1, resolution, resolution)  # noqa: E731
    return Render(to_image(rgb), to_image(t[:, None]), to_image(mask[:, None]), to_image(normals))


@torch.no_grad()
def render_decal_region(field: HeadField, label: torch.Tensor, resolution: int, decals: list[Decal],
                        t_near: float = 2.0, t_far: float = 3.6) -> torch.Tensor:
    """[1, H, W] bool: the pixels whose centre ray hits the surface where a decal lies (``decal_footprint``)."""
    cam2world, intrinsics = split_label(label.reshape(1, 25).float())
    origins, directions = camera_rays(cam2world, intrinsics, resolution)
    o, d = origins[0].contiguous(), directions[0]
    t, hit = trace(field, o, d, t_near, t_far)
    region = torch.zeros(o.shape[0], dtype=torch.bool)
    if hit.any():
        points = o[hit] + t[hit, None] * d[hit]
        region[hit] = decal_footprint(points, field.normals(points), list(decals))
    return region.reshape(1, resolution, resolution)
