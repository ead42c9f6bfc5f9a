"""Functional building blocks of the StyleGAN2 backbone: FIR resampling and modulated convolution.

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


def filter2d(x: torch.Tensor, f: torch.Tensor, pad: int, gain: float = 1.0, bias: torch.Tensor | None = None
             ) -> torch.Tensor:
    """Depthwise FIR filtering with symmetric zero padding ``pad`` on every side, plus an optional bias [C]."""
    c = x.shape[1]
    return F.conv2d(x, _depthwise(f * gain, c, x.dtype), bias=bias, padding=pad, groups=c)


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    up: bool = False,
    resample_filter: torch.Tensor | None = None,
    padding: int = 0,
    bias: torch.Tensor | None = None,
    gain: float = 1.0,
) -> torch.Tensor:
    """StyleGAN2 modulated convolution, then ``+ bias`` and ``* gain``: gain * (conv(x, w * s) + bias).

    x: [N, I, H, W]; weight: [O, I, k, k]; styles: [N, I]; bias: [O]. With ``up`` the output is [N, O, 2H, 2W]:
    a stride-2 transposed convolution followed by the 4x4 FIR low-pass (gain 4), StyleGAN2's ``up=2`` path.
    A single sample folds styles, demodulation and ``gain`` into the weights and lets the convolution add the
    bias (StyleGAN2's fused path, one pass over the activations); a batch scales the activations before and
    after one shared-weight convolution instead, which keeps channels-last inputs channels-last.
    Float16 inputs are pre-normalized against overflow as in StyleGAN2.
    """
    n = x.shape[0]
    out_ch, in_ch, kh, kw = weight.shape
    if x.dtype == torch.float16 and demodulate:
        weight = weight * (1 / math.sqrt(in_ch * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
    fused = n == 1
    out_scale = torch.full([n, out_ch], gain, dtype=styles.dtype, device=styles.device)
    if demodulate or fused:
        w = weight.unsqueeze(0) * styles.reshape(n, 1, in_ch, 1, 1)  # [N, O, I, k, k]
        if demodulate:
            out_scale = out_scale * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]
    if fused:
        w = (w * out_scale.reshape(1, out_ch, 1, 1, 1)).squeeze(0)  # a view: its backward copies nothing
        b = None if bias is None else (bias * gain).to(x.dtype)
    else:
        x = x * styles.to(x.dtype).reshape(n, in_ch, 1, 1)
        w, b = weight, None
    w = w.to(x.dtype)
    if up:
        # [*, 2H+1, 2W+1] for a 3x3 kernel; the 4x4 low-pass with padding 1 brings it to exactly [2H, 2W].
        y = F.conv_transpose2d(x, w.transpose(0, 1), stride=2)
        y = filter2d(y, resample_filter, pad=(kw - 1) // 2, gain=4.0, bias=b)
    else:
        y = F.conv2d(x, w, bias=b, padding=padding)
    if not fused:
        y = y * out_scale.to(y.dtype).reshape(n, out_ch, 1, 1)
        if bias is not None:
            y = y + (bias * gain).to(y.dtype).reshape(1, out_ch, 1, 1)
    return y


def leaky_relu_clamp(x: torch.Tensor, clamp: float | None = None) -> torch.Tensor:
    """clamp(leaky_relu(x, 0.2), -clamp, clamp), in place on ``x`` (a fresh activation), with a cheap backward.

    Clamping is StyleGAN2's guard against float16 overflow and almost never binds in float32, so the forward
    checks once whether any value reaches the bound and the backward applies the clamp's mask only then; the
    leaky-ReLU gradient is computed from the output. Together this halves the element-wise backward work.
    """
    return _LeakyReLUClamp.apply(x, clamp)


class _LeakyReLUClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, clamp: float | None) -> torch.Tensor:
        y = F.leaky_relu_(x, LRELU_SLOPE)
        ctx.mark_dirty(x)
        ctx.clamp = None
        if clamp is not None:
            # Reduce over the storage order: a channels-last tensor viewed as NHWC is flat for free, and
            # torch's reductions over strided (channels-last) NCHW views are 20x slower.
            flat = y.permute(0, 2, 3, 1) if y.ndim == 4 and y.is_contiguous(memory_format=torch.channels_last) else y
            lo, hi = torch.aminmax(flat.reshape(-1))
            if lo.item() <= -clamp or hi.item() >= clamp:
                y.clamp_(-clamp, clamp)
                ctx.clamp = clamp
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (y,) = ctx.saved_tensors
        grad = torch.ops.aten.leaky_relu_backward(grad, y, LRELU_SLOPE, True)
        if ctx.clamp is not None:
            grad = grad * (y.abs() < ctx.clamp)
        return grad, None
