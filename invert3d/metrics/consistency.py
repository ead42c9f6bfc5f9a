"""A 3D-consistency score that needs no extra network: one rendered view warped into a neighbour through its
rendered depth, compared with what the neighbour renders there."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from invert3d.cameras import split_label
from invert3d.cameras.rays import camera_rays
from invert3d.geometry.raster import project


def reprojection_error(image_a: torch.Tensor, depth_a: torch.Tensor, label_a: torch.Tensor,
                       image_b: torch.Tensor, depth_b: torch.Tensor, label_b: torch.Tensor,
                       mask_a: torch.Tensor | None = None, tolerance: float = 0.02) -> tuple[float, float]:
    """Mean absolute colour difference (images in [-1, 1], reported on a 0..1 scale) between view A and view B
    sampled where A's pixels land in B, over pixels both views see (B's depth agrees with the reprojected
    point within ``tolerance`` world units); and the fraction of A's pixels that were compared.

    image_* [3, H, W]; depth_* [1, h, w] ray distances (resized to H x W); label_* [25]; mask_a [1, h, w]
    (accumulated opacity) limits A's pixels to the foreground.
    """
    size = image_a.shape[-1]
    depth_a = F.interpolate(depth_a[None], size=size, mode="bilinear", align_corners=False)[0, 0]
    depth_b = F.interpolate(depth_b[None], size=size, mode="bilinear", align_corners=False)[0, 0]
    c2w_a, k_a = split_label(label_a.cpu())
    origins, dirs = camera_rays(c2w_a[None], k_a[None], size)  # [1, H*W, 3]
    points = (origins + dirs * depth_a.reshape(1, -1, 1))[0]
    c2w_b, k_b = split_label(label_b.cpu())
    p = project(points, c2w_b, k_b, size)
    grid = (p[:, :2] / size * 2 - 1).view(1, 1, -1, 2)
    colour_b = F.grid_sample(image_b[None], grid, align_corners=False)[0, :, 0]  # [3, P]
    distance_b = F.grid_sample(depth_b[None, None], grid, align_corners=False)[0, 0, 0]  # [P]
    ray_distance = (points - c2w_b[:3, 3]).norm(dim=-1)
    inside = (p[:, 0] >= 0) & (p[:, 0] < size) & (p[:, 1] >= 0) & (p[:, 1] < size) & (p[:, 2] > 0)
    covisible = inside & ((ray_distance - distance_b).abs() < tolerance)
    if mask_a is not None:
        covisible &= F.interpolate(mask_a[None], size=size, mode="bilinear", align_corners=False).reshape(-1) > 0.5
    if not covisible.any():
        return float("nan"), 0.0
    diff = (colour_b[:, covisible] - image_a.reshape(3, -1)[:, covisible]).abs().mean() / 2
    return float(diff), float(covisible.float().mean())
