"""Benchmark method names -> inversion settings: 'pti', 'hfgi3d', and 'hfgi3d/<variant>' for the paper's
ablations and the sweeps that chose our defaults.

Variants: ``no-occluded``, ``no-visible``, ``density-reg`` (the ablations), ``gaussian`` (blending),
``blended-loss`` (one unmasked L_rec on the blended pseudo view, as the authors' code does, instead of eq. (5)'s
two masked ones), ``theta=T`` (difference-map threshold), ``views=YxP`` (pseudo cameras: Y yaws x P pitches),
``spread=YAWxPITCH`` (their range in rad either side of frontal), ``pseudo-weight=W`` (the pseudo view's loss
weight, the photo's being 1).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from invert3d.benchmark.suites import suite_config
from invert3d.inversion.config import InversionConfig

FIXED_VARIANTS: dict[str, Callable[[InversionConfig], InversionConfig]] = {
    "no-occluded": lambda cfg: replace(cfg, no_occluded=True),
    "no-visible": lambda cfg: replace(cfg, no_visible=True),
    "density-reg": lambda cfg: replace(cfg, density_reg=True),
    "gaussian": lambda cfg: replace(cfg, pseudo=replace(cfg.pseudo, blend="gaussian")),
    "blended-loss": lambda cfg: replace(cfg, tuning=replace(cfg.tuning, pseudo_loss="blended")),
}
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
SWEEPS: dict[str, tuple[str, Callable[[InversionConfig, re.Match], InversionConfig]]] = {
    "theta": (rf"theta={_NUMBER}",
              lambda cfg, m: replace(cfg, pseudo=replace(cfg.pseudo, theta=float(m[1])))),
    "views": (r"views=(\d+)x(\d+)",
              lambda cfg, m: replace(cfg, pseudo=replace(cfg.pseudo, yaw_steps=int(m[1]), pitch_steps=int(m[2])))),
    "spread": (rf"spread={_NUMBER}x{_NUMBER}",
               lambda cfg, m: replace(cfg, pseudo=replace(cfg.pseudo, yaw_range=float(m[1]),
                                                          pitch_range=float(m[2])))),
    "pseudo-weight": (rf"pseudo-weight={_NUMBER}",
                      lambda cfg, m: replace(cfg, tuning=replace(cfg.tuning, pseudo_weight=float(m[1])))),
}
MAX_VIEWS, MAX_YAW, MAX_PITCH = 120, 1.2, 0.6  # sweep limits: beyond them runs take hours or leave the face
MAX_PSEUDO_WEIGHT = 10.0
METHOD_HELP = ("pti, hfgi3d, hfgi3d/" + ", hfgi3d/".join(FIXED_VARIANTS)
               + ", hfgi3d/theta=T, hfgi3d/views=YxP, hfgi3d/spread=YAWxPITCH, hfgi3d/pseudo-weight=W")


def method_config(suite: str, name: str) -> InversionConfig:
    """A method name -> the InversionConfig it runs with in ``suite``; ValueError for an unknown name."""
    base, _, variant = name.partition("/")
    if base not in ("pti", "hfgi3d") or (variant and base != "hfgi3d"):
        raise ValueError(f"unknown method {name!r}; choose from {METHOD_HELP}")
    cfg = suite_config(suite, base)
    if not variant:
        return cfg
    if variant in FIXED_VARIANTS:
        return FIXED_VARIANTS[variant](cfg)
    for pattern, apply in SWEEPS.values():
        match = re.fullmatch(pattern, variant)
        if match:
            cfg = apply(cfg, match)
            p = cfg.pseudo
            if not (1 <= p.yaw_steps * p.pitch_steps <= MAX_VIEWS and p.yaw_steps >= 1 and p.pitch_steps >= 1):
                raise ValueError(f"{name}: between 1 and {MAX_VIEWS} pseudo views")
            if not (p.yaw_range <= MAX_YAW and p.pitch_range <= MAX_PITCH and 0 <= p.theta <= 2
                    and cfg.tuning.pseudo_weight <= MAX_PSEUDO_WEIGHT):
                raise ValueError(f"{name}: out of range (yaw <= {MAX_YAW}, pitch <= {MAX_PITCH} rad, theta <= 2, "
                                 f"pseudo weight <= {MAX_PSEUDO_WEIGHT:g})")
            return cfg
    raise ValueError(f"unknown method {name!r}; choose from {METHOD_HELP}")
