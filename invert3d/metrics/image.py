"""Full-reference image metrics on batches [N, 3, H, W] in [-1, 1]: PSNR, SSIM and MS-SSIM, each returning [N]."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, images mapped to [0, 1] (peak 1)."""
    mse = ((a.float() - b.float()) / 2).square().mean(dim=(1, 2, 3))
    return -10 * torch.log10(mse.clamp_min(1e-10))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-x.square() / (2 * sigma**2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, images in
    [0, 1], valid windows only, averaged over channels (the scikit-image / MATLAB reference settings)."""
    return _ssim_parts((a.float() + 1) / 2, (b.float() + 1) / 2)[0]


MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _ssim_parts(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure term [N] of images in [0, 1] (Gaussian 11x11, sigma 1.5, valid)."""
    c = x.shape[1]
    g = _gaussian_window().to(x.device)
    wx = g.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    wy = g.view(1, 1, -1, 1).repeat(c, 1, 1, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, wx, groups=c), wy, groups=c)

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx.square()
    syy = blur(y * y) - my.square()
    sxy = blur(x * y) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    s = (2 * mx * my + c1) / (mx.square() + my.square() + c1) * cs
    return s.mean(dim=(1, 2, 3)), cs.mean(dim=(1, 2, 3))


def ms_ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Multi-scale SSIM (Wang et al. 2003) with the standard five weights; images smaller than 176 px get only the
    scales whose side still holds the 11x11 window, with the weights renormalized."""
    x, y = (a.float() + 1) / 2, (b.float() + 1) / 2
    scales = 1
    while scales < len(MS_SSIM_WEIGHTS) and min(x.shape[-2:]) // 2**scales >= 11:
        scales += 1
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales])
    weights = weights / weights.sum()
    values = []
    for i in range(scales):
        s, cs = _ssim_parts(x, y)
        values.append(s.clamp_min(0) if i == scales - 1 else cs.clamp_min(0))
        x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return torch.stack([v ** w for v, w in zip(values, weights)]).prod(dim=0)
