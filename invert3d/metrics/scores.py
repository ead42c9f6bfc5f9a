"""The image scores every report uses, by name, from one place (LPIPS networks built once per process)."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import torch

from invert3d.metrics.image import ms_ssim, psnr, ssim
from invert3d.metrics.lpips import LPIPS

IMAGE_SCORES = ("psnr", "ssim", "ms_ssim", "lpips_alex", "lpips_vgg")


@lru_cache(maxsize=None)
def lpips_net(net: str) -> LPIPS:
    """The LPIPS network 'alex' or 'vgg' (CPU, frozen), shared by every scorer."""
    return LPIPS(net)


def _scorer(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if name.startswith("lpips_"):
        return lpips_net(name.removeprefix("lpips_"))
    return {"psnr": psnr, "ssim": ssim, "ms_ssim": ms_ssim}[name]


@torch.no_grad()
def image_scores(a: torch.Tensor, b: torch.Tensor, names: Sequence[str] = IMAGE_SCORES) -> dict[str, torch.Tensor]:
    """Scores [N] by name of images a against references b, both [N, 3, H, W] in [-1, 1] (scored in float32
    on the CPU): PSNR (dB), SSIM, MS-SSIM, LPIPS with AlexNet or VGG."""
    a, b = a.float().cpu(), b.float().cpu()
    return {name: _scorer(name)(a, b) for name in names}
