"""Benchmark method names -> inversion settings: 'pti', 'hfgi3d', and either with variants after a '/'.

A variant is any setting, ``KEY=VALUE`` as ``--set`` takes it (``hfgi3d/loss.lpips=0.1``), several joined by '/'
(``hfgi3d/loss.lpips=0.1/tuning.planes_lr=0.01``), or one of the names kept for the paper's ablations and the
sweeps that chose our defaults: ``no-occluded``, ``no-visible``, ``density-reg`` (the ablations), ``gaussian``
(blending), ``blended-loss`` (one unmasked L_rec on the blended pseudo view, as the authors' code does),
``theta=T`` (difference-map threshold), ``views=YxP`` (pseudo cameras: Y yaws x P pitches),
``spread=YAWxPITCH`` (their range in rad either side of frontal), ``pseudo-weight=W`` (the pseudo view's loss
weight, the photo's being 1).
"""

from __future__ import annotations

from invert3d.benchmark.suites import suite_config
from invert3d.config import InversionConfig
from invert3d.settings import with_assignments

FIXED_VARIANTS: dict[str, list[str]] = {
    "no-occluded": ["no_occluded=true"],
    "no-visible": ["no_visible=true"],
    "density-reg": ["density_reg=true"],
    "gaussian": ["pseudo.blend=gaussian"],
    "blended-loss": ["tuning.pseudo_loss=blended"],
}
ABLATIONS = ("no-occluded", "no-visible", "density-reg")  # the paper's; the other fixed variants are settings
# Short names of swept settings: name -> the settings its value(s) go to ('x' separates two values).
SHORTHANDS: dict[str, tuple[str, ...]] = {
    "theta": ("pseudo.theta",),
    "pseudo-weight": ("tuning.pseudo_weight",),
    "views": ("pseudo.yaw_steps", "pseudo.pitch_steps"),
    "spread": ("pseudo.yaw_range", "pseudo.pitch_range"),
}
METHOD_HELP = ("pti, hfgi3d, either with /KEY=VALUE settings (hfgi3d/loss.lpips=0.1), hfgi3d/"
               + ", hfgi3d/".join(FIXED_VARIANTS)
               + ", hfgi3d/theta=T, hfgi3d/views=YxP, hfgi3d/spread=YAWxPITCH, hfgi3d/pseudo-weight=W")


def variant_settings(part: str) -> list[str]:
    """One variant of a method name -> the KEY=VALUE settings it stands for."""
    if part in FIXED_VARIANTS:
        return FIXED_VARIANTS[part]
    name, sep, value = part.partition("=")
    if not sep:
        raise ValueError(f"unknown variant {part!r}")
    keys = SHORTHANDS.get(name)
    if keys is None:
        return [part]
    values = value.split("x") if len(keys) > 1 else [value]
    if len(values) != len(keys):  # the values' types and ranges are checked as settings
        raise ValueError(f"bad variant {part!r}: {name}= takes {'x'.join(['N'] * len(keys))}")
    return [f"{key}={v}" for key, v in zip(keys, values)]


def method_config(suite: str, name: str, settings: list[str] | tuple[str, ...] = ()) -> InversionConfig:
    """A method name -> the InversionConfig it runs with in ``suite``: the suite's settings, then ``settings``
    (KEY=VALUE, the whole benchmark's), then the name's variants. ValueError for an unknown name or an invalid
    setting."""
    base, *parts = name.split("/")
    if base not in ("pti", "hfgi3d"):
        raise ValueError(f"unknown method {name!r}; choose from {METHOD_HELP}")
    try:
        assignments = [s for part in parts for s in variant_settings(part)]
        return with_assignments(suite_config(suite, base), [*settings, *assignments])
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
