"""Distillation of the synthetic world into an EG3D generator: ``invert3d train``.

The subject latent z is the generator's z, so every training view has a known latent; the generator is fitted to
the ground truth directly (no discriminator), which converges far faster on a CPU than adversarial training:

- images: L1 of the final image and of the raw neural render against the true view, both in [-1, 1];
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
from tqdm import tqdm

from invert3d.checkpoints import save_generator
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.generator import GeneratorConfig, TriPlaneGenerator, preset
from invert3d.training.data import PICKS, DataSpec, DataStream, PointBatch, ViewPool, downsample_targets, \
    step_generator

STATE_FORMAT = 2  # train_state.pt layout; 1 held 1-sample-per-pixel views and one data RNG
SLAB = 0.02  # thickness (world units) whose opacity the 3D occupancy loss supervises
BUDGET_FIELDS = ("minutes", "max_steps")  # may change when a run is resumed (to extend it)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; saved as OUT/train_config.json."""

    generator: str = "synthhead"
    seed: int = 0
    minutes: float = 80.0  # wall-clock budget, data rendering included
    max_steps: int = 1_000_000
    batch: int = 4
    lr: float = 2e-3
    mapping_lr_scale: float = 100.0  # undoes StyleGAN's 0.01 mapping lr multiplier: z -> w must be learned here
    lr_final: float = 0.05  # the lr decays along a cosine to this fraction of itself at the end of the budget
    ema_half_life: int = 150  # steps; the shipped weights are this exponential moving average
    pool_size: int = 768
    warmup_views: int = 256  # pool entries rendered before the first step
    refresh_per_step: int = 1
    yaw_range: float = 0.7
    pitch_range: float = 0.35
    points: int = 1024  # 3D samples per subject per step
    w_image: float = 1.0
    w_raw: float = 1.0
    w_mask: float = 1.0
    w_depth: float = 2.0
    w_occupancy: float = 0.5
    w_colour: float = 1.0
    log_every: int = 10
    checkpoint_every_s: float = 120.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)


def _losses(G: TriPlaneGenerator, cfg: TrainConfig, pool: ViewPool, pts: PointBatch, step: int,
            device: torch.device) -> dict[str, torch.Tensor]:
    view = pool.sample(cfg.batch, step_generator(cfg.seed, step, PICKS)).to(device)
    ws = G.mapping(view.z, view.c, update_emas=True)
    out = G.synthesis(ws, view.c)
    rgb_lo, mask_lo, depth_lo = downsample_targets(view, G.neural_rendering_resolution)
    fg = (mask_lo > 0.99).float()
    losses = {
        "image": (out["image"] - view.rgb).abs().mean(),
        "raw": (out["image_raw"] - rgb_lo).abs().mean(),
        "mask": (out["image_mask"] - mask_lo).abs().mean(),
        "depth": ((out["image_depth"] - depth_lo).abs() * fg).sum() / fg.sum().clamp_min(1),
    }
    # 3D supervision on fresh subjects: geometry and colour of many more latents than the view pool holds.
    pts = pts.to(device)
    field = G.sample_mixed(pts.points, None, G.mapping(pts.z, view.c, update_emas=True))
    density = F.softplus(field["sigma"][..., 0] - 1)
    opacity = (1 - torch.exp(-density * SLAB)).clamp(1e-5, 1 - 1e-5)
    losses["occupancy"] = F.binary_cross_entropy(opacity, pts.occupancy)
    near = pts.near_surface.float()[..., None]
    losses["colour"] = ((field["rgb"][..., :3] - pts.colour).abs() * near).sum() / (3 * near.sum().clamp_min(1))
    return losses


def _weights(cfg: TrainConfig) -> dict[str, float]:
    return {"image": cfg.w_image, "raw": cfg.w_raw, "mask": cfg.w_mask, "depth": cfg.w_depth,
            "occupancy": cfg.w_occupancy, "colour": cfg.w_colour}


def _lr_scale(cfg: TrainConfig, step: int, elapsed: float) -> float:
    """Cosine decay from 1 to ``lr_final`` over the budget (steps or minutes, whichever runs out first)."""
    progress = min(1.0, max(step / cfg.max_steps, elapsed / (cfg.minutes * 60)))
    return cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress))


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
                    cfg.points)


def train(cfg: TrainConfig, out: Path, device: torch.device | str = "cpu", workers: int = 0) -> Path:
    """Train (or resume) into ``out`` on ``device``, the data made by ``workers`` processes (0: inline);
    returns the folder of the final generator."""
    device = torch.device(device)
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "train_config.json"
    if config_path.exists():
        saved = json.loads(config_path.read_text())
        mine = dataclasses.asdict(cfg)
        changed = sorted(k for k in mine if k not in BUDGET_FIELDS and saved.get(k) != mine[k])
        if changed:
            raise Invert3dError(f"{out} holds a run with different settings ({', '.join(changed)}); "
                                "use another --out")
    state_path = out / "train_state.pt"
    state = torch.load(state_path, weights_only=True, map_location="cpu") if state_path.exists() else None
    if state is not None and state.get("format") != STATE_FORMAT:
        raise Invert3dError(f"{state_path} was written by an older version of the trainer; use another --out")
    config_path.write_text(cfg.to_json())
    torch.manual_seed(cfg.seed)
    gcfg: GeneratorConfig = preset(cfg.generator)
    G = TriPlaneGenerator(gcfg).train().to(device)
    mapping = list(G.backbone.mapping.parameters())
    others = [p for p in G.parameters() if all(p is not m for m in mapping)]
    opt = torch.optim.Adam([{"params": others}, {"params": mapping, "lr": cfg.lr * cfg.mapping_lr_scale}],
                           lr=cfg.lr, betas=(0.9, 0.99))
    base_lrs = [group["lr"] for group in opt.param_groups]
    pool = ViewPool(cfg.pool_size, gcfg.img_resolution)
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
        tqdm.write(f"resuming at step {step} ({elapsed / 60:.1f} min done)")
    stream = DataStream(_data_spec(cfg, gcfg.img_resolution), workers)
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
    for view in tqdm(stream.warmup_views(pool.filled, missing), total=missing, desc="rendering training views",
                     unit="view", disable=missing == 0):
        pool.put(view)
    weights = _weights(cfg)
    budget = cfg.minutes * 60
    state_path = out / "train_state.pt"
    last_save = time.monotonic()
    bar = tqdm(total=int(budget), initial=int(time.monotonic() - start), desc="training", unit="s")
    data = stream.steps(step)
    with open(out / "log.jsonl", "a") as log:
        while step < cfg.max_steps and time.monotonic() - start < budget:
            t0 = time.monotonic()
            fresh = next(data)
            for view in fresh.views:
                pool.put(view)
            scale = _lr_scale(cfg, step, time.monotonic() - start)
            for group, base in zip(opt.param_groups, base_lrs):
                group["lr"] = base * scale
            losses = _losses(G, cfg, pool, fresh.points, step, device)
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
