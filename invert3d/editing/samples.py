"""Labelled latents for learning directions: for a generator of the synthetic world, its exact labels.

A generator trained by ``invert3d train`` takes the synthetic subject's latent as its z (``LATENT_DIM`` values),
so a sample's every procedural parameter is a monotone function of one coordinate of its z: the coordinates are
the labels, with no classifier in between.
"""

from __future__ import annotations

import torch

from invert3d.cameras import CameraRig
from invert3d.errors import Invert3dError
from invert3d.generator import TriPlaneGenerator
from invert3d.synthetic.params import LATENT_DIM, PARAMETER_NAMES, sample_latents


def is_synthetic_world_model(G: TriPlaneGenerator) -> bool:
    """True for a generator whose z is the synthetic subject's latent."""
    return G.z_dim == LATENT_DIM


@torch.no_grad()
def synthetic_samples(G: TriPlaneGenerator, n: int, seed: int = 0, batch: int = 8192
                      ) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(w [n, w_dim], labels [n, LATENT_DIM], names) of n subjects: w from G's mapping at the frontal camera,
    labels their latent coordinates."""
    if not is_synthetic_world_model(G):
        raise Invert3dError(f"this generator's z has {G.z_dim} values, not the synthetic world's {LATENT_DIM}: its "
                            "attributes have no exact labels (labels from offline face predictors for FFHQ "
                            "checkpoints are not built yet)")
    device = next(G.parameters()).device
    z = sample_latents(n, seed)
    c = CameraRig.of(G.cfg.rendering).pose(0.0, 0.0)[None].to(device)
    w = torch.cat([G.mapping(part.to(device), c.expand(len(part), -1))[:, 0].cpu() for part in z.split(batch)])
    return w, z, list(PARAMETER_NAMES)
