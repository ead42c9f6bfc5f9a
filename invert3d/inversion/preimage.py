"""The mapping network's preimage: a latent z whose w is a given one (to fit or edit in Z from a W latent)."""

from __future__ import annotations

import torch

from invert3d.generator import TriPlaneGenerator

RESTARTS = 16  # random starts of the preimage search


def mapped_w(G: TriPlaneGenerator, z: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """w [N, w_dim] of latents z [N, z_dim] at camera [1, 25] (5,000 at a time)."""
    return torch.cat([G.mapping(part, camera.expand(len(part), -1))[:, 0] for part in z.split(5000)])


def mapping_preimage(G: TriPlaneGenerator, w: torch.Tensor, camera: torch.Tensor, iters: int = 300
                     ) -> tuple[torch.Tensor, float]:
    """(z [z_dim] at unit RMS, mean squared W residual) minimising |mapping(z) - w|^2 for w [w_dim], by L-BFGS
    from ``RESTARTS`` random starts (z only up to its norm, which the mapping normalizes)."""
    z = torch.randn(RESTARTS, G.z_dim, generator=torch.Generator().manual_seed(0))
    z = z.to(w.device).requires_grad_(True)
    opt = torch.optim.LBFGS([z], max_iter=iters, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (mapped_w(G, z, camera) - w).square().mean(1).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        residual = (mapped_w(G, z.detach(), camera) - w).square().mean(1)
    best = z.detach()[int(residual.argmin())]
    return best / best.square().mean().sqrt(), float(residual.min())
