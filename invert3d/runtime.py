"""Process-level settings: the allocator tuning that makes large CPU backward passes fast, devices, seeds."""

from __future__ import annotations

import ctypes
import os
import platform

import torch

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_tuned = False


def tune_allocator() -> bool:
    """Stop glibc from returning large blocks to the OS after every tensor is freed.

    By default glibc serves each large tensor with a fresh ``mmap`` and gives it back on free, so every training
    step page-faults hundreds of MB in again; big torch backward passes run 2-3x slower. Raising the mmap and
    trim thresholds (the same effect as ``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:trim_threshold=...``,
    but applied from inside the process) keeps that memory in the heap for reuse. The process keeps its peak
    memory until exit. Set ``INVERT3D_NO_MALLOC_TUNING=1`` to opt out. Returns True when applied.
    """
    global _tuned
    if _tuned or os.environ.get("INVERT3D_NO_MALLOC_TUNING") or platform.system() != "Linux":
        return _tuned
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1) == 1
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        ok = False
    _tuned = ok
    return ok


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else the CPU; anything else is passed to ``torch.device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        from invert3d.errors import Invert3dError

        raise Invert3dError("CUDA was requested but no GPU is available")
    return device


def seeded_latent(seed: int, z_dim: int) -> torch.Tensor:
    """EG3D's latent for a seed: ``np.random.RandomState(seed).randn(1, z_dim)`` as float32 [1, z_dim]."""
    import numpy as np

    return torch.from_numpy(np.random.RandomState(seed).randn(1, z_dim)).float()
