"""Texture edits against the truth: the photo of a plain subject, "painted" with a decal, re-inverted on the
plain result's coarse geometry (``invert3d edit RESULT --texture``), scored at the truth's novel views against
the decorated subject's truth (the paint's true 3D extent). Baselines: the plain result (no edit) and a fresh
inversion of the painted photo, whose seconds the texture edit's are set against. The decal scores are over the
views within +-0.3 rad of yaw that show it.

    python bench/texture_edit.py [--seeds 1,2] [--decal tattoo] --work DIR [--out FILE.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from invert3d.cameras import load_label
from invert3d.checkpoints import checkpoint_identity, load_generator
from invert3d.config import preset
from invert3d.editing.texture import edit_texture
from invert3d.media import load_photo
from invert3d.pipeline.evaluate import score_subject, truth_geometry
from invert3d.pipeline.jobs import Job, run_job
from invert3d.pipeline.layout import ResultFolder
from invert3d.runtime import tune_runtime
from invert3d.synthetic.subject import make_subject, write_subject

from edit_quality import DECAL, YAWS
from report import emit

NEAR_YAW = 0.3  # rad: the views the target asks the paint to be legible in


def _near(scores) -> list:
    return [s for s in scores.novel if s.decal_psnr is not None and abs(float(s.name.split("_")[0][3:])) <= NEAR_YAW]


def _summary(scores) -> dict:
    near = _near(scores)
    return {"novel_psnr": round(statistics.mean(s.psnr for s in scores.novel), 3),
            "decal_psnr_near": round(statistics.mean(s.decal_psnr for s in near), 3) if near else None,
            "decal_lpips_near": round(statistics.mean(s.decal_lpips for s in near), 4) if near else None,
            "views_near": len(near)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--decal", default=DECAL)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    tune_runtime()
    G = load_generator()
    cfg = preset("fast", "hfgi3d")
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        yaw = YAWS.get(seed, 0.2)
        plain_dir, painted_dir = args.work / f"s{seed:03d}_plain", args.work / f"s{seed:03d}_{args.decal}"
        painted = make_subject(seed, args.decal)
        for subject, path in ((make_subject(seed), plain_dir), (painted, painted_dir)):
            if not (path / "subject.json").is_file():
                write_subject(subject, path, yaw, 0.0, G.img_resolution, mesh_resolution=48)
        truth = truth_geometry(painted.field, painted_dir, G.img_resolution, painted.decals)
        camera = load_label(plain_dir / "input_camera.json")
        plain = ResultFolder(args.work / f"r{seed:03d}_plain")
        run_job(Job(plain_dir / "input.png", plain.root, load_photo(plain_dir / "input.png", G.img_resolution),
                    camera), G, cfg, checkpoint_identity(), quiet=True)
        started = time.monotonic()
        edited = ResultFolder(args.work / f"r{seed:03d}_texture")
        edit_texture(plain.root, painted_dir / "input.png", edited.root, quiet=True)
        edit_seconds = round(time.monotonic() - started, 1)
        started = time.monotonic()
        fresh = ResultFolder(args.work / f"r{seed:03d}_fresh")
        run_job(Job(painted_dir / "input.png", fresh.root, load_photo(painted_dir / "input.png", G.img_resolution),
                    camera), G, cfg, checkpoint_identity(), quiet=True)
        fresh_seconds = round(time.monotonic() - started, 1)
        row = {"seed": seed, "decal": args.decal, "texture_edit_seconds": edit_seconds,
               "fresh_inversion_seconds": fresh_seconds}
        for name, folder in (("unedited", plain), ("texture_edit", edited), ("fresh_inversion", fresh)):
            row[name] = _summary(score_subject(folder.open(), painted_dir, truth))
        rows.append(row)
        print(f"s{seed}: decal PSNR near (|yaw| <= {NEAR_YAW}) unedited {row['unedited']['decal_psnr_near']}, "
              f"texture edit {row['texture_edit']['decal_psnr_near']} ({edit_seconds} s), fresh "
              f"{row['fresh_inversion']['decal_psnr_near']} ({fresh_seconds} s)", flush=True)
    emit({"bench": "texture_edit", "preset": "fast", "method": "hfgi3d", "near_yaw": NEAR_YAW, "rows": rows}, args.out)


if __name__ == "__main__":
    main()
