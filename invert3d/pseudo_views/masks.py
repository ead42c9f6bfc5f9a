"""Masks of the pseudo views: erosion and softening of the visible mask M_v, and the difference map D.

All masks are [N, 1, H, W] float tensors in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def erode(mask: torch.Tensor, px: int) -> torch.Tensor:
    """Binary erosion by a (2 px + 1)^2 square; pixels outside the image count as covered."""
    if px <= 0:
        return mask
    return -F.max_pool2d(-mask, 2 * px + 1, stride=1, padding=px)


def dilate(mask: torch.Tensor, px: int) -> torch.Tensor:
    """Binary dilation by a (2 px + 1)^2 square; pixels outside the image count as uncovered."""
    if px <= 0:
        return mask
    return F.max_pool2d(mask, 2 * px + 1, stride=1, padding=px)


def gaussian_kernel(radius: int) -> torch.Tensor:
    """1-D Gaussian of 2 radius + 1 taps with OpenCV's default sigma for that size (0.3 (radius - 1) + 0.8)."""
    sigma = 0.3 * (radius - 1) + 0.8
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-x.square() / (2 * sigma**2))
    return k / k.sum()


def gaussian_blur(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Separable Gaussian blur with replicated borders."""
    if radius <= 0:
        return mask
    k = gaussian_kernel(radius).to(mask)
    x = F.pad(mask, (radius, radius, 0, 0), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, radius, radius), mode="replicate")
    return F.conv2d(x, k.view(1, 1, -1, 1))


def soften(mask: torch.Tensor, erode_px: int, radius: int) -> torch.Tensor:
    """Soft visible mask: M_v eroded by ``erode_px``, then a Gaussian ramp of ``radius`` px that stays inside
    the eroded mask (the blur is applied to the mask eroded by another ``radius``), so that the photo's texture
    is only ever used where it was warped."""
    inner = erode(mask, erode_px)
    return (gaussian_blur(erode(inner, radius), radius) * inner).clamp(0, 1)


def difference_mask(photo: torch.Tensor, render: torch.Tensor, theta: float) -> torch.Tensor:
    """Binarized difference map D [N, 1, H, W]: 1 where the per-pixel RGB distance between photo and render
    (colours in [0, 1]) is at most ``theta``, 0 where it is larger (out-of-distribution texture)."""
    distance = ((photo - render) / 2).square().sum(dim=1, keepdim=True).sqrt()
    return (distance <= theta).float()
