"""Rendering a latent from many cameras: the backbone runs once, each camera only re-renders the triplanes."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from invert3d.generator import TriPlaneGenerator
from invert3d.media import to_uint8


@torch.no_grad()
def iter_renders(G: TriPlaneGenerator, ws: torch.Tensor, labels: torch.Tensor, deterministic: bool = True
                 ) -> Iterator[dict[str, torch.Tensor]]:
    """Yield G's outputs ('image', 'image_depth', 'image_mask', ..., batch 1, on G's device) of ws
    [1, num_ws, w_dim] for each camera label in labels [K, 25]."""
    device = next(G.parameters()).device
    ws = ws.to(device)
    planes = G.planes(ws)
    for label in labels.to(device):
        yield G.render_planes(planes, ws, label[None], deterministic=deterministic)


def iter_views(G: TriPlaneGenerator, ws: torch.Tensor, labels: torch.Tensor, deterministic: bool = True
               ) -> Iterator[np.ndarray]:
    """Yield [H, W, 3] uint8 images of ws [1, num_ws, w_dim] for each camera label in labels [K, 25]."""
    for out in iter_renders(G, ws, labels, deterministic):
        yield to_uint8(out["image"])
