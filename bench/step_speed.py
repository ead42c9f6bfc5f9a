"""Seconds per optimization step of the fast preset on the embedded model: a stage-1 projection step (W, one
view, LPIPS + L2) and a stage-6 tuning step (generator unfrozen, the photo's and one pseudo camera rendered), each
the median of ``--repeats`` timed runs of ``--steps`` steps after a warm-up.

The photo and the pseudo views are the model's own renders of two random latents (a step's cost does not depend
on what the images show), so no mesh or synthetic truth is built. Prints one JSON line (and writes it to --out).
To compare two versions of the code on one machine, run this script from one checkout with the other's package
first on the path (``PYTHONPATH=../old python bench/step_speed.py``), alternately, since CPUs drift by ±5 %.

    python bench/step_speed.py [--steps 10] [--repeats 3] [--out bench/results/step_speed.json]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch
from report import cpu_name, emit

import invert3d
from invert3d.cameras import pose_label
from invert3d.checkpoints import load_generator
from invert3d.config import preset
from invert3d.inversion.losses import ReconstructionLoss
from invert3d.inversion.projection import fit_latent
from invert3d.inversion.tuning import tune
from invert3d.pseudo_views import PseudoViews, pseudo_cameras
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene


def _median_seconds(run, steps: int, repeats: int) -> float:
    run(2)  # warm-up: first-touch allocations, oneDNN kernel selection, LPIPS target features
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(steps)
        times.append((time.perf_counter() - start) / steps)
    return round(statistics.median(times), 4)


def _positive(text: str) -> int:
    """argparse type: an integer >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=_positive, default=10)
    ap.add_argument("--repeats", type=_positive, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    tune_runtime()
    torch.manual_seed(0)
    G = load_generator().requires_grad_(False)
    cfg = preset("fast")
    camera = pose_label(0.25, 0.0)
    with torch.no_grad():
        ws = G.mapping(torch.randn(2, G.z_dim), camera.expand(2, -1))
        scene, other = Scene.with_lens_of(G, ws[:1], camera), Scene.with_lens_of(G, ws[1:], camera)
        photo = scene.render(camera)["image"]
        cameras = pseudo_cameras(scene.rig, cfg.pseudo)
        renders = torch.cat([out["image"] for out in other.renders(cameras)])
    half = torch.zeros_like(renders[:, :1])
    half[..., : half.shape[-1] // 2] = 1
    pseudo = PseudoViews(cameras, renders, half, renders, half, renders)
    loss_fn = ReconstructionLoss(cfg.loss, "cpu")

    def projection(steps: int) -> None:
        torch.manual_seed(0)
        fit_latent(G, photo, camera, replace(cfg.coarse, steps=steps), loss_fn)

    def tuning(steps: int) -> None:
        torch.manual_seed(0)
        tune(copy.deepcopy(G), ws[1:], photo, camera, replace(cfg.tuning, steps=steps), loss_fn, pseudo=pseudo)

    emit({"package": str(Path(invert3d.__file__).parent), "cpu": cpu_name(),
          "threads": torch.get_num_threads(), "lpips_precision": loss_fn.precision, "steps": args.steps,
          "repeats": args.repeats,
          "projection_step_s": _median_seconds(projection, args.steps, args.repeats),
          "tuning_step_s": _median_seconds(tuning, args.steps, args.repeats)}, args.out)


if __name__ == "__main__":
    main()
