"""Scoring a result against ground truth: the result rendered at every camera of a ``truth/cameras.json``
(as ``invert3d synth`` writes) and compared with the true images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from invert3d.cameras import load_labels
from invert3d.media import from_uint8, load_photo
from invert3d.metrics import LPIPS, psnr, ssim
from invert3d.pipeline.result import InversionResult
from invert3d.views import iter_views


@dataclass
class ViewScore:
    name: str
    psnr: float
    ssim: float
    lpips_alex: float
    image: np.ndarray  # [H, W, 3] uint8 render
    truth: np.ndarray  # [H, W, 3] uint8


@torch.no_grad()
def score_views(result: InversionResult, truth_dir: Path) -> list[ViewScore]:
    """Render ``result`` at each camera in ``truth_dir/cameras.json`` and score it against the true image."""
    entries = load_labels(truth_dir / "cameras.json")
    size = result.G.img_resolution
    lpips = LPIPS("alex")
    labels = torch.stack([label for _, label in entries])
    scores = []
    for (name, _), image in zip(entries, iter_views(result.G, result.ws, labels)):
        truth = load_photo(truth_dir / name, size)
        render = from_uint8(image)
        scores.append(ViewScore(name, float(psnr(render, truth)[0]), float(ssim(render, truth)[0]),
                                float(lpips(render, truth)[0]), image,
                                ((truth[0].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)))
    return scores


def mean_scores(scores: list[ViewScore]) -> dict[str, float]:
    return {k: round(float(np.mean([getattr(s, k) for s in scores])), 4) for k in ("psnr", "ssim", "lpips_alex")}
