"""Stage 6: the generator unfrozen, W+ latent and weights optimized together (paper eq. 5).

Each step renders the photo's camera and, with pseudo views, one pseudo camera drawn at random (one backbone
pass, two rendered views). Without pseudo views this is PTI's single-view tuning; with a density target it is the
appendix-D alternative (single view + density regularizer toward the coarse geometry). With
``TuningConfig.pseudo_rebuilds``, the pseudo views are rebuilt on the geometry being tuned at evenly spaced steps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Protocol

import torch
import torch.nn.functional as F

from invert3d.config import TuningConfig
from invert3d.generator import TriPlaneGenerator
from invert3d.inversion.losses import LossTarget, ReconstructionLoss
from invert3d.inversion.progress import StageCheckpoint, StageLog, resume
from invert3d.pseudo_views import PseudoViews
from invert3d.scene import Scene


@dataclass
class DensityTarget:
    """Raw sigma of the coarse latent at fixed points: the --density-reg regularizer's target."""

    points: torch.Tensor  # [P, 3] world units
    sigma: torch.Tensor  # [P]


class Snapshot(Protocol):
    """Observer of the tuning: called as ``snapshot(step, scene)`` every ``every`` steps, with the scene being
    tuned (seen through the photo's lens)."""

    every: int

    def __call__(self, step: int, scene: Scene) -> None: ...


class PseudoTargets:
    """The prepared L_rec targets of a step with pseudo camera i, the photo's first: with the 'masked' loss of
    eq. (5) M_v P_i and M_o P_i, with the 'blended' loss P_i itself (P_i the blended pseudo view: V_i where
    visible, O_i elsewhere). Built on first use and kept while they fit in ``budget_mb`` (LPIPS features of 30
    views at 128^2 take ~0.7 GB in float32 for the masked loss)."""

    def __init__(self, pseudo: PseudoViews, photo: LossTarget, loss_fn: ReconstructionLoss, device: torch.device,
                 masked: bool, budget_mb: float):
        self.pseudo, self.photo, self.loss_fn, self.device = pseudo, photo, loss_fn, device
        self.masked, self.budget_mb = masked, budget_mb
        self.cache: dict[int, LossTarget] = {}

    @property
    def terms(self) -> int:
        """Pseudo-view terms per step: 2 (masked) or 1 (blended)."""
        return 2 if self.masked else 1

    def __getitem__(self, i: int) -> LossTarget:
        if i in self.cache:
            return self.cache[i]
        view = self.pseudo.target[i:i + 1].to(self.device)
        if self.masked:
            m_v = self.pseudo.weight[i:i + 1].to(self.device)
            view_target = self.loss_fn.prepare(view.expand(2, -1, -1, -1), torch.cat([m_v, 1 - m_v]))
        else:
            view_target = self.loss_fn.prepare(view)
        prepared = LossTarget.cat([self.photo, view_target])
        tensors = [prepared.image, *(t for t in (prepared.mask,) if t is not None), *(prepared.features or [])]
        size_mb = sum(t.numel() * t.element_size() for t in tensors) / 2**20
        if (len(self.cache) + 1) * size_mb <= self.budget_mb:
            self.cache[i] = prepared
        return prepared


def view_angles(cameras: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """[n] angle (rad) between the viewing directions (cam2world's z axis) of cameras [n, 25] and camera [25]."""
    axes = F.normalize(cameras[:, :16].reshape(-1, 4, 4)[:, :3, 2].double(), dim=-1)
    home = F.normalize(camera.reshape(-1)[:16].reshape(4, 4)[:3, 2].double(), dim=0)
    return torch.arccos((axes @ home).clamp(-1, 1)).to(cameras.dtype)


def visible_weights(cameras: torch.Tensor, camera: torch.Tensor, falloff: float | None) -> torch.Tensor:
    """[n] weight of each pseudo camera's visible term (``TuningConfig.visible_falloff``): exp(-(a / falloff)^2),
    a the angle between pseudo camera [n, 25] and input camera [25] (``view_angles``); ones without a falloff."""
    if falloff is None:
        return torch.ones(len(cameras), device=cameras.device)
    return torch.exp(-(view_angles(cameras, camera) / falloff) ** 2)


def rebuild_steps(cfg: TuningConfig) -> set[int]:
    """The steps before which the pseudo views are rebuilt: ``pseudo_rebuilds`` of them, evenly spaced."""
    n = cfg.pseudo_rebuilds
    return {round(k * cfg.steps / (n + 1)) for k in range(1, n + 1)} - {0}


def param_groups(G: TriPlaneGenerator, w: torch.Tensor, cfg: TuningConfig) -> list[dict]:
    """Adam groups of the tuning: the latent, the decoder, the super-resolution and the plane offset at their
    own learning rates, the backbone (and anything else) at ``cfg.lr``. Groups at lr 0 are left out."""
    special = [([w], cfg.lr * cfg.latent_lr_scale), (list(G.decoder.parameters()), cfg.lr * cfg.decoder_lr_scale),
               (list(G.superresolution.parameters()), cfg.lr * cfg.superresolution_lr_scale)]
    if G.cfg.plane_offset:
        special.append(([G.plane_offset], cfg.planes_lr or cfg.lr))
    taken = {id(p) for params, _ in special for p in params}
    groups = [([p for p in G.parameters() if id(p) not in taken], cfg.lr), *special]
    return [{"params": params, "lr": lr} for params, lr in groups if params and lr > 0]


def _log_density(sigma: torch.Tensor) -> torch.Tensor:
    """Compressed density log(1 + softplus(sigma - 1)): compares thin and solid regions on one scale."""
    return torch.log1p(F.softplus(sigma - 1))


@torch.enable_grad()  # an optimization: it runs under a caller's no_grad too
def tune(G: TriPlaneGenerator, ws: torch.Tensor, photo: torch.Tensor, camera: torch.Tensor, cfg: TuningConfig,
         loss_fn: ReconstructionLoss, *, pseudo: PseudoViews | None = None, density: DensityTarget | None = None,
         seed: int = 0, log: StageLog | None = None, checkpoint: StageCheckpoint | None = None,
         snapshot: Snapshot | None = None, rebuild: Callable[[Scene], PseudoViews | None] | None = None
         ) -> torch.Tensor:
    """Tune G (in place) and ws [1, num_ws, w_dim] to the photo [1, 3, H, W] at camera [25]; returns the tuned ws.

    ``snapshot``, if given, sees the scene before the first step and every ``snapshot.every`` steps (the
    benchmark's quality curves; a resumed run skips step 0); it must not change the scene's G or ws.
    ``rebuild``, if given, makes new pseudo views (the same cameras) from the scene being tuned before each of
    ``rebuild_steps(cfg)`` (None: keep the current ones); the views in use travel in the stage checkpoint.
    """
    device = photo.device
    cam = camera.reshape(1, -1).to(device)
    w = ws.detach().clone().requires_grad_(True)
    if cfg.planes_lr > 0:
        G.add_plane_offset()
    G.requires_grad_(True)
    opt = torch.optim.Adam(param_groups(G, w, cfg), lr=cfg.lr, betas=(0.9, 0.999), fused=True)  # one kernel: 4x faster
    g = torch.Generator().manual_seed(seed)
    photo_target = loss_fn.prepare(photo)
    targets = lambda views: PseudoTargets(views, photo_target, loss_fn, device,  # noqa: E731
                                          cfg.pseudo_loss == "masked", cfg.target_cache_mb)
    pseudo_targets = targets(pseudo) if pseudo is not None else None
    # The photo's term, then the pseudo view's visible and occluded terms (or its blended one).
    pseudo_terms = [] if pseudo_targets is None else [1.0, cfg.occluded_weight] if pseudo_targets.terms == 2 else [1.0]
    term_weights = torch.tensor([1.0] + [cfg.pseudo_weight * t for t in pseudo_terms], device=device)
    if pseudo is not None:  # the visible term's weight per pseudo camera (the 'blended' loss: its one term's)
        trust = visible_weights(pseudo.cameras.cpu(), camera.cpu(), cfg.visible_falloff).to(device)
    first, state = resume(checkpoint, opt, g)
    if state:
        G.load_state_dict(state["generator"])
        with torch.no_grad():
            w.copy_(state["w"])
        if "pseudo" in state:  # views rebuilt before the run stopped
            pseudo = PseudoViews(**state["pseudo"])
            pseudo_targets = targets(pseudo)
    rebuilds = rebuild_steps(cfg) if rebuild is not None and pseudo is not None else set()
    rebuilt = "pseudo" in state
    if log is not None:
        log.begin(first)
    if snapshot is not None and first == 0:
        snapshot(0, Scene.with_lens_of(G, w.detach(), camera))
    for step in range(first, cfg.steps):
        if step in rebuilds:
            with torch.no_grad():
                views = rebuild(Scene.with_lens_of(G, w.detach(), camera))
            if views is not None:
                pseudo, pseudo_targets, rebuilt = views, targets(views), True
        planes = G.planes(w)
        if pseudo is not None:
            i = int(torch.randint(len(pseudo), (1,), generator=g))
            out = G.render_planes(planes, w, torch.cat([cam, pseudo.cameras[i:i + 1].to(device)]),
                                  deterministic=cfg.deterministic,
                                  detach_superresolution_from=1 if cfg.superresolution_photo_only else None)["image"]
            l2, lpips = loss_fn.terms(out[[0] + [1] * pseudo_targets.terms], pseudo_targets[i])
            weights = torch.cat([term_weights[:1], term_weights[1:2] * trust[i], term_weights[2:]])
        else:
            out = G.render_planes(planes, w, cam, deterministic=cfg.deterministic)["image"]
            l2, lpips = loss_fn.terms(out, photo_target)
            weights = term_weights
        terms = loss_fn.weigh(l2, lpips) * weights
        loss = terms.sum()
        values = {"photo": terms[0].item()}
        if lpips is not None:
            values["photo_lpips"] = lpips[0].item()
            if cfg.stop_lpips is not None and values["photo_lpips"] <= cfg.stop_lpips:
                if snapshot is not None and step % snapshot.every:
                    snapshot(step, Scene.with_lens_of(G, w.detach(), camera))
                break  # close enough to the photo: the current weights are the result
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
        if snapshot is not None and ((step + 1) % snapshot.every == 0 or step + 1 == cfg.steps):
            snapshot(step + 1, Scene.with_lens_of(G, w.detach(), camera))
        if checkpoint is not None:
            checkpoint.maybe_save(step + 1, opt, g, lambda: {"generator": G.state_dict(), "w": w.detach(),
                                                             **({"pseudo": asdict(pseudo)} if rebuilt else {})})
    if log is not None:
        log.close()
    G.requires_grad_(False)
    return w.detach().clone()
