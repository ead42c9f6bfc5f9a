"""Labelled latents for learning directions: exact labels for a generator of the synthetic world, the offline
face predictors' scores for any other (FFHQ checkpoints).

A generator trained by ``invert3d train`` takes the synthetic subject's latent as its z (``LATENT_DIM`` values),
so a sample's every procedural parameter is a monotone function of one coordinate of its z: the coordinates are
the labels, with no classifier in between. Any other generator's samples are rendered at the canonical camera and
scored by ``predictors.face_attributes``.
"""

from __future__ import annotations

import numpy as np
import torch

from invert3d.cameras import CameraRig
from invert3d.errors import Invert3dError
from invert3d.console import progress
from invert3d.generator import TriPlaneGenerator
from invert3d.media import to_uint8
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
                            "attributes have no exact labels")
    device = next(G.parameters()).device
    z = sample_latents(n, seed)
    c = CameraRig.of(G.cfg.rendering).pose(0.0, 0.0)[None].to(device)
    w = torch.cat([G.mapping(part.to(device), c.expand(len(part), -1))[:, 0].cpu() for part in z.split(batch)])
    return w, z, list(PARAMETER_NAMES)


TRUNCATION = 0.7  # EG3D's sampling default: untruncated FFHQ samples include broken faces the predictors misread


@torch.no_grad()
def predicted_samples(G: TriPlaneGenerator, n: int, seed: int = 0, batch: int = 4
                      ) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(w [n, w_dim], scores [n, 3], ``predictors.ATTRIBUTES``) of n samples z ~ N(0, I) (truncated by
    ``TRUNCATION`` toward the mean w), each rendered at the canonical camera and scored by the face predictors."""
    from invert3d.editing.predictors import ATTRIBUTES, face_attributes

    device = next(G.parameters()).device
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    c = CameraRig.of(G.cfg.rendering).pose(0.0, 0.0)[None].to(device)
    ws, scores = [], []
    with progress(total=n, desc="scoring samples", unit="sample") as bar:
        for part in z.split(batch):
            cams = c.expand(len(part), -1)
            w = G.mapping(part.to(device), cams, truncation_psi=TRUNCATION)
            images = G.synthesis(w, cams, deterministic=True)["image"]
            scores += [face_attributes(to_uint8(image)) for image in images]
            ws.append(w[:, 0].cpu())
            bar.update(len(part))
    return torch.cat(ws), torch.from_numpy(np.stack(scores)).float(), list(ATTRIBUTES)


def labelled_samples(G: TriPlaneGenerator, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, list[str], str]:
    """(w, labels, names, unit kind) for ``learn_directions``: exact labels for the synthetic world's
    generators, predictor scores for the others."""
    if is_synthetic_world_model(G):
        return (*synthetic_samples(G, n, seed), "label_sd")
    return (*predicted_samples(G, n, seed), "spread")
