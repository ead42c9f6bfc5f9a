"""Scoring a result against a synthetic subject's ground truth (``invert3d synth``'s folder): the result rendered
at the input camera and at every camera of ``truth/cameras.json``, compared with the true images and, where the
truth's depth and silhouette are given, with its geometry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from invert3d.cameras import FFHQ_RADIUS, load_label, load_labels
from invert3d.media import from_uint8, load_photo, to_uint8
from invert3d.metrics import LPIPS, ms_ssim, psnr, render_vs_truth, reprojection_error, ssim
from invert3d.pipeline.result import InversionResult
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.render import render_subject
from invert3d.views import iter_renders

SCORE_KEYS = ("psnr", "ssim", "ms_ssim", "lpips_alex", "reprojection", "mask_iou", "depth_err")


@dataclass
class ViewScore:
    """One view of a result against the truth. ``reprojection`` (novel views only): mean colour error (0..1) of
    this view warped through its depth into the result's input view, over the pixels both see (3D consistency;
    lower is better). ``mask_iou`` and ``depth_err`` (median, relative to the camera distance) need the truth's
    geometry."""

    name: str
    psnr: float
    ssim: float
    ms_ssim: float
    lpips_alex: float
    image: np.ndarray  # [H, W, 3] uint8 render
    truth: np.ndarray  # [H, W, 3] uint8
    reprojection: float | None = None
    mask_iou: float | None = None
    depth_err: float | None = None


@dataclass
class SubjectScores:
    input: ViewScore
    novel: list[ViewScore]


@dataclass
class TruthGeometry:
    """Silhouettes and depths of the truth at a subject's input camera, then at those of its truth/cameras.json."""

    mask: torch.Tensor  # [1 + K, 1, H, W] in {0, 1}
    depth: torch.Tensor  # [1 + K, 1, H, W] ray distance


def _cameras(subject_dir: Path) -> list[tuple[str, torch.Tensor]]:
    """(truth image path relative to the subject, label [25]): the input view first, then the truth views."""
    views = [("input.png", load_label(subject_dir / "input_camera.json"))]
    return views + [(f"truth/{name}", label) for name, label in load_labels(subject_dir / "truth" / "cameras.json")]


def truth_geometry(field: HeadField, subject_dir: Path, resolution: int) -> TruthGeometry:
    """Sphere-trace the subject's shape at each of its cameras (a few seconds per view)."""
    renders = [render_subject(field, label, resolution) for _, label in _cameras(subject_dir)]
    return TruthGeometry(torch.stack([r.mask for r in renders]), torch.stack([r.depth for r in renders]))


@torch.no_grad()
def score_subject(result: InversionResult, subject_dir: Path, geometry: TruthGeometry | None = None
                  ) -> SubjectScores:
    """Render ``result`` at the input camera and at every truth camera of a subject folder (``invert3d synth``'s
    layout) and score each view against the true image (and the truth's geometry, if given)."""
    lpips = LPIPS("alex")
    cameras = _cameras(subject_dir)
    labels = torch.stack([label for _, label in cameras])
    scores, home = [], None
    for k, ((path, label), out) in enumerate(zip(cameras, iter_renders(result.G, result.ws, labels))):
        out = {key: v[0].float().cpu() for key, v in out.items()}
        image = to_uint8(out["image"])
        rendered, truth = from_uint8(image), load_photo(subject_dir / path, result.G.img_resolution)
        score = ViewScore(Path(path).name, float(psnr(rendered, truth)[0]), float(ssim(rendered, truth)[0]),
                          float(ms_ssim(rendered, truth)[0]), float(lpips(rendered, truth)[0]), image, to_uint8(truth))
        if home is None:
            home = (rendered[0], out["image_depth"], label)
        else:
            score.reprojection, _ = reprojection_error(rendered[0], out["image_depth"], label, *home,
                                                       mask_a=out["image_mask"])
        if geometry is not None:
            score.mask_iou, score.depth_err = render_vs_truth(out["image_mask"], out["image_depth"],
                                                              geometry.mask[k], geometry.depth[k], FFHQ_RADIUS)
        scores.append(score)
    return SubjectScores(scores[0], scores[1:])


def mean_scores(scores: list[ViewScore]) -> dict[str, float]:
    """Means over views of every score measured on them (NaNs, e.g. a view sharing no pixel, left out)."""
    keys = [k for k in SCORE_KEYS if getattr(scores[0], k) is not None]
    return {k: round(float(np.nanmean([getattr(s, k) for s in scores])), 4) for k in keys}
