"""A finished result folder, opened again: its tuned generator and latent, rendered from any camera."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file

from invert3d.checkpoints import load_generator
from invert3d.errors import Invert3dError
from invert3d.generator import TriPlaneGenerator


@dataclass
class InversionResult:
    G: TriPlaneGenerator
    ws: torch.Tensor  # [1, num_ws, w_dim]


def open_result(path: Path, device: str | torch.device = "cpu") -> InversionResult:
    """Load ``path/generator`` and ``path/latent.safetensors`` written by ``invert3d invert``."""
    if not (path / "summary.json").is_file() or not (path / "latent.safetensors").is_file():
        raise Invert3dError(f"{path} is not a finished invert3d result (no summary.json / latent.safetensors)")
    G = load_generator(path / "generator", device)
    ws = load_file(str(path / "latent.safetensors"))["ws"].to(device)
    if ws.shape[1:] != (G.num_ws, G.w_dim):
        raise Invert3dError(f"{path}: latent shape {list(ws.shape)} does not fit the generator")
    return InversionResult(G, ws)
