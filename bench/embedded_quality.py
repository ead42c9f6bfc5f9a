"""Quality of a generator trained on the synthetic world, against the procedural ground truth.

For ``--n`` latents never used in training (drawn from a seed stream of their own) and 8 cameras with yaw within
+-0.6 rad and pitch within +-0.3 rad, the generator's render of the subject's known latent is compared with the
sphere-traced truth: PSNR of the final image (0..1 range), IoU of the foreground masks (neural-rendering
resolution, threshold 0.5) and the median absolute depth error on pixels both call foreground, relative to the
camera distance. Where the error lies: ``silhouette_error_share`` is the part of the squared error within 2 pixels
of the true silhouette, ``psnr_off_silhouette`` the PSNR of the other pixels, and ``error_share_by_part`` splits
the squared error by what the truth shows at each pixel (background, skin, lips, eyes, hair; the part of the
surface the pixel's centre ray hits), ``psnr_by_part`` is the PSNR of each part's pixels pooled over all views.
Prints one JSON line.

    python bench/embedded_quality.py --n 100 [--checkpoint DIR]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import torch
from report import emit
from safetensors.torch import load_file, save_file

from invert3d.cameras import FFHQ_RADIUS, pose_label
from invert3d.checkpoints import load_generator
from invert3d.errors import Invert3dError
from invert3d.metrics import render_vs_truth, silhouette_band
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene
from invert3d.synthetic.head import EYES, HAIR, LIPS, SKIN, HeadField
from invert3d.synthetic.params import sample_latents, subject_from_latent
from invert3d.synthetic.render import pixel_surface_points, render_subject

CAMERAS = ((-0.6, 0.0), (-0.3, 0.15), (0.0, 0.0), (0.3, -0.15), (0.6, 0.0), (-0.45, -0.3), (0.45, 0.3), (0.0, 0.3))
HELD_OUT_SEED = 2_000_003  # training draws latents from torch.Generator(seed) streams; this stream is separate
BACKGROUND = -1
PART_NAMES = {BACKGROUND: "background", SKIN: "skin", LIPS: "lips", EYES: "eyes", HAIR: "hair"}


def held_out_truth(n: int, resolution: int, cache: Path | None = None) -> dict[str, torch.Tensor]:
    """The truth of the n held-out subjects at every camera, [n * cameras, ...] in subject-major order: 'z'
    [n, 37], 'rgb' [K, 3, R, R] in [0, 1], 'mask' and 'depth' [K, 1, R, R], 'parts' [K, R, R] (part ids).
    Sphere tracing them takes ~0.6 s a view; with ``cache`` (a folder) they are traced once and read back."""
    path = cache / f"held_out_{n}x{len(CAMERAS)}_{resolution}.safetensors" if cache is not None else None
    if path is not None and path.is_file():
        return load_file(str(path))
    labels = torch.stack([pose_label(y, p) for y, p in CAMERAS])
    latents = sample_latents(n, HELD_OUT_SEED)
    views = {"rgb": [], "mask": [], "depth": [], "parts": []}
    for z in latents:
        field = HeadField(subject_from_latent(z))
        for label in labels:
            truth = render_subject(field, label, resolution)
            for key in ("rgb", "mask", "depth"):
                views[key].append(getattr(truth, key))
            views["parts"].append(_true_parts(field, label, truth.depth[0], truth.mask[0]))
    data = {"z": latents, **{k: torch.stack(v).contiguous() for k, v in views.items()}}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(data, str(path))
    return data


@torch.no_grad()
def evaluate(G, n: int, cache: Path | None = None) -> dict[str, float]:
    psnrs, ious, depth_errs, shares, off_band = [], [], [], [], []
    part_error, part_pixels = dict.fromkeys(PART_NAMES, 0.0), dict.fromkeys(PART_NAMES, 0)
    labels = torch.stack([pose_label(y, p) for y, p in CAMERAS])
    truth = held_out_truth(n, G.img_resolution, cache)
    for i, z in enumerate(truth["z"]):
        scene = Scene(G, G.mapping(z[None], labels[:1]))
        for j, (label, out) in enumerate(zip(labels, scene.renders(labels))):
            k = i * len(labels) + j
            rgb, mask, depth = truth["rgb"][k], truth["mask"][k], truth["depth"][k]
            image = (out["image"][0].clamp(-1, 1) + 1) / 2
            error = (image - rgb).square().mean(dim=0)
            band = silhouette_band(mask[0])
            psnrs.append(_psnr(error.mean().item()))
            shares.append((error[band].sum() / error.sum().clamp_min(1e-12)).item())
            off_band.append(_psnr(error[~band].mean().item()))
            parts = truth["parts"][k].reshape(-1)
            for part in PART_NAMES:
                part_error[part] += error.reshape(-1)[parts == part].sum().item()
                part_pixels[part] += int((parts == part).sum())
            iou, depth_err = render_vs_truth(out["image_mask"][0], out["image_depth"][0], mask, depth, FFHQ_RADIUS)
            ious.append(iou)
            if not math.isnan(depth_err):
                depth_errs.append(depth_err)
    return {"psnr": round(statistics.mean(psnrs), 3), "mask_iou": round(statistics.mean(ious), 4),
            "depth_err_rel": round(statistics.median(depth_errs), 5), "psnr_min": round(min(psnrs), 3),
            "silhouette_error_share": round(statistics.mean(shares), 3),
            "psnr_off_silhouette": round(statistics.mean(off_band), 3),
            "error_share_by_part": {PART_NAMES[k]: round(v / sum(part_error.values()), 3) for k, v in part_error.items()},
            "psnr_by_part": {PART_NAMES[k]: round(_psnr(v / max(part_pixels[k], 1)), 2) for k, v in part_error.items()}}


def _true_parts(field: HeadField, label: torch.Tensor, depth: torch.Tensor, coverage: torch.Tensor) -> torch.Tensor:
    """[H, W] part id (``BACKGROUND`` where coverage <= 0.5) of the surface each pixel's centre ray hits, from the
    true ray distances ``depth`` [H, W] of the camera ``label`` [25]."""
    points, hit = pixel_surface_points(label, depth, coverage)
    parts = field.part_ids(points)
    return torch.where(hit, parts, torch.full_like(parts, BACKGROUND)).reshape(depth.shape)


def _psnr(mse: float) -> float:
    return 10 * math.log10(1.0 / max(mse, 1e-10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--checkpoint", type=Path, default=None, help="default: the embedded model")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--truth-cache", type=Path, default=None,
                        help="folder to keep the traced truth in (traced once, then read back)")
    args = parser.parse_args()
    tune_runtime()
    try:
        G = load_generator(args.checkpoint)
    except Invert3dError as error:
        raise SystemExit(f"error: {error}") from None
    start = time.perf_counter()
    result = {"bench": "embedded_quality", "n": args.n, "cameras": len(CAMERAS),
              "checkpoint": str(args.checkpoint or "embedded"), **evaluate(G, args.n, args.truth_cache)}
    result["seconds"] = round(time.perf_counter() - start, 1)
    emit(result, args.out)


if __name__ == "__main__":
    main()
