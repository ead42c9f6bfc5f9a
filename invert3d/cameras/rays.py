"""Camera rays: one per pixel centre of a camera given by its cam2world pose and normalized intrinsics."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def camera_rays(cam2world: torch.Tensor, intrinsics: torch.Tensor, resolution: int,
                offset: tuple[float, float] = (0.0, 0.0)) -> tuple[torch.Tensor, torch.Tensor]:
    """Rays through pixel centres (moved by ``offset`` = (right, down) in pixels, for supersampling).
    cam2world [N, 4, 4], normalized intrinsics [N, 3, 3] -> origins, unit directions, each [N, R*R, 3], pixels in
    row-major order (OpenCV camera: x right, y down, z forward)."""
    n = cam2world.shape[0]
    device = cam2world.device
    fx, fy = intrinsics[:, 0, 0, None], intrinsics[:, 1, 1, None]
    cx, cy = intrinsics[:, 0, 2, None], intrinsics[:, 1, 2, None]
    sk = intrinsics[:, 0, 1, None]
    centres = torch.arange(resolution, dtype=torch.float32, device=device) * (1.0 / resolution) + (0.5 / resolution)
    v, u = torch.meshgrid(centres + offset[1] / resolution, centres + offset[0] / resolution, indexing="ij")
    u = u.reshape(1, -1)
    v = v.reshape(1, -1)
    x_lift = (u - cx + cy * sk / fy - sk * v / fy) / fx
    y_lift = (v - cy) / fy
    ones = torch.ones_like(x_lift.expand(n, -1))
    cam_points = torch.stack((x_lift.expand(n, -1), y_lift.expand(n, -1), ones, ones), dim=-1)  # [N, M, 4]
    world_points = torch.bmm(cam2world, cam_points.permute(0, 2, 1)).permute(0, 2, 1)[:, :, :3]
    origins = cam2world[:, None, :3, 3]
    directions = F.normalize(world_points - origins, dim=2)
    return origins.expand(-1, directions.shape[1], -1), directions
