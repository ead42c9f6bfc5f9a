"""Stage 6: the generator unfrozen, W+ latent and weights optimized together (paper eq. 5).

Each step renders the photo's camera and, with pseudo views, one pseudo camera drawn at random (one backbone
pass, two rendered views). Without pseudo views this is PTI's single-view tuning; with a density target it is the
appendix-D alternative (single view + density regularizer toward the coarse geometry).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from invert3d.generator import TriPlaneGenerator
from invert3d.inversion.config import TuningConfig
from invert3d.inversion.losses import ReconstructionLoss
from invert3d.inversion.progress import StageCheckpoint, StageLog, resume
from invert3d.pseudo_views import PseudoViews


@dataclass
class DensityTarget:
    """Raw sigma of the coarse latent at fixed points: the --density-reg regularizer's target."""

    points: torch.Tensor  # [P, 3] world units
    sigma: torch.Tensor  # [P]


def _log_density(sigma: torch.Tensor) -> torch.Tensor:
    """Compressed density log(1 + softplus(sigma - 1)): compares thin and solid regions on one scale."""
    return torch.log1p(F.softplus(sigma - 1))


def tune(G: TriPlaneGenerator, ws: torch.Tensor, photo: torch.Tensor, camera: torch.Tensor, cfg: TuningConfig,
         loss_fn: ReconstructionLoss, *, pseudo: PseudoViews | None = None, density: DensityTarget | None = None,
         seed: int = 0, log: StageLog | None = None, checkpoint: StageCheckpoint | None = None,
         snapshot=None) -> torch.Tensor:
    """Tune G (in place) and ws [1, num_ws, w_dim] to the photo [1, 3, H, W] at camera [25]; returns the tuned ws.

    ``snapshot(step, G, ws)``, if given, is called every ``log.every`` steps (the benchmark's quality curves).
    """
    device = photo.device
    cam = camera.reshape(1, -1).to(device)
    w = ws.detach().clone().requires_grad_(True)
    G.requires_grad_(True)
    opt = torch.optim.Adam([*G.parameters(), w], lr=cfg.lr, betas=(0.9, 0.999))
    g = torch.Generator().manual_seed(seed)
    first, state = resume(checkpoint, opt, g)
    if state:
        G.load_state_dict(state["generator"])
        with torch.no_grad():
            w.copy_(state["w"])
    if log is not None:
        log.begin(first)
    for step in range(first, cfg.steps):
        planes = G.planes(w)
        if pseudo is not None:
            i = int(torch.randint(len(pseudo), (1,), generator=g))
            out = G.render_planes(planes, w, torch.cat([cam, pseudo.cameras[i:i + 1].to(device)]))["image"]
            target, m_v = pseudo.target[i:i + 1].to(device), pseudo.weight[i:i + 1].to(device)
            photo_loss = loss_fn(out[:1], photo)
            loss = (photo_loss + cfg.visible_weight * loss_fn(out[1:], target, m_v)
                    + cfg.occluded_weight * loss_fn(out[1:], target, 1 - m_v))
        else:
            photo_loss = loss = loss_fn(G.render_planes(planes, w, cam)["image"], photo)
        values = {"photo": photo_loss.item()}
        if density is not None:
            idx = torch.randint(len(density.points), (cfg.density_points,), generator=g)
            sigma = G.renderer.query(planes, G.decoder, density.points[idx][None].to(device))["sigma"][0, :, 0]
            density_loss = (_log_density(sigma) - _log_density(density.sigma[idx].to(device))).abs().mean()
            loss = loss + cfg.density_weight * density_loss
            values["density"] = density_loss.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if log is not None:
            log.step(step + 1, {"loss": loss.item(), **values})
            if snapshot is not None and (step + 1) % log.every == 0:
                snapshot(step + 1, G, w.detach())
        if checkpoint is not None:
            checkpoint.maybe_save(step + 1, opt, g, lambda: {"generator": G.state_dict(), "w": w.detach()})
    if log is not None:
        log.close()
    G.requires_grad_(False)
    return w.detach().clone()
