"""The reconstruction loss L_rec of the paper's eq. (5): weighted L2 plus LPIPS (VGG), optionally masked."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from invert3d.inversion.config import LossConfig
from invert3d.metrics import LPIPS

LPIPS_MAX_SIDE = 256  # larger images are area-downsampled to 256^2 for LPIPS (as EG3D's and PTI's projectors do)


class ReconstructionLoss(nn.Module):
    """image, target [N, 3, H, W] in [-1, 1], optional mask [N, 1, H, W] in [0, 1] -> scalar loss.

    A mask multiplies both images before comparison (``L_rec(M G, M x)`` in the paper's notation).
    """

    def __init__(self, cfg: LossConfig):
        super().__init__()
        self.cfg = cfg
        self.lpips = LPIPS("vgg") if cfg.lpips > 0 else None

    def forward(self, image: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None:
            image, target = image * mask, target * mask
        loss = self.cfg.l2 * F.mse_loss(image, target)
        if self.lpips is not None:
            if image.shape[-1] > LPIPS_MAX_SIDE:
                image = F.adaptive_avg_pool2d(image, LPIPS_MAX_SIDE)
                target = F.adaptive_avg_pool2d(target, LPIPS_MAX_SIDE)
            loss = loss + self.cfg.lpips * self.lpips(image, target).mean()
        return loss
