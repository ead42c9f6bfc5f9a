"""Camera poses in EG3D's conventions.

World frame: y up, the face looks toward +z, the subject sits near the pivot (0, 0, 0.2). Cameras are OpenCV
style (x right, y down, z forward) and stored as cam2world 4x4 matrices. Intrinsics are normalized by the image
size (focal in image widths, principal point 0.5). Angles are radians: ``yaw`` > 0 moves the camera toward +x,
``pitch`` > 0 moves it down (EG3D's vertical angle is pi/2 + pitch).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

FFHQ_FOV_DEG = 18.837
FFHQ_RADIUS = 2.7
FFHQ_PIVOT = (0.0, 0.0, 0.2)


def _normalize(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True)


def cam2world_from_forward(forward: torch.Tensor, origin: torch.Tensor) -> torch.Tensor:
    """[N, 3] viewing directions and camera centres -> [N, 4, 4] cam2world with world +y as 'up' (image -y)."""
    forward = _normalize(forward)
    up = torch.tensor([0.0, 1.0, 0.0], dtype=forward.dtype).expand_as(forward)
    right = -_normalize(torch.cross(up, forward, dim=-1))
    up = _normalize(torch.cross(forward, right, dim=-1))
    pose = torch.eye(4, dtype=forward.dtype).repeat(forward.shape[0], 1, 1)
    pose[:, :3, :3] = torch.stack((right, up, forward), dim=-1)
    pose[:, :3, 3] = origin
    return pose


def look_at_pose(yaw: float | Sequence[float] | torch.Tensor, pitch: float | Sequence[float] | torch.Tensor,
                 radius: float = FFHQ_RADIUS, pivot: Sequence[float] = FFHQ_PIVOT) -> torch.Tensor:
    """EG3D's ``LookAtPoseSampler``: the camera sits on the sphere of ``radius`` around the world origin and looks
    at ``pivot``. Scalars give [4, 4]; sequences of N angles give [N, 4, 4] (float32)."""
    scalar = not torch.is_tensor(yaw) and not isinstance(yaw, Sequence)
    yaw_t = torch.as_tensor(yaw, dtype=torch.float64).reshape(-1)
    pitch_t = torch.as_tensor(pitch, dtype=torch.float64).reshape(-1)
    yaw_t, pitch_t = torch.broadcast_tensors(yaw_t, pitch_t)
    theta = math.pi / 2 + yaw_t
    v = torch.clamp(math.pi / 2 + pitch_t, 1e-5, math.pi - 1e-5) / math.pi
    phi = torch.arccos(1 - 2 * v)
    origin = torch.stack([radius * torch.sin(phi) * torch.cos(math.pi - theta),
                          radius * torch.cos(phi),
                          radius * torch.sin(phi) * torch.sin(math.pi - theta)], dim=-1)
    target = torch.tensor(pivot, dtype=torch.float64)
    pose = cam2world_from_forward(target - origin, origin).float()
    return pose[0] if scalar else pose


def fov_to_intrinsics(fov_degrees: float = FFHQ_FOV_DEG) -> torch.Tensor:
    """Normalized intrinsics [3, 3] for a field of view, with EG3D's constants (so 18.837 deg gives the focal
    4.2634 of EG3D's sample scripts; FFHQ's dataset labels say 4.2647)."""
    focal = 1.0 / (math.tan(fov_degrees * 3.14159 / 360) * 1.414)
    return torch.tensor([[focal, 0.0, 0.5], [0.0, focal, 0.5], [0.0, 0.0, 1.0]], dtype=torch.float32)


def intrinsics_to_fov(intrinsics: torch.Tensor) -> float:
    """Inverse of ``fov_to_intrinsics`` (degrees), from the normalized focal length fx."""
    return float(math.atan(1.0 / (float(intrinsics[0, 0]) * 1.414)) * 360 / 3.14159)


def orbit_angles(frames: int, yaw_range: float = 0.35, pitch_range: float = 0.25) -> tuple[torch.Tensor, torch.Tensor]:
    """EG3D's video orbit: yaw = yaw_range sin(2 pi t), pitch = pitch_range cos(2 pi t), t in [0, 1)."""
    t = torch.arange(frames, dtype=torch.float64) / frames
    return yaw_range * torch.sin(2 * math.pi * t), pitch_range * torch.cos(2 * math.pi * t)
