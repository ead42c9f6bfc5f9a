"""Typed settings of an inversion run: one ``InversionConfig`` holds every number, and is saved with each result.

Defaults are the paper's (Xie et al., CVPR 2023, sec. 3 and appendix A.1) where it gives them; the other choices
are explained field by field. ``preset('paper')`` is the default, ``preset('fast')`` a short run for previews.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace

from invert3d.settings import check_fields, from_dict, setting

METHODS = ("hfgi3d", "pti")
PRESETS = ("paper", "fast")
LATENT_SPACES = ("w", "w+", "z")
BLENDS = ("poisson", "gaussian")
PRECISIONS = ("auto", "float32", "bfloat16")
PSEUDO_LOSSES = ("masked", "blended")
TUNING_STARTS = ("coarse", "occluded")
MAX_PSEUDO_VIEWS = 120  # beyond this the pseudo views take hours to build and their features no longer fit


@dataclass(frozen=True)
class LossConfig:
    """L_rec of eq. (5): weighted L2 (mean squared error of images in [-1, 1]) plus LPIPS (VGG).

    LPIPS weight 0.03, not the paper's 1: at equal weights LPIPS (~0.25) outweighs the squared error (~0.01) 25:1
    and the fit stops at the texture's statistics; on the benchmark's sweep suite (fast preset) 1 -> 0.1 gave
    +1.3 dB on the input view and +0.7 dB on the novel views, and with the triplane residual 0.1 -> 0.03 another
    +0.6 / +0.2 dB; 0.01 gained 0.2 dB more on the input view, nothing on the novel views (docs/benchmark.md,
    section 1). The balance is a ratio of two per-pixel means, so it does not depend on the image size; LPIPS
    itself sees at most 256 px (``lpips_side``), as EG3D's and PTI's projectors do at 512^2.
    """

    l2: float = setting(1.0, ge=0)
    lpips: float = setting(0.03, ge=0)
    # Side (px) of the images LPIPS sees, resized to it (area down, bilinear up); None: as they are up to 256 px,
    # area-downsampled to 256 beyond (as EG3D's and PTI's projectors do).
    lpips_side: int | None = setting(None, ge=32, le=1024)
    # 'auto': bf16 autocast for the LPIPS backbone where the hardware has fast bf16 (AMX/AVX512-BF16 CPUs,
    # Ampere+ GPUs): 2x faster, distances within 0.1 % of float32. 'float32' or 'bfloat16' force one.
    lpips_precision: str = setting("auto", choices=PRECISIONS)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class ProjectionConfig:
    """Latent optimization with a frozen generator, from the average latent (stage 1; also the z_o fit).

    W (one w for every layer) keeps the latent on the generator's learnt distribution, which is what stage 1
    needs: a coarse but sane geometry. W+ reproduces the photo faster but bends the geometry (the paper's
    Figure 2 effect); the authors' released code and PTI also project in W. Z (the mapping network's input,
    from the preimage of the start's w) is narrower still: the occluded part's fit (``PseudoViewConfig``).
    """

    steps: int = setting(1000, ge=0)
    lr: float = setting(5e-3, gt=0)
    space: str = setting("w", choices=LATENT_SPACES)
    lr_rampup: float = setting(0.05, ge=0, le=1)  # fraction of the steps over which the lr rises from 0 (StyleGAN's projector)
    lr_rampdown: float = setting(0.25, ge=0, le=1)  # fraction of the steps over which it falls back to 0 at the end
    initial_noise: float = setting(0.05, ge=0)  # latent noise (times the latent spread) added at the start, decaying to 0 ...
    noise_ramp: float = setting(0.75, gt=0, le=1)  # ... over this fraction of the steps: explores before it settles
    w_avg_samples: int = setting(10_000, ge=1)  # latents averaged for the start point and the latent spread

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class GeometryConfig:
    """Stage 2: the coarse mesh, by marching cubes on the density of the stage-1 latent."""

    resolution: int = setting(128, ge=16, le=512)  # grid points per axis over the triplane box
    level: float | None = None  # density iso-level; None: the level whose mesh depth best matches the render

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class PseudoViewConfig:
    """Stages 3-5: pseudo cameras, visible part, occluded part, blending.

    Cameras are a yaw x pitch grid in the generator's frame (like the released code's 30 fixed poses), wide
    enough to cover the views a user asks for (the novel-view benchmark uses yaw +-0.6, pitch +-0.3).
    """

    yaw_range: float = setting(0.6, ge=0, le=1.2)  # rad, either side of frontal
    pitch_range: float = setting(0.3, ge=0, le=0.6)
    yaw_steps: int = setting(10, ge=1, le=40)
    pitch_steps: int = setting(3, ge=1, le=12)
    erode_px: int = setting(1, ge=0)
    blend: str = setting("poisson", choices=BLENDS)  # the paper found Poisson blending smoother than a Gaussian boundary
    gaussian_radius: float = setting(10.0, ge=0)  # px at 512^2, scaled with the image size
    visibility_tolerance: float = setting(0.01, ge=0)  # world units a surface point may lie behind the input view's z-buffer
    theta: float = setting(0.25, ge=0, le=2)  # difference-map threshold: RGB distance (colours in [0, 1]) above it is masked out
    # The z_o fit of the occluded part: in Z (the mapping network's input, started at the preimage of the stage-1
    # w), so O_i = G(mapping(z_o), p_i) stays on the generator's prior where the photo says nothing. Against the
    # truth at the 30 pseudo cameras, in the part O_i fills, Z gained 0.5-2.2 dB over the W fit on the default
    # suite's subjects (fast preset: 100 Z steps against 50 W ones): the outline of the head, which W bends to
    # fit the one view, is most of it; the results' novel views gained 0.4-1.3 dB (docs/benchmark.md 2j). z has
    # unit RMS: lr 10x the W projection's (W's spread is ~0.4).
    occluded: ProjectionConfig = setting(factory=lambda: ProjectionConfig(steps=300, lr=0.05, space="z"))

    def __post_init__(self) -> None:
        check_fields(self)
        if self.yaw_steps * self.pitch_steps > MAX_PSEUDO_VIEWS:
            raise ValueError(f"at most {MAX_PSEUDO_VIEWS} pseudo views (yaw_steps x pitch_steps)")


@dataclass(frozen=True)
class TuningConfig:
    """Stage 6: generator unfrozen, W+ latent and weights optimized together (PTI-style pivotal tuning)."""

    steps: int = setting(3000, ge=0)
    lr: float = setting(3e-4, gt=0)
    # 'masked': eq. (5), L_rec(M_v G(p_i), M_v V_i) + L_rec(M_o G(p_i), M_o O_i); 'blended': one unmasked
    # L_rec(G(p_i), P_i) on the blended pseudo view, as the authors' released code does.
    pseudo_loss: str = setting("masked", choices=PSEUDO_LOSSES)
    # Weight of the pseudo view's term(s), the photo's being 1. Eq. (5) weighs all three terms alike, so the
    # pseudo view outweighs the photo 2:1; 0.5 measured better than 1 on both views (default suite, no residual).
    # With the triplane residual 0.25 kept the novel views (22.83 vs 22.84 dB on the sweep suite) and fitted the
    # photo better (29.29 vs 28.91 dB, LPIPS 0.098 vs 0.105) (docs/benchmark.md). With the occluded part fitted
    # in Z (``PseudoViewConfig.occluded``) the pseudo views are better targets and 0.15 gives the photo back
    # +0.07 to +0.34 dB on every subject of the default suite at -0.17 to +0.03 dB of novel view (2j).
    pseudo_weight: float = setting(0.15, ge=0, le=10)
    # The occluded term's weight relative to the visible one (the 'masked' loss): the photo's own pixels vs the
    # generator's guess for what it does not show.
    occluded_weight: float = setting(1.0, ge=0)
    # How far from the input view the visible term is trusted: pseudo camera i's visible term is weighted by
    # exp(-(a_i / visible_falloff)^2), a_i the angle (rad) between its and the input camera's viewing directions.
    # The visible part is the photo warped through the coarse mesh, so its error grows with a_i (the mesh's relief
    # errors turn into parallax; docs/benchmark.md 2b). On the default suite (embedded model, link 3) sigma 0.25
    # gained 0.10-0.39 dB on the novel views and 0.08-0.43 dB on the input view of all six subjects (2c), the
    # sweep suite's subjects having chosen it. None: every visible term at full weight (eq. 5). With the
    # 'blended' loss, which has one term for the whole pseudo view, that term is the one weighted. An angle, so
    # it does not depend on the generator's resolution.
    visible_falloff: float | None = setting(0.25, gt=0)
    # Learning rates of the other parameter groups as multiples of lr (the backbone's): the W+ latent, the
    # triplane decoder MLP and the super-resolution network. At the backbone's lr the super-resolution barely
    # moves in the fast preset's 130-150 steps and the photo's finest strokes (1-2 px at 128^2) have nowhere to go;
    # the fast preset sets it x10 (see ``preset``). The paper preset keeps x1: its 3000 steps already fit the
    # photo (43.1 dB on the paper suite) and x10 there is unmeasured. The scale is of Adam's per-parameter step,
    # so it does not depend on the image size; on NVIDIA's FFHQ 512 models (a 128->512 super-resolution) it is
    # unmeasured here, where no trained weights exist: ``--set tuning.superresolution_lr_scale=1`` undoes it.
    latent_lr_scale: float = setting(1.0, ge=0)
    decoder_lr_scale: float = setting(1.0, ge=0)
    superresolution_lr_scale: float = setting(1.0, ge=0)
    # The super-resolution network's weights learn from the photo alone: the pseudo view's loss reaches the
    # planes, decoder, backbone and latent through it, but not its weights. The network is 2D, so what it learns
    # is not tied to a view; the pseudo views, resampled through a mesh and blended, are softer than the photo
    # and might pull it toward blur. Off: with the super-resolution's lr x10 it measured +0.12 dB input, -0.10 dB
    # novel on the sweep suite (docs/benchmark.md 2i).
    superresolution_photo_only: bool = False
    # The triplane residual: a per-photo offset added to the generator's planes (its ``plane_offset``, created at
    # zero where the architecture has none), optimized at this lr; it travels with the tuned generator into
    # every render, mesh and edit. 0: no residual. Through the weights alone the planes change too slowly to take
    # up a decal or an eye in 150 steps; the residual puts them there directly. On the sweep suite (fast preset,
    # LPIPS weight 0.03) lr 0.01 / 0.03 / 0.1 gave input 27.1 / 28.1 / 28.9 dB, novel 22.7 / 22.8 / 22.8 dB,
    # decal LPIPS 0.53 / 0.44 / 0.39 (none: 25.0 / 22.2 / 0.70 at weight 0.1); 0.3 fits the photo further but
    # loses on the novel views (docs/benchmark.md).
    # The lr is in the planes' feature units, per texel: it does not scale with the image size, but a 256^2
    # triplane (FFHQ 512) has 16x the texels of ours, each seen by fewer rays.
    planes_lr: float = setting(0.1, ge=0)
    # Times the pseudo views are rebuilt during tuning, at evenly spaced steps, on the geometry being tuned: its
    # density meshed again, the photo warped through that mesh, blended with the same occluded part. The coarse
    # mesh's relief errors become parallax in the visible part (docs/benchmark.md 2b); the tuned geometry fits
    # the photo better. A rebuild costs a mesh and a warp (~3 s on two cores at 128^2). 0: built once (eq. 5),
    # kept: 1 and 3 rebuilds moved the sweep suite's novel views by +0.01 / -0.01 dB (docs/benchmark.md 2e).
    # The result's pseudo_views.png shows the views as first built.
    pseudo_rebuilds: int = setting(0, ge=0, le=100)
    # The latent the tuning starts from: 'coarse', stage 1's W projection (eq. 5; PTI's pivot), or 'occluded',
    # the occluded part's z_o (fitted in Z to the photo's in-distribution pixels from stage 1's preimage, so on
    # the mapping network's image, where attribute directions are learnt). Without pseudo views: 'coarse'. The
    # fast preset measured 'occluded' better on every subject of the default suite (2o); at the paper preset's
    # 3000 steps it was a wash (paper suite: +0.22 dB input, +0.05 dB novel, the mesh a little worse; section 3).
    start: str = setting("coarse", choices=TUNING_STARTS)
    # Render the tuning views with the ray samples the results are viewed and scored with (no stratified jitter,
    # deterministic importance samples) instead of random ones. Off: it measured +0.05 dB input / +0.04 dB novel
    # on the sweep suite, within what three subjects tell apart, with worse LPIPS on one of them.
    deterministic: bool = False
    # Stop early once the photo's LPIPS (VGG, at the loss's resolution) is at most this; None: run every step.
    # (The authors' released code stops its PTI stage at 0.06 on FFHQ 512.)
    stop_lpips: float | None = setting(None, gt=0)
    density_weight: float = setting(1.0, ge=0)  # --density-reg: L1 of the density toward the coarse geometry's
    density_points: int = setting(4096, ge=1)  # grid points compared per step for --density-reg
    target_cache_mb: float = setting(1024.0, ge=0)  # memory for the pseudo views' precomputed LPIPS features (else per step)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class InversionConfig:
    method: str = setting("hfgi3d", choices=METHODS)
    preset: str = setting("paper", choices=PRESETS)
    seed: int = 0
    loss: LossConfig = setting(factory=LossConfig)
    coarse: ProjectionConfig = setting(factory=ProjectionConfig)
    geometry: GeometryConfig = setting(factory=GeometryConfig)
    pseudo: PseudoViewConfig = setting(factory=PseudoViewConfig)
    tuning: TuningConfig = setting(factory=TuningConfig)
    no_occluded: bool = False  # ablation: bilinear fill of the visible part instead of generator inpainting
    no_visible: bool = False  # ablation: generated texture instead of the photo's in the visible part
    density_reg: bool = False  # ablation (appendix D): single-view loss plus a density regularizer
    log_every: int = setting(10, ge=1)
    orbit_frames: int = setting(120, ge=2, le=1000)  # frames of the result's orbit.mp4
    mesh_resolution: int = setting(128, ge=16, le=1024)  # grid points per axis of the result's mesh.ply

    def __post_init__(self) -> None:
        check_fields(self)
        if self.method == "pti" and (self.no_occluded or self.no_visible):
            raise ValueError("--no-occluded and --no-visible are ablations of hfgi3d's pseudo views; pti has none")

    @property
    def uses_pseudo_views(self) -> bool:
        return self.method == "hfgi3d" and not self.density_reg

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: dict) -> "InversionConfig":
        """The inverse of ``to_dict``; missing fields take their defaults, unknown or invalid ones raise ValueError."""
        return from_dict(InversionConfig, data)


def preset(name: str = "paper", method: str = "hfgi3d", **overrides) -> InversionConfig:
    """'paper': the paper's budgets (1000 projection steps at lr 5e-3, 3000 tuning steps at lr 3e-4);
    'fast': 200 / 60 / 130 steps (projection at lr 0.01 / occluded fit / tuning), for previews and the demo, 3 to
    4 min on 2 CPU cores with the embedded model (by the CPU). Measured on all six subjects of the default suite
    against 300 / 100 / 150 at lr 5e-3 (docs/benchmark.md 2l, the same CPU, both methods at both budgets): 23 %
    less time (219 s against 285 s a run), the novel views equal (27.61 vs 27.65 dB), the input view 0.29 dB lower,
    the lead over PTI +1.01 dB (PTI's novel views gain 0.21 dB from the shorter tuning) with the input view 0.17 dB
    behind PTI's. Stage 1 at twice the paper's lr reaches in 200 steps the mesh 300 steps gave (Chamfer 5.28e-3
    both); the occluded part's Z fit is flat after step 60 (2k). Stage 1's steps are the best spent of the
    budget (2d: 100 -> 300 of them took the sweep suite's novel views 24.54 -> 26.35 dB). The fast preset's
    super-resolution learns at 10x the backbone's lr: on all six subjects it gained hfgi3d +1.22 dB on the input
    view, +0.06 dB on the novel views and a fifth of their LPIPS, at no cost in time (2i). The occluded part in Z
    took the novel views 0.4-1.3 dB up on all six (2j). The tuning starts from the occluded part's z_o, on the
    mapping's image: +0.09 dB input, +0.15 dB novel (every subject up), decal +0.31 dB, at no cost in time (2o);
    the paper preset keeps eq. 5's start (a wash at its 3000 steps: section 3)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    cfg = InversionConfig(method=method, preset=name)
    if name == "fast":
        cfg = replace(cfg, coarse=replace(cfg.coarse, steps=200, lr=0.01),
                      pseudo=replace(cfg.pseudo, occluded=replace(cfg.pseudo.occluded, steps=60)),
                      tuning=replace(cfg.tuning, steps=130, superresolution_lr_scale=10.0, start="occluded"))
    return replace(cfg, **overrides)
