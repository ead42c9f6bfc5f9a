"""Pseudo views: visible part, occluded part and their blend, as one saved bundle."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from invert3d.config import PseudoViewConfig
from invert3d.files import atomic_file
from invert3d.pseudo_views.blend import blend_gaussian, blend_poisson, fill_bilinear
from invert3d.pseudo_views.masks import erode, soften
from invert3d.pseudo_views.visible import VisiblePart


@dataclass
class PseudoViews:
    """n pseudo views at resolution H = W; images in [-1, 1], masks in [0, 1]."""

    cameras: torch.Tensor  # [n, 25]
    visible: torch.Tensor  # [n, 3, H, W] V_i (photo texture where visible_mask)
    visible_mask: torch.Tensor  # [n, 1, H, W] M_v before erosion
    occluded: torch.Tensor  # [n, 3, H, W] O_i
    weight: torch.Tensor  # [n, 1, H, W] the M_v of eq. (5) (eroded, softened); M_o = 1 - weight
    target: torch.Tensor  # [n, 3, H, W] the blended pseudo view

    def __len__(self) -> int:
        return len(self.cameras)

    def save(self, path: Path) -> None:
        with atomic_file(path) as tmp:
            save_file({f.name: getattr(self, f.name).contiguous().cpu() for f in fields(self)}, str(tmp))

    @staticmethod
    def load(path: Path, device: torch.device | str = "cpu") -> "PseudoViews":
        data = load_file(str(path))
        return PseudoViews(**{f.name: data[f.name].to(device) for f in fields(PseudoViews)})


def combine(cameras: torch.Tensor, visible: VisiblePart, occluded: torch.Tensor, cfg: PseudoViewConfig,
            no_occluded: bool = False, no_visible: bool = False) -> PseudoViews:
    """Blend V_i and O_i (``cfg.blend``: 'poisson' or 'gaussian'). Ablations: ``no_occluded`` replaces O_i by a
    bilinear fill of V_i inside the coarse mesh's silhouette and the photo's background colour outside it (no
    generator); ``no_visible`` uses O_i everywhere (generated texture in the visible part too)."""
    size = visible.image.shape[-1]
    eroded = erode(visible.mask, cfg.erode_px)
    if no_occluded:
        filled = torch.cat([fill_bilinear(v[None], m[None]) for v, m in zip(visible.image, eroded)])
        occluded = torch.where(visible.covered > 0.5, filled, visible.background.view(1, 3, 1, 1))
    if cfg.blend == "gaussian":
        weight = soften(visible.mask, cfg.erode_px, max(1, round(cfg.gaussian_radius * size / 512)))
        target = blend_gaussian(visible.image, occluded, weight)
    else:
        weight = eroded
        target = blend_poisson(visible.image, occluded, eroded)
    if no_visible:
        target = occluded.clone()  # its own storage: the bundle is saved as separate tensors
    return PseudoViews(cameras.cpu(), visible.image, visible.mask, occluded.cpu(), weight, target)
