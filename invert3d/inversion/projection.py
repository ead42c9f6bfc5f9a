"""Latent optimization with a frozen generator ("projection"): stage 1 (z_e) and the occluded-part fit (z_o).

The latent starts at the generator's average w (or at a given latent), follows StyleGAN's projector schedule
(lr ramp up and down, decaying exploration noise on the latent) and is fitted with L_rec at one camera, optionally
under a mask. In W one w is shared by all layers, in W+ each layer has its own, in Z the latent is the mapping
network's input (started at the preimage of the starting w), so the fit stays on the generator's prior.
"""

from __future__ import annotations

import math

import torch

from invert3d.config import ProjectionConfig
from invert3d.generator import TriPlaneGenerator
from invert3d.inversion.losses import ReconstructionLoss
from invert3d.inversion.preimage import mapping_preimage
from invert3d.inversion.progress import StageCheckpoint, StageLog, resume


@torch.no_grad()
def latent_stats(G: TriPlaneGenerator, camera: torch.Tensor, samples: int, seed: int) -> tuple[torch.Tensor, float]:
    """Mean w [1, 1, w_dim] of ``samples`` random latents mapped with ``camera`` [25], and their RMS spread."""
    device = camera.device
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, G.z_dim, generator=g).to(device)
    w = G.mapping(z, camera.expand(samples, -1))[:, :1]
    w_avg = w.mean(dim=0, keepdim=True)
    w_std = float(((w - w_avg).square().sum() / samples).sqrt())
    return w_avg, w_std


def lr_schedule(t: float, base: float, rampup: float, rampdown: float) -> float:
    """StyleGAN's projector schedule at progress t in [0, 1)."""
    ramp = min(1.0, (1.0 - t) / rampdown) if rampdown > 0 else 1.0
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    if rampup > 0:
        ramp *= min(1.0, t / rampup)
    return base * ramp


def project(G: TriPlaneGenerator, target: torch.Tensor, camera: torch.Tensor, cfg: ProjectionConfig,
            loss_fn: ReconstructionLoss, *, mask: torch.Tensor | None = None, start: torch.Tensor | None = None,
            seed: int = 0, log: StageLog | None = None, checkpoint: StageCheckpoint | None = None) -> torch.Tensor:
    """Fit a latent so that G renders ``target`` [1, 3, H, W] at ``camera`` [25] (under ``mask`` [1, 1, H, W]).

    Returns ws [1, num_ws, w_dim] (``cfg.space``: see the module docstring).
    """
    latent = fit_latent(G, target, camera, cfg, loss_fn, mask=mask, start=start, seed=seed, log=log,
                        checkpoint=checkpoint)
    with torch.no_grad():
        return _synthesis_ws(G, latent, camera.reshape(1, -1).to(target.device), cfg.space).clone()


@torch.enable_grad()  # an optimization: it runs under a caller's no_grad too
def fit_latent(G: TriPlaneGenerator, target: torch.Tensor, camera: torch.Tensor, cfg: ProjectionConfig,
               loss_fn: ReconstructionLoss, *, mask: torch.Tensor | None = None, start: torch.Tensor | None = None,
               seed: int = 0, log: StageLog | None = None, checkpoint: StageCheckpoint | None = None) -> torch.Tensor:
    """``project``'s optimization, returning the latent in ``cfg.space`` itself: w [1, 1, w_dim], w+ [1, num_ws,
    w_dim] or z [1, z_dim]; ``start`` is ws [1, num_ws, w_dim] in every space."""
    device = target.device
    cam = camera.reshape(1, -1).to(device)
    layers = G.num_ws if cfg.space == "w+" else 1
    need_stats = start is None or cfg.space != "z"  # Z from a given start needs neither the mean nor the spread
    w_avg, w_std = latent_stats(G, cam[0], cfg.w_avg_samples, seed) if need_stats else (None, 1.0)
    init = w_avg.expand(1, layers, -1) if start is None else start[:, :layers]
    if cfg.space == "z":  # from the preimage of the start; z has unit RMS: the exploration noise is in its units
        init, w_std = mapping_preimage(G, init[0, 0].detach(), cam)[0][None], 1.0
    w = init.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=cfg.lr, betas=(0.9, 0.999))
    prepared = loss_fn.prepare(target, mask)
    g = torch.Generator(device=device).manual_seed(seed)
    first, state = resume(checkpoint, opt, g)
    if state:
        with torch.no_grad():
            w.copy_(state["w"])
    if log is not None:
        log.begin(first)
    for step in range(first, cfg.steps):
        t = step / cfg.steps
        for group in opt.param_groups:
            group["lr"] = lr_schedule(t, cfg.lr, cfg.lr_rampup, cfg.lr_rampdown)
        strength = w_std * cfg.initial_noise * max(0.0, 1.0 - t / cfg.noise_ramp) ** 2
        noisy = w + torch.randn(w.shape, generator=g, device=device) * strength
        ws = _synthesis_ws(G, noisy, cam, cfg.space)
        image = G.synthesis(ws, cam)["image"]
        loss = loss_fn(image, prepared).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if log is not None:
            log.step(step + 1, {"loss": loss.item()})
        if checkpoint is not None:
            checkpoint.maybe_save(step + 1, opt, g, lambda: {"w": w.detach()})
    if log is not None:
        log.close()
    return w.detach()


def _synthesis_ws(G: TriPlaneGenerator, latent: torch.Tensor, cam: torch.Tensor, space: str) -> torch.Tensor:
    """ws [1, num_ws, w_dim] of the optimized latent: w [1, 1, w_dim], w+ [1, num_ws, w_dim] or z [1, z_dim]."""
    if space == "z":
        return G.mapping(latent, cam)
    return latent.expand(1, G.num_ws, -1) if space == "w" else latent
