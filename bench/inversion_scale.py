"""Every inversion stage on a full-size EG3D (random weights, FFHQ 512 architecture) for a few steps: seconds
per stage, seconds per optimization step, and peak memory per stage. Prints one JSON line.

    python bench/inversion_scale.py [--preset ffhq512] [--steps 3] [--photo P.png --camera P.npy] [--device cpu]
                                    [--set KEY=VALUE ...]

The inversion runs with the paper preset's settings (``--set`` changes any of them, as ``invert3d invert`` does).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from report import emit

from invert3d.cameras import load_label
from invert3d.config import preset
from invert3d.generator import TriPlaneGenerator, preset as generator_preset
from invert3d.media import load_photo
from invert3d.pipeline.invert import invert_photo, run_config
from invert3d.runtime import resolve_device, tune_runtime
from invert3d.settings import with_assignments

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "photos"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="ffhq512")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--photo", type=Path, default=PHOTOS / "00001.png")
    ap.add_argument("--camera", type=Path, default=PHOTOS / "00001.npy")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, help="also write the JSON line here")
    ap.add_argument("--set", dest="settings", action="append", default=[], help="an inversion setting KEY=VALUE")
    args = ap.parse_args()
    tune_runtime()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    G = TriPlaneGenerator(generator_preset(args.preset)).to(device).eval().requires_grad_(False)
    n = args.steps
    try:
        cfg = with_assignments(preset("paper"), [*args.settings, f"coarse.steps={n}", f"pseudo.occluded.steps={n}",
                                                 f"tuning.steps={n}", "log_every=1", "orbit_frames=8"])
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    camera = load_label(args.camera, args.photo.name)
    photo = load_photo(args.photo, G.img_resolution)
    with tempfile.TemporaryDirectory() as tmp:
        summary = invert_photo(G, photo, camera, cfg, Path(tmp) / "r",
                               run_config(cfg, args.photo, camera, {"path": f"random-init {args.preset}", "sha256": None}, G))
    seconds = summary["seconds"]
    emit({"bench": "inversion_scale", "generator": args.preset, "device": str(device), "steps": n,
          "settings": args.settings,
          "seconds": seconds, "peak_memory_mb": summary["peak_memory_mb"],
          "seconds_per_step": {k: round(seconds[k] / n, 2) for k in ("coarse", "occluded", "tuning")}}, args.out)


if __name__ == "__main__":
    main()
