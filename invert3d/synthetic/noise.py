"""Deterministic 3D procedural noise on point batches [P, 3] (torch, float32): value noise and spot fields."""

from __future__ import annotations

import torch


def hash3(cells: torch.Tensor, salt: float = 0.0) -> torch.Tensor:
    """Pseudo-random value in [0, 1) per integer lattice cell [..., 3] (float coordinates of integers)."""
    d = cells[..., 0] * 127.1 + cells[..., 1] * 311.7 + cells[..., 2] * 74.7 + salt * 19.19
    return torch.frac(torch.sin(d) * 43758.5453).abs()


def value_noise(points: torch.Tensor, frequency: float, salt: float = 0.0) -> torch.Tensor:
    """Smooth noise in [0, 1] at points [P, 3]: trilinear interpolation of lattice hashes, smoothstep weights."""
    p = points * frequency
    cell = torch.floor(p)
    f = p - cell
    f = f * f * (3 - 2 * f)
    out = torch.zeros(points.shape[0], dtype=points.dtype, device=points.device)
    for dx in (0, 1):
        wx = f[:, 0] if dx else 1 - f[:, 0]
        for dy in (0, 1):
            wy = f[:, 1] if dy else 1 - f[:, 1]
            for dz in (0, 1):
                wz = f[:, 2] if dz else 1 - f[:, 2]
                corner = cell + torch.tensor([dx, dy, dz], dtype=points.dtype, device=points.device)
                out = out + wx * wy * wz * hash3(corner, salt)
    return out


def fractal_noise(points: torch.Tensor, frequency: float, octaves: int = 3, salt: float = 0.0) -> torch.Tensor:
    """Sum of value-noise octaves (each twice the frequency, half the weight), normalized to [0, 1]."""
    total, weight, norm = 0.0, 1.0, 0.0
    for o in range(octaves):
        total = total + weight * value_noise(points, frequency * 2 ** o, salt + 7.3 * o)
        norm += weight
        weight *= 0.5
    return total / norm


def spots(points: torch.Tensor, frequency: float, density: float, radius: float, salt: float = 0.0) -> torch.Tensor:
    """Soft round spots in [0, 1]: at most one per lattice cell of size 1/frequency, present with probability
    ``density``, radius ``radius`` in cell units (< 0.25 so a spot never crosses its cell)."""
    p = points * frequency
    cell = torch.floor(p)
    centre = cell + 0.25 + 0.5 * torch.stack([hash3(cell, salt + k) for k in (1.0, 2.0, 3.0)], dim=-1)
    dist = (p - centre).norm(dim=-1)
    present = (hash3(cell, salt + 4.0) < density).to(points.dtype)
    size = radius * (0.6 + 0.8 * hash3(cell, salt + 5.0))
    return present * torch.clamp(1.5 - dist / size, 0, 1).clamp(max=1.0)
