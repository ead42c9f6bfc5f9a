"""Figures for the embedded model's card: random samples, a latent interpolation, and model vs truth.

    python bench/model_card_figures.py [--checkpoint DIR] [--out invert3d/models/synthhead]

Writes samples.png (rows: random latents; columns: yaw -0.5, 0, +0.5), interpolation.png (two held-out latents
blended in 8 steps, frontal) and model_vs_truth.png (pairs of rows: truth, model; 4 held-out subjects at 4 views).

    python bench/model_card_figures.py --compare embedded RUN/model ... --out DIR

writes DIR/compare.png instead: per held-out subject of model_vs_truth.png, the truth's row, then each
checkpoint's ('embedded': the shipped model), in the order given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from invert3d.cameras import pose_label
from invert3d.checkpoints import load_generator
from invert3d.errors import Invert3dError
from invert3d.media import image_grid, save_png, unit_to_uint8
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.params import sample_latents, subject_from_latent
from invert3d.synthetic.render import render_subject


FRONT = pose_label(0.0, 0.0)[None]
HELD_OUT_CAMERAS = torch.stack([pose_label(y, p) for y, p in ((-0.6, 0.0), (-0.2, 0.15), (0.3, -0.15), (0.6, 0.0))])


def _truth(z: torch.Tensor, label: torch.Tensor, resolution: int) -> np.ndarray:
    rgb = render_subject(HeadField(subject_from_latent(z)), label, resolution).rgb
    return unit_to_uint8(rgb.permute(1, 2, 0).numpy())


def _against_truth(models: list) -> np.ndarray:
    """Per held-out subject, its truth's row, then each model's, at ``HELD_OUT_CAMERAS``: one image."""
    rows = []
    for z in sample_latents(4, 789):
        rows.extend(_truth(z, c, models[0].img_resolution) for c in HELD_OUT_CAMERAS)
        for G in models:
            rows.extend(Scene(G, G.mapping(z[None], FRONT)).views(HELD_OUT_CAMERAS))
    return image_grid(rows, len(HELD_OUT_CAMERAS))


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("invert3d/models/synthhead"))
    parser.add_argument("--compare", nargs="+", metavar="CHECKPOINT")
    args = parser.parse_args()
    tune_runtime()
    paths = [None if c == "embedded" else Path(c) for c in args.compare] if args.compare else [args.checkpoint]
    try:
        models = [load_generator(path) for path in paths]
    except Invert3dError as error:
        raise SystemExit(f"error: {error}") from None
    if args.compare:
        save_png(args.out / "compare.png", _against_truth(models))
        print(f"wrote {args.out}/compare.png")
        return
    G = models[0]
    views = torch.stack([pose_label(y, 0.0) for y in (-0.5, 0.0, 0.5)])
    samples = []
    for z in sample_latents(6, 123):
        samples.extend(Scene(G, G.mapping(z[None], FRONT)).views(views))
    save_png(args.out / "samples.png", image_grid(samples, 3))
    a, b = sample_latents(2, 456)
    steps = [G.mapping(torch.lerp(a, b, t)[None], FRONT) for t in torch.linspace(0, 1, 8)]
    save_png(args.out / "interpolation.png", image_grid([next(Scene(G, ws).views(FRONT)) for ws in steps], 8))
    save_png(args.out / "model_vs_truth.png", _against_truth([G]))
    print(f"wrote {args.out}/samples.png, interpolation.png, model_vs_truth.png")


if __name__ == "__main__":
    main()
