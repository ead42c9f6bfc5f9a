"""Process-level settings: the allocator tuning that makes large CPU backward passes fast, devices, seeds."""

from __future__ import annotations

import ctypes
import os
import platform

import torch

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_tuned = False


def tune_runtime() -> bool:
    """Process-wide CPU settings that make big generators fast; the ``invert3d`` command applies them itself.

    1. glibc by default serves each large tensor with a fresh ``mmap`` and unmaps it on free, so every step
       page-faults hundreds of MB in again and big backward passes run 2-3x slower. Raising the mmap threshold
       and turning trimming off (the effect of ``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:
       trim_threshold=...``, applied from inside the process) keeps that memory in the heap for reuse; the
       process then holds its peak memory until exit.
    2. Denormal floats are flushed to zero: the decoder's softplus and the compositing's exp underflow into
       denormals for large inputs, which makes them up to 6x slower on x86 (values below 1e-38 only).

    Set ``INVERT3D_NO_MALLOC_TUNING=1`` to leave the allocator alone. Returns True when the allocator was tuned.
    """
    global _tuned
    torch.set_flush_denormal(True)
    if _tuned or os.environ.get("INVERT3D_NO_MALLOC_TUNING") or platform.system() != "Linux":
        return _tuned
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, -1) == 1
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        ok = False
    _tuned = ok
    return ok


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else the CPU; 'cpu', 'cuda' and 'cuda:N' as torch spells them. Anything
    else, or a GPU that is not there, raises ``Invert3dError`` saying what is available."""
    from invert3d.errors import Invert3dError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise Invert3dError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise Invert3dError(f"--device {name}: no GPU is available here; use --device cpu")
        if device.index is not None and device.index >= count:
            raise Invert3dError(f"--device {name}: there are {count} GPU(s), cuda:0 to cuda:{count - 1}")
    return device


def seeded_latent(seed: int, z_dim: int) -> torch.Tensor:
    """EG3D's latent for a seed: ``np.random.RandomState(seed).randn(1, z_dim)`` as float32 [1, z_dim]."""
    import numpy as np

    return torch.from_numpy(np.random.RandomState(seed).randn(1, z_dim)).float()


def peak_memory_mb(device: torch.device | str = "cpu", reset: bool = True) -> float | None:
    """Peak memory since the last reset, in MiB: CUDA allocations on a GPU, else the process's peak resident set
    (Linux VmHWM, reset through /proc/self/clear_refs). None where it cannot be read."""
    if torch.device(device).type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        if reset:
            torch.cuda.reset_peak_memory_stats(device)
        return round(peak, 1)
    try:
        with open("/proc/self/status") as f:
            peak_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        if reset:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
    except (OSError, StopIteration, ValueError):
        return None
    return round(peak_kb / 1024, 1)


def has_fast_bf16(device: torch.device | str = "cpu") -> bool:
    """Whether bf16 matrix maths is native on ``device``: a CUDA GPU of compute capability 8 or later (Ampere+;
    older ones emulate it), or an x86 CPU with AMX-BF16 or AVX512-BF16 (read from /proc/cpuinfo; False where that
    cannot be read)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
