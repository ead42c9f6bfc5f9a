"""The latent parameter vector of a synthetic head and the subject it determines.

A subject is drawn as z ~ N(0, I) in R^Z (Z = ``LATENT_DIM``); every shape and appearance parameter is a fixed
monotone function of one coordinate (its normal CDF mapped onto a range), so z fully determines the subject and
the same z is the latent a generator trained on this world is given. Fine texture (freckles, hair strands) follows
fixed patterns in the head's own frame, scaled by the latent, so it is a learnable function of z. Lengths are in EG3D world units (the
triplane box is [-0.5, 0.5]^3); colours are linear RGB in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# (name, low, high): parameter i = low + (high - low) * Phi(z_i).
PARAMETERS: tuple[tuple[str, float, float], ...] = (
    # shape
    ("skull_width", 0.265, 0.315),
    ("skull_height", 0.31, 0.36),
    ("skull_depth", 0.30, 0.35),
    ("jaw_width", 0.17, 0.24),
    ("jaw_drop", 0.0, 0.06),
    ("chin_forward", 0.0, 0.04),
    ("cheek_fullness", 0.0, 1.0),
    ("nose_length", 0.075, 0.12),
    ("nose_width", 0.022, 0.040),
    ("nose_protrusion", 0.035, 0.075),
    ("ear_size", 0.05, 0.075),
    ("ear_protrusion", 0.0, 0.035),
    ("eye_spacing", 0.085, 0.115),
    ("eye_size", 0.026, 0.034),
    ("eye_height", 0.03, 0.075),
    ("lip_width", 0.055, 0.09),
    ("lip_fullness", 0.011, 0.022),
    ("mouth_height", -0.19, -0.145),
    ("neck_width", 0.105, 0.15),
    ("hair_volume", 0.0, 1.0),
    ("hair_length", 0.0, 1.0),
    ("hairline", 0.14, 0.24),
    # appearance
    ("skin_tone", 0.0, 1.0),
    ("skin_warmth", -1.0, 1.0),
    ("skin_variation", 0.0, 1.0),
    ("freckles", 0.0, 1.0),
    ("blemishes", 0.0, 1.0),
    ("brow_thickness", 0.012, 0.026),
    ("brow_arch", 0.0, 0.02),
    ("brow_darkness", 0.3, 0.9),
    ("iris_hue", 0.0, 1.0),
    ("iris_lightness", 0.15, 0.7),
    ("lip_redness", 0.2, 1.0),
    ("lip_darkness", 0.0, 1.0),
    ("hair_tone", 0.0, 1.0),
    ("hair_redness", 0.0, 1.0),
    ("hair_strand_scale", 0.6, 1.4),
)
LATENT_DIM = len(PARAMETERS)
PARAMETER_NAMES = tuple(name for name, _, _ in PARAMETERS)


def _lerp3(a: tuple[float, float, float], b: tuple[float, float, float], t: float) -> torch.Tensor:
    return torch.tensor(a) * (1 - t) + torch.tensor(b) * t


def _palette(stops: list[tuple[float, float, float]], t: float) -> torch.Tensor:
    """Piecewise-linear colour ramp through ``stops`` at t in [0, 1]."""
    x = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(x), len(stops) - 2)
    return _lerp3(stops[i], stops[i + 1], x - i)


SKIN_STOPS = [(0.95, 0.80, 0.70), (0.87, 0.67, 0.53), (0.72, 0.50, 0.36), (0.52, 0.34, 0.22), (0.30, 0.19, 0.12)]
HAIR_STOPS = [(0.93, 0.82, 0.58), (0.62, 0.45, 0.26), (0.36, 0.23, 0.13), (0.17, 0.11, 0.07), (0.05, 0.04, 0.04)]
IRIS_STOPS = [(0.25, 0.45, 0.75), (0.35, 0.55, 0.40), (0.45, 0.32, 0.15), (0.25, 0.15, 0.08)]


@dataclass(frozen=True)
class HeadParams:
    """One subject: named scalars plus derived colours (each [3] in [0, 1])."""

    values: dict[str, float]
    skin: torch.Tensor
    hair: torch.Tensor
    brow: torch.Tensor
    iris: torch.Tensor
    lips: torch.Tensor

    def __getattr__(self, name: str) -> float:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def subject_from_latent(z: torch.Tensor) -> HeadParams:
    """z [LATENT_DIM] (any real values; N(0, I) is the subject distribution) -> the subject's parameters."""
    z = torch.as_tensor(z, dtype=torch.float64).reshape(-1)
    if z.numel() != LATENT_DIM:
        raise ValueError(f"a synthetic subject has {LATENT_DIM} latent values, got {z.numel()}")
    u = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    v = {name: float(lo + (hi - lo) * u[i]) for i, (name, lo, hi) in enumerate(PARAMETERS)}
    skin = _palette(SKIN_STOPS, v["skin_tone"]) * torch.tensor([1 + 0.04 * v["skin_warmth"], 1.0,
                                                                1 - 0.05 * v["skin_warmth"]])
    hair = _palette(HAIR_STOPS, v["hair_tone"])
    hair = hair + v["hair_redness"] * torch.tensor([0.12, 0.0, -0.04]) * (1 - abs(2 * v["hair_tone"] - 1))
    brow = hair * (1 - v["brow_darkness"]) + skin * 0.15 * (1 - v["brow_darkness"])
    iris = _palette(IRIS_STOPS, v["iris_hue"]) * (0.5 + v["iris_lightness"])
    lips = skin * (1 - 0.35 * v["lip_darkness"]) * torch.tensor([1.0, 0.72, 0.72]) + \
        torch.tensor([0.18, 0.0, 0.02]) * v["lip_redness"]
    clamp = lambda c: c.clamp(0, 1).float()  # noqa: E731
    return HeadParams(v, clamp(skin), clamp(hair), clamp(brow), clamp(iris), clamp(lips))


def sample_latents(count: int, seed: int) -> torch.Tensor:
    """[count, LATENT_DIM] subject latents, reproducible from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(count, LATENT_DIM, generator=g)

