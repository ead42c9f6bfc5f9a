"""The pseudo cameras p_1..p_n: a yaw x pitch grid of look-at cameras around the generator's pivot."""

from __future__ import annotations

import torch

from invert3d.cameras import pose_label, split_label
from invert3d.generator import TriPlaneGenerator
from invert3d.inversion.config import PseudoViewConfig


def _spread(half_range: float, steps: int) -> torch.Tensor:
    """``steps`` angles evenly over [-half_range, half_range] (one step: frontal)."""
    return torch.linspace(-half_range, half_range, steps) if steps > 1 else torch.zeros(1)


def pseudo_cameras(G: TriPlaneGenerator, input_camera: torch.Tensor, cfg: PseudoViewConfig) -> torch.Tensor:
    """Labels [yaw_steps * pitch_steps, 25] on the generator's camera sphere, with the input camera's intrinsics."""
    r = G.cfg.rendering
    yaws, pitches = _spread(cfg.yaw_range, cfg.yaw_steps), _spread(cfg.pitch_range, cfg.pitch_steps)
    yaw, pitch = torch.meshgrid(yaws, pitches, indexing="xy")
    _, intrinsics = split_label(input_camera.cpu())
    return pose_label(yaw.reshape(-1), pitch.reshape(-1), r.avg_camera_radius, r.avg_camera_pivot, intrinsics)
