"""Scoring a result against a synthetic subject's ground truth (``invert3d synth``'s folder): the result rendered
at the input camera and at every camera of ``truth/cameras.json``, compared with the true images and, where the
truth's depth and silhouette are given, with its geometry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from invert3d.cameras import FFHQ_RADIUS, load_label, load_labels
from invert3d.media import from_uint8, load_photo, to_uint8
from invert3d.metrics import image_scores, lpips_net, render_vs_truth, reprojection_error
from invert3d.scene import Scene
from invert3d.synthetic.decals import Decal
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.render import render_decal_region, render_subject

SCORE_KEYS = ("psnr", "ssim", "ms_ssim", "lpips_alex", "reprojection", "mask_iou", "depth_err", "decal_psnr",
              "decal_lpips")
VIEW_SCORES = ("psnr", "ssim", "ms_ssim", "lpips_alex")  # of every view; the others only where measurable
MIN_DECAL_PIXELS = 16  # a view showing fewer pixels of the decal gets no decal score
DECAL_CROP = 64  # side (px) the decal's bounding box is resized to for its LPIPS


@dataclass
class ViewScore:
    """One view of a result against the truth. ``reprojection`` (novel views only): mean colour error (0..1) of
    this view warped through its depth into the result's input view, over the pixels both see (3D consistency;
    lower is better). ``mask_iou`` and ``depth_err`` (median, relative to the camera distance) need the truth's
    geometry, the decal scores its decal region (views showing at least ``MIN_DECAL_PIXELS`` of it)."""

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
    decal_psnr: float | None = None  # PSNR over the pixels where the truth shows the decal
    decal_lpips: float | None = None  # LPIPS (AlexNet) of the decal's bounding box


@dataclass
class SubjectScores:
    input: ViewScore
    novel: list[ViewScore]


@dataclass
class TruthGeometry:
    """Silhouettes, depths and decal regions of the truth at a subject's input camera, then at those of its
    truth/cameras.json."""

    mask: torch.Tensor  # [1 + K, 1, H, W] in {0, 1}
    depth: torch.Tensor  # [1 + K, 1, H, W] ray distance
    decal: torch.Tensor | None = None  # [1 + K, 1, H, W] bool: where the subject's decals are (None: no decals)


def _cameras(subject_dir: Path) -> list[tuple[str, torch.Tensor]]:
    """(truth image path relative to the subject, label [25]): the input view first, then the truth views."""
    views = [("input.png", load_label(subject_dir / "input_camera.json"))]
    return views + [(f"truth/{name}", label) for name, label in load_labels(subject_dir / "truth" / "cameras.json")]


def truth_geometry(field: HeadField, subject_dir: Path, resolution: int, decals: list[Decal] = ()) -> TruthGeometry:
    """Sphere-trace the subject's shape (and where its ``decals`` lie) at each of its cameras (a few seconds per
    view)."""
    cameras = _cameras(subject_dir)
    renders = [render_subject(field, label, resolution) for _, label in cameras]
    decal = torch.stack([render_decal_region(field, label, resolution, decals) for _, label in cameras]) if decals \
        else None
    return TruthGeometry(torch.stack([r.mask for r in renders]), torch.stack([r.depth for r in renders]), decal)


def _decal_scores(rendered: torch.Tensor, truth: torch.Tensor, region: torch.Tensor
                  ) -> tuple[float | None, float | None]:
    """PSNR over ``region`` [1, H, W] (bool) of images [1, 3, H, W] in [-1, 1], and the LPIPS of the region's
    bounding box (square, 4 px margin, resized to DECAL_CROP^2); (None, None) where too little of it shows."""
    if int(region.sum()) < MIN_DECAL_PIXELS:
        return None, None
    mse = ((rendered - truth) / 2).square().mean(dim=1)[region].mean()
    ys, xs = torch.nonzero(region[0], as_tuple=True)
    size = rendered.shape[-1]
    side = min(size, max(int(ys.max() - ys.min()), int(xs.max() - xs.min())) + 1 + 8)
    cy, cx = int(ys.min() + ys.max()) // 2, int(xs.min() + xs.max()) // 2
    y0, x0 = (min(max(c - side // 2, 0), size - side) for c in (cy, cx))
    crops = [F.interpolate(im[..., y0:y0 + side, x0:x0 + side], size=(DECAL_CROP, DECAL_CROP), mode="bilinear",
                           align_corners=False, antialias=True) for im in (rendered, truth)]
    return float(10 * torch.log10(1 / mse.clamp_min(1e-10))), float(lpips_net("alex")(*crops)[0])


@torch.no_grad()
def score_subject(scene: Scene, subject_dir: Path, geometry: TruthGeometry | None = None) -> SubjectScores:
    """Render ``scene`` at the input camera and at every truth camera of a subject folder (``invert3d synth``'s
    layout) and score each view against the true image (and the truth's geometry, if given)."""
    cameras = _cameras(subject_dir)
    labels = torch.stack([label for _, label in cameras])
    scores, home = [], None
    for k, ((path, label), out) in enumerate(zip(cameras, scene.renders(labels))):
        out = {key: v[0].float().cpu() for key, v in out.items()}
        image = to_uint8(out["image"])
        rendered, truth = from_uint8(image), load_photo(subject_dir / path, scene.G.img_resolution)
        values = image_scores(rendered, truth, VIEW_SCORES)
        score = ViewScore(Path(path).name, **{name: float(v[0]) for name, v in values.items()}, image=image,
                          truth=to_uint8(truth))
        if home is None:
            home = (rendered[0], out["image_depth"], label)
        else:
            score.reprojection, _ = reprojection_error(rendered[0], out["image_depth"], label, *home,
                                                       mask_a=out["image_mask"])
        if geometry is not None:
            score.mask_iou, score.depth_err = render_vs_truth(out["image_mask"], out["image_depth"],
                                                              geometry.mask[k], geometry.depth[k], FFHQ_RADIUS)
            if geometry.decal is not None:
                score.decal_psnr, score.decal_lpips = _decal_scores(rendered, truth, geometry.decal[k])
        scores.append(score)
    return SubjectScores(scores[0], scores[1:])


def mean_scores(scores: list[ViewScore]) -> dict[str, float]:
    """Means over views of every score measured on them (unmeasured ones and NaNs, e.g. a view sharing no pixel,
    left out)."""
    means = {}
    for k in SCORE_KEYS:
        values = [v for s in scores if (v := getattr(s, k)) is not None]
        if values:
            means[k] = round(float(np.nanmean(values)), 4)
    return means
