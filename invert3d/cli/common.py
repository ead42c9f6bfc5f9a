"""Shared pieces of the command-line interface: argument parsing and generator selection."""

from __future__ import annotations

import re
from pathlib import Path

from invert3d.checkpoints import load_generator
from invert3d.errors import Invert3dError
from invert3d.generator import TriPlaneGenerator, preset
from invert3d.runtime import resolve_device


def parse_seeds(text: str) -> list[int]:
    """'0-3' -> [0, 1, 2, 3]; '1,5,7-8' -> [1, 5, 7, 8]."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise Invert3dError(f"bad seed list {text!r}: use numbers and ranges like 0-3,7")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise Invert3dError(f"bad seed range {part!r}: the end is before the start")
        seeds.extend(range(lo, hi + 1))
    if not seeds:
        raise Invert3dError("no seeds given")
    return seeds


def open_generator(checkpoint: Path | None, random_init: str | None, device: str, seed: int = 0) -> TriPlaneGenerator:
    """The generator a command works with: a checkpoint, an untrained preset, or the embedded model."""
    dev = resolve_device(device)
    if checkpoint is not None and random_init is not None:
        raise Invert3dError("give either --checkpoint or --random-init, not both")
    if random_init is not None:
        import torch

        try:
            cfg = preset(random_init)
        except ValueError as exc:
            raise Invert3dError(str(exc)) from None
        torch.manual_seed(seed)
        return TriPlaneGenerator(cfg).to(dev).eval().requires_grad_(False)
    return load_generator(checkpoint, dev)
