"""How good are hfgi3d's pseudo views, and where: each one against the synthetic truth at its camera, next to
what the PTI and hfgi3d results render there, binned by the angle between the camera's and the input camera's
viewing directions (``tuning.view_angles``, the angle ``tuning.visible_falloff`` weighs by).

Regions of each pseudo view: visible (its eroded visible mask M_v > 0.5: the photo warped through the coarse mesh)
and occluded (the rest: the generator's render of z_o, blended). The visible part is also re-warped through other
meshes, the true one included, to show how much of its error is the geometry's. PSNR on colours in [0, 1]: the
mean squared error over a region's pixels of every view in a bin, then its PSNR.

    python bench/pseudo_view_quality.py BENCH_DIR [--suite default] [--out JSON]

BENCH_DIR: an ``invert3d bench --suite SUITE --methods pti,hfgi3d`` folder (its hfgi3d runs keep their stages).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch
from report import emit

from invert3d.benchmark.run import _make
from invert3d.benchmark.suites import SUITES
from invert3d.cameras import load_label
from invert3d.geometry import read_ply
from invert3d.inversion.tuning import view_angles
from invert3d.media import load_photo
from invert3d.pipeline.layout import ResultFolder
from invert3d.pseudo_views import PseudoViews, warp_photo
from invert3d.pseudo_views.masks import erode
from invert3d.runtime import tune_runtime
from invert3d.synthetic.render import render_subject

BINS = ((0.0, 0.15), (0.15, 0.3), (0.3, 0.5), (0.5, 0.8), (0.8, 2.0))  # angle from the input view (rad)
VISIBILITY_TOLERANCE = 0.01  # world units, as the pipeline's default


def _mse(image: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> tuple[float, float]:
    """(sum of squared errors over the mask, mask pixels) of [1, 3, H, W] images in [-1, 1], colours in [0, 1]."""
    error = ((image - truth) / 2).square().mean(dim=1, keepdim=True)
    return float((error * mask).sum()), float(mask.sum())


def subject_rows(bench: Path, case) -> list[dict]:
    """One record per pseudo camera of the case's hfgi3d run: per region and source, (squared error, pixels)."""
    run, subject_dir = bench / "runs" / case.name, bench / "subjects" / case.name
    pseudo = PseudoViews.load(run / "hfgi3d" / "stages" / "pseudo_views.safetensors")
    subject = _make(case)
    size = pseudo.target.shape[-1]
    scenes = {method: ResultFolder(run / method).open() for method in ("pti", "hfgi3d")}
    photo = load_photo(subject_dir / "input.png", size)
    camera = load_label(subject_dir / "input_camera.json")
    meshes = {"true": subject_dir / "mesh.ply", "pti_result": run / "pti" / "mesh.ply"}
    rewarped = {name: warp_photo(read_ply(path), photo, camera, pseudo.cameras, VISIBILITY_TOLERANCE)
                for name, path in meshes.items()}
    angles = view_angles(pseudo.cameras, camera)
    rows = []
    for i, label in enumerate(pseudo.cameras):
        truth = render_subject(subject.field, label, size, subject.decals).rgb[None] * 2 - 1
        with torch.no_grad():
            renders = {method: scene.render(label[None])["image"].float() for method, scene in scenes.items()}
        visible = (pseudo.weight[i:i + 1] > 0.5).float()
        sources = {"pseudo_view": pseudo.target[i:i + 1], **renders}
        row = {"subject": case.name, "angle": float(angles[i]),
               "visible": {name: _mse(image, truth, visible) for name, image in sources.items()},
               "occluded": {name: _mse(image, truth, 1 - visible) for name, image in sources.items()},
               "warp_own_mask": {"coarse_mesh": _mse(pseudo.visible[i:i + 1], truth,
                                                     erode(pseudo.visible_mask[i:i + 1], 1))}}
        for name, part in rewarped.items():  # each warp over its own visible mask, eroded 1 px as the pipeline's
            row["warp_own_mask"][f"{name}_mesh"] = _mse(part.image[i:i + 1], truth, erode(part.mask[i:i + 1], 1))
        rows.append(row)
    return rows


def _psnr(pairs: list[tuple[float, float]]) -> float | None:
    """PSNR of summed (squared error, pixels) pairs; None over no pixels."""
    error, pixels = (sum(p[k] for p in pairs) for k in (0, 1))
    return round(-10 * math.log10(max(error / pixels, 1e-10)), 2) if pixels else None


def summary(rows: list[dict]) -> dict:
    """PSNR per region and source, over all pseudo views and per yaw-distance bin."""
    def table(selected: list[dict]) -> dict:
        return {region: {name: _psnr([r[region][name] for r in selected]) for name in selected[0][region]}
                for region in ("visible", "occluded", "warp_own_mask")}

    bins = []
    for lo, hi in BINS:
        selected = [r for r in rows if lo <= r["angle"] < hi]
        if selected:
            bins.append({"angle": [lo, hi], "views": len(selected), **table(selected)})
    return {"all": table(rows), "by_angle": bins}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bench", type=Path, help="a bench folder with pti and hfgi3d runs")
    parser.add_argument("--suite", default="default", choices=sorted(SUITES))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    tune_runtime()
    cases = [c for c in SUITES[args.suite] if (args.bench / "runs" / c.name / "hfgi3d" / "stages"
                                               / "pseudo_views.safetensors").is_file()
             and (args.bench / "runs" / c.name / "pti").is_dir()]
    if not cases:
        sys.exit(f"error: {args.bench} holds no finished pti and hfgi3d runs of suite '{args.suite}'")
    rows = [row for case in cases for row in subject_rows(args.bench, case)]
    emit({"bench": "pseudo_view_quality", "folder": str(args.bench), "subjects": [c.name for c in cases],
          **summary(rows)}, args.out)


if __name__ == "__main__":
    main()
