"""Functional building blocks of the StyleGAN2 backbone: FIR resampling, bias + activation, modulated convolution.

All functions work on NCHW tensors of any floating dtype. The resampling filter is the 4-tap binomial
[1, 3, 3, 1] as a normalized 4x4 outer product; upsampling by 2 inserts zeros and low-passes with that filter
scaled by 4, which is what StyleGAN2 calls ``upfirdn2d`` with ``up=2``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)


def binomial_filter(taps: tuple[float, ...] = (1.0, 3.0, 3.0, 1.0)) -> torch.Tensor:
    """Separable low-pass filter as a normalized 2D kernel [K, K] (float32, sums to 1)."""
    f = torch.tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


def bias_act(
    x: torch.Tensor,
    bias: torch.Tensor | None,
    activation: str = "linear",
    gain: float | None = None,
    clamp: float | None = None,
) -> torch.Tensor:
    """x + bias (broadcast over dim 1), then activation, then gain, then clamp to [-clamp, clamp].

    activation is 'linear' (default gain 1) or 'lrelu' (slope 0.2, default gain sqrt 2).
    """
    if bias is not None:
        shape = [1, -1] + [1] * (x.ndim - 2)
        x = x + bias.to(x.dtype).reshape(shape)
    if activation == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE)
        gain = LRELU_GAIN if gain is None else gain
    elif activation != "linear":
        raise ValueError(f"unknown activation {activation!r}")
    if gain is not None and gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def _depthwise(f: torch.Tensor, channels: int, dtype: torch.dtype) -> torch.Tensor:
    return f.to(dtype)[None, None].expand(channels, 1, *f.shape)


def upsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x FIR upsampling [N, C, H, W] -> [N, C, 2H, 2W] with a symmetric 4x4 filter ``f`` (gain 4).

    Zero insertion followed by the filter equals a stride-2 transposed depthwise convolution with
    padding 1 for a 4-tap kernel.
    """
    c = x.shape[1]
    k = _depthwise(f * 4, c, x.dtype)
    return F.conv_transpose2d(x, k, stride=2, padding=1, groups=c)


def filter2d(x: torch.Tensor, f: torch.Tensor, pad: int, gain: float = 1.0) -> torch.Tensor:
    """Depthwise FIR filtering with symmetric zero padding ``pad`` on every side."""
    c = x.shape[1]
    return F.conv2d(x, _depthwise(f * gain, c, x.dtype), padding=pad, groups=c)


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    up: bool = False,
    resample_filter: torch.Tensor | None = None,
    padding: int = 0,
) -> torch.Tensor:
    """StyleGAN2 modulated convolution, computed as one grouped convolution per batch.

    x: [N, I, H, W]; weight: [O, I, k, k]; styles: [N, I]. With ``up`` the output is [N, O, 2H, 2W]:
    a stride-2 transposed convolution followed by the 4x4 FIR low-pass (gain 4), StyleGAN2's ``up=2`` path.
    Float16 inputs are pre-normalized against overflow as in StyleGAN2.
    """
    n = x.shape[0]
    out_ch, in_ch, kh, kw = weight.shape
    if x.dtype == torch.float16 and demodulate:
        weight = weight * (1 / math.sqrt(in_ch * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
    w = weight.unsqueeze(0) * styles.reshape(n, 1, in_ch, 1, 1)  # [N, O, I, k, k]
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]
        w = w * dcoefs.reshape(n, out_ch, 1, 1, 1)
    x = x.reshape(1, n * in_ch, *x.shape[2:])
    if not up:
        w = w.reshape(n * out_ch, in_ch, kh, kw).to(x.dtype)
        y = F.conv2d(x, w, padding=padding, groups=n)
        return y.reshape(n, out_ch, *y.shape[2:])
    # Transposed convolution wants [N*I, O, k, k]; the result is [*, 2H+1, 2W+1] for a 3x3 kernel, and the
    # 4x4 low-pass with padding 1 brings it to exactly [2H, 2W].
    w = w.transpose(1, 2).reshape(n * in_ch, out_ch, kh, kw).to(x.dtype)
    y = F.conv_transpose2d(x, w, stride=2, groups=n)
    y = y.reshape(n, out_ch, *y.shape[2:])
    return filter2d(y, resample_filter, pad=(kw - 1) // 2, gain=4.0)
