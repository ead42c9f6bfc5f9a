"""The pseudo cameras p_1..p_n: a yaw x pitch grid of look-at cameras around the generator's pivot."""

from __future__ import annotations

import torch

from invert3d.cameras import CameraRig
from invert3d.config import PseudoViewConfig


def _spread(half_range: float, steps: int) -> torch.Tensor:
    """``steps`` angles evenly over [-half_range, half_range] (one step: frontal)."""
    return torch.linspace(-half_range, half_range, steps) if steps > 1 else torch.zeros(1)


def pseudo_cameras(rig: CameraRig, cfg: PseudoViewConfig) -> torch.Tensor:
    """Labels [yaw_steps * pitch_steps, 25] (rows = pitch, columns = yaw) of the rig (the generator's camera
    sphere, the photo's lens)."""
    return rig.grid(_spread(cfg.yaw_range, cfg.yaw_steps), _spread(cfg.pitch_range, cfg.pitch_steps))
