"""The reconstruction loss L_rec of the paper's eq. (5): weighted L2 plus LPIPS (VGG), optionally masked.

Targets are fixed during an optimization, so their LPIPS features are computed once (``prepare``) and each step
only runs the backbone on the generated images. Several terms (the photo, M_v V_i, M_o O_i) are scored as one
batch.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from invert3d.config import LossConfig
from invert3d.metrics import LPIPS
from invert3d.runtime import has_fast_bf16

LPIPS_MAX_SIDE = 256  # without LossConfig.lpips_side, larger images are area-downsampled to 256^2 for LPIPS


@dataclass
class LossTarget:
    """K targets of L_rec: images [K, 3, H, W] in [-1, 1] already multiplied by their masks [K, 1, H, W] (or
    None: unmasked), and the LPIPS features of those images (None when LPIPS is off)."""

    image: torch.Tensor
    mask: torch.Tensor | None
    features: list[torch.Tensor] | None

    @staticmethod
    def cat(targets: list["LossTarget"]) -> "LossTarget":
        """Stack targets into one batch (masks: missing ones become all-ones)."""
        if all(t.mask is None for t in targets):
            mask = None
        else:
            mask = torch.cat([t.mask if t.mask is not None else torch.ones_like(t.image[:, :1]) for t in targets])
        features = None
        if targets[0].features is not None:
            features = [torch.cat(level) for level in zip(*(t.features for t in targets))]
        return LossTarget(torch.cat([t.image for t in targets]), mask, features)


class ReconstructionLoss(nn.Module):
    """L_rec(M G, M x) per item: ``loss(images [K, 3, H, W], prepare(targets, masks))`` -> [K].

    ``cfg.lpips_precision`` 'bfloat16' runs the LPIPS backbone under bf16 autocast (2x faster on CPUs with
    AMX/AVX512-BF16 and on recent GPUs); 'auto' picks it where the hardware has fast bf16.
    """

    def __init__(self, cfg: LossConfig, device: torch.device | str = "cpu"):
        super().__init__()
        self.cfg = cfg
        self.lpips = LPIPS("vgg").to(device) if cfg.lpips > 0 else None
        device = torch.device(device)
        bf16 = cfg.lpips_precision == "bfloat16" or (cfg.lpips_precision == "auto" and has_fast_bf16(device))
        self.precision = "none" if self.lpips is None else ("bfloat16" if bf16 else "float32")
        if self.precision == "bfloat16":  # cast once what autocast would cast at every call (the same values)
            self.lpips.convs.to(torch.bfloat16)
        self._device_type = device.type

    def _lpips_features(self, images: torch.Tensor) -> list[torch.Tensor]:
        side = self.cfg.lpips_side or min(images.shape[-1], LPIPS_MAX_SIDE)
        if images.shape[-1] > side:
            images = F.adaptive_avg_pool2d(images, side)
        elif images.shape[-1] < side:
            images = F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False)
        autocast = (torch.autocast(self._device_type, dtype=torch.bfloat16) if self.precision == "bfloat16"
                    else nullcontext())
        with autocast:
            return self.lpips.features(images)

    @torch.no_grad()
    def prepare(self, target: torch.Tensor, mask: torch.Tensor | None = None) -> LossTarget:
        """target [K, 3, H, W] in [-1, 1], mask [K, 1, H, W] in [0, 1] or None -> a reusable LossTarget."""
        image = target * mask if mask is not None else target
        features = self._lpips_features(image) if self.lpips is not None else None
        return LossTarget(image, mask, features)

    def terms(self, image: torch.Tensor, target: LossTarget) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The unweighted terms of image [K, 3, H, W] against K prepared targets: mean squared error [K] and
        LPIPS distance [K] (None when LPIPS is off)."""
        if target.mask is not None:
            image = image * target.mask
        l2 = (image - target.image).square().mean(dim=(1, 2, 3))
        if self.lpips is None:
            return l2, None
        return l2, self.lpips.distance(self._lpips_features(image), target.features)

    def weigh(self, l2: torch.Tensor, lpips: torch.Tensor | None) -> torch.Tensor:
        """L_rec [K] from its ``terms``."""
        return self.cfg.l2 * l2 + (self.cfg.lpips * lpips if lpips is not None else 0)

    def forward(self, image: torch.Tensor, target: LossTarget) -> torch.Tensor:
        """image [K, 3, H, W] (differentiable) against K prepared targets -> losses [K]."""
        return self.weigh(*self.terms(image, target))
