"""Distillation of the synthetic world into an EG3D generator: ``invert3d train``.

The subject latent z is the generator's z, so every training view has a known latent; the generator is fitted to
the ground truth directly (no discriminator), which converges far faster on a CPU than adversarial training:

- images: L1 of the final image and of the raw neural render against the true view, both in [-1, 1], and of
  the final image within 2 px of the true silhouette and on the true eyes, lips and brows (each weighted on top:
  where most of the error lies, and the small details a whole-image mean gives little gradient);
- silhouette and depth: L1 of the accumulated opacity against the true mask, and of the rendered depth against
  the true depth on the foreground, both at the neural rendering resolution;
- 3D, on fresh subjects every step (cheap, so far more latents than the view pool holds): binary cross-entropy
  between the opacity of a 0.02-thick slab at the field's density and the true soft occupancy at points in the
  box and around the surface, and L1 between the decoder's first three colour features and the true surface
  colour near the surface.

Adam with the mapping network's learning rate restored to the others' (StyleGAN damps it 100x for adversarial
training; here z -> w is exactly what must be learnt), a cosine decay of the learning rate over the budget, and
an exponential moving average of the weights, which is what the run ships.

Runs are resumable (``OUT/train_state.pt`` every ``checkpoint_every_s`` seconds; the data is a function of the
seed and the step), log to ``OUT/log.jsonl``, and end by writing the generator to ``OUT/model/`` (safetensors +
config). On a GPU (``device``), worker processes render the data ahead of the steps (``workers``); neither
setting changes the data a run sees.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from invert3d import console
from invert3d.checkpoints import load_generator, save_generator
from invert3d.checkpoints.native import load_state
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.generator import GeneratorConfig, TriPlaneGenerator, preset
from invert3d.metrics import silhouette_band
from invert3d.pseudo_views.masks import dilate
from invert3d.settings import check_fields, describe, setting
from invert3d.training.data import PICKS, DataSpec, DataStream, PointBatch, ViewPool, downsample_targets, \
    step_generator

# train_state.pt layout; 3's pool had no detail masks, 2 named the architecture by preset, 1 held 1-sample-per-pixel
# views
STATE_FORMAT = 4
SLAB = 0.02  # thickness (world units) whose opacity the 3D occupancy loss supervises
BUDGET_FIELDS = ("minutes", "max_steps")  # may change when a run is resumed (to extend it)


def _synthhead() -> GeneratorConfig:
    return preset("synthhead")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; saved as OUT/train_config.json."""

    generator: GeneratorConfig = setting(factory=_synthhead)  # the architecture (with --init: that model's)
    init: str | None = None  # a generator folder whose weights the run starts from (fresh optimizer and schedule)
    seed: int = 0
    minutes: float = setting(80.0, gt=0)  # wall-clock budget, data rendering included
    max_steps: int = setting(1_000_000, ge=1)
    batch: int = setting(4, ge=1)
    lr: float = setting(4e-3, gt=0)  # 2e-3 until 2026-12: 4e-3 measured +1.6 dB at 20 min
    mapping_lr_scale: float = setting(100.0, gt=0)  # undoes StyleGAN's 0.01 mapping lr multiplier: z -> w is learnt
    plane_offset_lr_scale: float = setting(10.0, gt=0)  # lr of the generator's plane offset, if it has one, / lr
    lr_final: float = setting(0.05, ge=0, le=1)  # the lr decays along a cosine to this fraction at the budget's end
    ema_half_life: int = setting(150, ge=1)  # steps; the shipped weights are this exponential moving average
    # 'bfloat16': the generator's forward pass under bf16 autocast (float32 master weights, EMA and losses), for
    # CPUs with fast bf16 (AMX); 'float32' everywhere else.
    precision: str = setting("float32", choices=("float32", "bfloat16"))
    # Coarse to fine: the first coarse_fraction of the budget renders at coarse_resolution (0: never), ~4x fewer
    # rays a step at half the side; the super-resolution sees those features upsampled, as EG3D trains.
    coarse_resolution: int = setting(0, ge=0)
    coarse_fraction: float = setting(0.5, ge=0, le=1)
    pool_size: int = setting(768, ge=1)
    warmup_views: int = setting(256, ge=1)  # pool entries rendered before the first step
    refresh_per_step: int = setting(1, ge=1)
    refresh_every: int = setting(1, ge=1)  # steps between refreshes of the view pool
    yaw_range: float = setting(0.7, ge=0)
    pitch_range: float = setting(0.35, ge=0)
    points: int = setting(1024, ge=2)  # 3D samples per subject per step
    w_image: float = setting(1.0, ge=0)
    w_silhouette: float = setting(0.0, ge=0)  # L1 of the image within 2 px of the true silhouette, on top of w_image
    w_details: float = setting(0.0, ge=0)  # L1 of the image on the true eyes, lips and brows, on top of w_image
    # Image pixels the w_details term reaches beyond the true eyes, lips and brows. On the masks alone, colour
    # missing inside a feature costs far more than colour spilt onto the skin around it, and the model paints
    # lips and eyes too large (model card, "The next link's levers"); grown masks weigh both alike.
    details_margin: int = setting(0, ge=0, le=16)
    w_raw: float = setting(1.0, ge=0)
    w_mask: float = setting(1.0, ge=0)
    w_depth: float = setting(2.0, ge=0)
    w_occupancy: float = setting(0.5, ge=0)
    w_colour: float = setting(1.0, ge=0)
    log_every: int = setting(10, ge=1)
    checkpoint_every_s: float = setting(120.0, gt=0)

    def __post_init__(self) -> None:
        check_fields(self)

    def to_json(self) -> str:
        return describe(self)


def _losses(G: TriPlaneGenerator, cfg: TrainConfig, pool: ViewPool, pts: PointBatch, step: int,
            device: torch.device, resolution: int) -> dict[str, torch.Tensor]:
    """The loss terms of one step, the views rendered at neural rendering ``resolution``."""
    view = pool.sample(cfg.batch, step_generator(cfg.seed, step, PICKS)).to(device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bfloat16")
    ws = G.mapping(view.z, view.c, update_emas=True)
    with autocast:
        out = {k: v.float() for k, v in G.synthesis(ws, view.c, neural_rendering_resolution=resolution).items()}
    _, mask_lo, depth_lo = downsample_targets(view, resolution)
    rgb_lo = downsample_targets(view, out["image_raw"].shape[-1])[0]  # the super-resolution's input size
    fg = (mask_lo > 0.99).float()
    error = (out["image"] - view.rgb).abs()
    band = silhouette_band(view.mask).float()
    details = dilate(view.details, cfg.details_margin)
    losses = {
        "image": error.mean(),
        "silhouette": (error * band).sum() / (3 * band.sum().clamp_min(1)),
        "details": (error * details).sum() / (3 * details.sum().clamp_min(1)),
        "raw": (out["image_raw"] - rgb_lo).abs().mean(),
        "mask": (out["image_mask"] - mask_lo).abs().mean(),
        "depth": ((out["image_depth"] - depth_lo).abs() * fg).sum() / fg.sum().clamp_min(1),
    }
    # 3D supervision on fresh subjects: geometry and colour of many more latents than the view pool holds.
    pts = pts.to(device)
    ws_points = G.mapping(pts.z, view.c, update_emas=True)
    with autocast:
        field = {k: v.float() for k, v in G.sample_mixed(pts.points, None, ws_points).items()}
    density = F.softplus(field["sigma"][..., 0] - 1)
    opacity = (1 - torch.exp(-density * SLAB)).clamp(1e-5, 1 - 1e-5)
    losses["occupancy"] = F.binary_cross_entropy(opacity, pts.occupancy)
    near = pts.near_surface.float()[..., None]
    losses["colour"] = ((field["rgb"][..., :3] - pts.colour).abs() * near).sum() / (3 * near.sum().clamp_min(1))
    return losses


def _param_groups(G: TriPlaneGenerator, cfg: TrainConfig) -> list[dict]:
    """Adam groups: the mapping network and the plane offset at their own learning rates, everything else at lr."""
    special = {"mapping": (list(G.backbone.mapping.parameters()), cfg.mapping_lr_scale),
               "plane_offset": ([G.plane_offset] if G.cfg.plane_offset else [], cfg.plane_offset_lr_scale)}
    taken = {id(p) for params, _ in special.values() for p in params}
    groups = [{"params": [p for p in G.parameters() if id(p) not in taken]}]
    groups += [{"params": params, "lr": cfg.lr * scale} for params, scale in special.values() if params]
    return groups


def _weights(cfg: TrainConfig) -> dict[str, float]:
    return {"image": cfg.w_image, "silhouette": cfg.w_silhouette, "details": cfg.w_details, "raw": cfg.w_raw,
            "mask": cfg.w_mask, "depth": cfg.w_depth, "occupancy": cfg.w_occupancy, "colour": cfg.w_colour}


def _progress(cfg: TrainConfig, step: int, elapsed: float) -> float:
    """How much of the budget (steps or minutes, whichever runs out first) is spent, in [0, 1]."""
    return min(1.0, max(step / cfg.max_steps, elapsed / (cfg.minutes * 60)))


def _lr_scale(cfg: TrainConfig, progress: float) -> float:
    """Cosine decay from 1 to ``lr_final`` over the budget."""
    return cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress))


def _rendering_resolution(cfg: TrainConfig, G: TriPlaneGenerator, progress: float) -> int:
    """The neural rendering resolution of a step: ``coarse_resolution`` for the first ``coarse_fraction`` of the
    budget (coarse to fine, as EG3D trains), the generator's own after."""
    coarse = cfg.coarse_resolution and progress < cfg.coarse_fraction
    return cfg.coarse_resolution if coarse else G.neural_rendering_resolution


@torch.no_grad()
def _update_ema(G_ema: TriPlaneGenerator, G: TriPlaneGenerator, half_life: int) -> None:
    beta = 0.5 ** (1 / max(half_life, 1))
    torch._foreach_lerp_(list(G_ema.parameters()), list(G.parameters()), 1 - beta)
    torch._foreach_copy_(list(G_ema.buffers()), list(G.buffers()))


def _save_state(path: Path, step: int, elapsed: float, G, G_ema, opt, pool: ViewPool) -> None:
    state = {"format": STATE_FORMAT, "step": step, "elapsed": elapsed, "model": G.state_dict(),
             "model_ema": G_ema.state_dict(), "optimizer": opt.state_dict(), "pool": pool.state(),
             "torch_rng": torch.get_rng_state()}
    with atomic_file(path) as tmp:
        torch.save(state, tmp)


def _truncate_log(path: Path, step: int) -> None:
    """Drop log records past the resumed step (they belong to work lost in the interruption)."""
    if path.exists():
        keep = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        path.write_text("".join(line + "\n" for line in keep))


def _data_spec(cfg: TrainConfig, resolution: int) -> DataSpec:
    return DataSpec(cfg.seed, resolution, cfg.yaw_range, cfg.pitch_range, cfg.refresh_per_step, cfg.batch,
                    cfg.points, cfg.refresh_every, details=cfg.w_details > 0)


def train(cfg: TrainConfig, out: Path, device: torch.device | str = "cpu", workers: int = 0) -> Path:
    """Train (or resume) into ``out`` on ``device``, the data made by ``workers`` processes (0: inline);
    returns the folder of the final generator."""
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    G = TriPlaneGenerator(cfg.generator)
    if cfg.init is not None:  # before anything is written: a model that does not fit leaves no run folder
        load_state(G, load_generator(cfg.init).state_dict(), cfg.init)
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "train_config.json"
    if config_path.exists():
        saved = json.loads(config_path.read_text())
        mine = json.loads(cfg.to_json())
        changed = sorted(k for k in mine if k not in BUDGET_FIELDS and saved.get(k) != mine[k])
        if changed:
            raise Invert3dError(f"{out} holds a run with different settings ({', '.join(changed)}); "
                                "use another --out")
    state_path = out / "train_state.pt"
    state = torch.load(state_path, weights_only=True, map_location="cpu") if state_path.exists() else None
    if state is not None and state.get("format") != STATE_FORMAT:
        raise Invert3dError(f"{state_path} was written by an older version of the trainer; use another --out")
    config_path.write_text(cfg.to_json())
    G = G.train().to(device)
    opt = torch.optim.Adam(_param_groups(G, cfg), lr=cfg.lr, betas=(0.9, 0.99))
    base_lrs = [group["lr"] for group in opt.param_groups]
    pool = ViewPool(cfg.pool_size, cfg.generator.img_resolution)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    step, elapsed = 0, 0.0
    if state is not None:
        G.load_state_dict(state["model"])
        G_ema.load_state_dict(state["model_ema"])
        opt.load_state_dict(state["optimizer"])
        pool.load_state(state["pool"])
        torch.set_rng_state(state["torch_rng"])
        step, elapsed = int(state["step"]), float(state["elapsed"])
        _truncate_log(out / "log.jsonl", step)
        console.note(f"resuming at step {step} ({elapsed / 60:.1f} min done)")
    stream = DataStream(_data_spec(cfg, cfg.generator.img_resolution), workers)
    try:
        step = _run(cfg, out, G, G_ema, opt, base_lrs, pool, stream, step, elapsed, device)
    finally:
        stream.close()
    return save_generator(G_ema.cpu(), out / "model",
                          extra={"trained_steps": step, "train_config": dataclasses.asdict(cfg)})


def _run(cfg: TrainConfig, out: Path, G, G_ema, opt, base_lrs, pool: ViewPool, stream: DataStream, step: int,
         elapsed: float, device: torch.device) -> int:
    """The training loop from ``step``; leaves the final state in OUT/train_state.pt and returns its step."""
    start = time.monotonic() - elapsed
    missing = max(0, min(cfg.warmup_views, cfg.pool_size) - pool.filled)
    for view in console.progress(stream.warmup_views(pool.filled, missing), total=missing,
                                 desc="rendering training views", unit="view", quiet=missing == 0):
        pool.put(view)
    weights = _weights(cfg)
    budget = cfg.minutes * 60
    state_path = out / "train_state.pt"
    last_save = time.monotonic()
    bar = console.progress(total=int(budget), initial=int(time.monotonic() - start), desc="training", unit="s")
    data = stream.steps(step)
    with open(out / "log.jsonl", "a") as log:
        while step < cfg.max_steps and time.monotonic() - start < budget:
            t0 = time.monotonic()
            fresh = next(data)
            for view in fresh.views:
                pool.put(view)
            progress = _progress(cfg, step, time.monotonic() - start)
            scale = _lr_scale(cfg, progress)
            for group, base in zip(opt.param_groups, base_lrs):
                group["lr"] = base * scale
            losses = _losses(G, cfg, pool, fresh.points, step, device, _rendering_resolution(cfg, G, progress))
            total = sum(weights[k] * v for k, v in losses.items())
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            _update_ema(G_ema, G, cfg.ema_half_life)
            step += 1
            if step % cfg.log_every == 0:
                record = {"step": step, "minutes": round((time.monotonic() - start) / 60, 2),
                          "step_s": round(time.monotonic() - t0, 3), "lr": round(cfg.lr * scale, 7),
                          "total": round(total.item(), 5), **{k: round(v.item(), 5) for k, v in losses.items()}}
                log.write(json.dumps(record) + "\n")
                log.flush()
                bar.set_postfix(step=step, loss=f"{total.item():.4f}")
            bar.update(int(time.monotonic() - start) - bar.n)
            if time.monotonic() - last_save > cfg.checkpoint_every_s:
                _save_state(state_path, step, time.monotonic() - start, G, G_ema, opt, pool)
                last_save = time.monotonic()
    bar.close()
    _save_state(state_path, step, time.monotonic() - start, G, G_ema, opt, pool)
    return step
