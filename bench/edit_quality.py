"""Attribute edits of inverted results against the true edit (issue 16's benchmark), on the embedded model.

Each decorated subject is inverted once (fast preset); each edit moves its result by a strength (sd of the
attribute) along the shipped direction, rendered by the result's tuned generator. The true edit is the same
subject with that latent coordinate shifted (``invert3d synth --shift``), traced at the same cameras. Per edit,
over the truth's novel views: PSNR of the edited result against the true edit, of the unedited result against
the true edit (the baseline an edit must beat), of the unedited result against the unedited truth (fidelity);
PSNR inside the decal against the true edit (does the tattoo survive); the other attributes' change read off
the latent (a least-squares readout of each label from w, on 20,000 samples), in sd; seconds per edit.

    python bench/edit_quality.py [--seeds 1,2] [--attributes skin_tone,hair_tone,skull_width,hair_volume]
                                 [--strengths -1.5,1.5] [--method hfgi3d] [--conditional] --work DIR [--out FILE.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from invert3d.cameras import load_label
from invert3d.checkpoints import checkpoint_identity, load_generator
from invert3d.config import preset
from invert3d.editing import apply_edit
from invert3d.editing.edit import EMBEDDED_DIRECTIONS
from invert3d.editing.directions import Directions
from invert3d.editing.samples import synthetic_samples
from invert3d.media import image_grid, load_photo, save_png
from invert3d.pipeline.evaluate import mean_scores, score_subject, truth_geometry
from invert3d.pipeline.jobs import Job, run_job
from invert3d.pipeline.layout import ResultFolder
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene
from invert3d.synthetic.params import PARAMETER_NAMES
from invert3d.synthetic.subject import make_subject, write_subject

from report import emit

DECAL = "tattoo"
YAWS = {1: 0.25, 2: -0.2, 3: 0.1, 4: 0.3}  # input view yaw (rad) by subject seed; 0.2 for others


def _subject(root: Path, seed: int, shift: dict[str, float] | None, resolution: int):
    """A subject folder (made once) and its truth geometry with decal regions."""
    name = f"s{seed:03d}" + "".join(f"_{k}{v:+g}" for k, v in (shift or {}).items())
    path = root / "subjects" / name
    subject = make_subject(seed, DECAL, shift=shift)
    if not (path / "subject.json").is_file():
        write_subject(subject, path, YAWS.get(seed, 0.2), 0.0, resolution, mesh_resolution=48)
    return path, truth_geometry(subject.field, path, resolution, subject.decals)


def _readout(G) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares readout of every label from w: (weights [w_dim + 1, K], label sd [K])."""
    w, labels, _ = synthetic_samples(G, 20_000, seed=1)
    x = torch.cat([w, torch.ones(len(w), 1)], dim=1).double()
    return torch.linalg.lstsq(x, labels.double()).solution.float(), labels.std(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--attributes", default="skin_tone,hair_tone,skull_width,hair_volume")
    parser.add_argument("--strengths", default="-1.5,1.5")
    parser.add_argument("--method", default="hfgi3d", choices=("hfgi3d", "pti"))
    parser.add_argument("--conditional", action="store_true")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    tune_runtime()
    G0 = load_generator()
    directions = Directions.load(EMBEDDED_DIRECTIONS)
    readout, label_sd = _readout(G0)
    attributes = args.attributes.split(",")
    strengths = [float(s) for s in args.strengths.split(",")]
    rows, strips = [], []
    for seed in (int(s) for s in args.seeds.split(",")):
        plain_dir, plain_geometry = _subject(args.work, seed, None, G0.img_resolution)
        result = ResultFolder(args.work / "results" / f"s{seed:03d}_{args.method}")
        job = Job(plain_dir / "input.png", result.root, load_photo(plain_dir / "input.png", G0.img_resolution),
                  load_label(plain_dir / "input_camera.json"))
        run_job(job, G0, preset("fast", args.method), checkpoint_identity(), quiet=True)
        scene = result.open()
        fidelity = mean_scores(score_subject(scene, plain_dir, plain_geometry).novel)
        for name in attributes:
            k = PARAMETER_NAMES.index(name)
            step = directions.step(name, args.conditional)
            for strength in strengths:
                true_dir, true_geometry = _subject(args.work, seed, {name: strength}, G0.img_resolution)
                started = time.monotonic()  # the edit and its 12 scored renders, not the truth's tracing
                edited = Scene(scene.G, apply_edit(scene.ws, step, strength), scene.intrinsics)
                edit_scores = score_subject(edited, true_dir, true_geometry)
                seconds = round(time.monotonic() - started, 1)
                baseline = mean_scores(score_subject(scene, true_dir, true_geometry).novel)
                edit = mean_scores(edit_scores.novel)
                moved = (step @ readout[:-1]) * strength / label_sd  # [K] labels moved, in sd
                others = torch.cat([moved[:k], moved[k + 1:]]).abs()
                rows.append({"seed": seed, "attribute": name, "strength": strength,
                             "edit_psnr": edit["psnr"], "unedited_psnr": baseline["psnr"],
                             "gain_db": round(edit["psnr"] - baseline["psnr"], 3),
                             "edit_lpips": edit["lpips_alex"], "unedited_lpips": baseline["lpips_alex"],
                             "edit_decal_psnr": edit.get("decal_psnr"), "fidelity_psnr": fidelity["psnr"],
                             "asked_sd": strength, "achieved_sd": round(float(moved[k]), 3),
                             "leak_max_sd": round(float(others.max()), 3),
                             "leak_worst": PARAMETER_NAMES[[j for j in range(len(moved)) if j != k][int(others.argmax())]],
                             "seconds_per_edit": seconds})
                print(f"s{seed} {name} {strength:+g}: edit {edit['psnr']:.2f} dB vs unedited {baseline['psnr']:.2f} "
                      f"(gain {rows[-1]['gain_db']:+.2f}), achieved {moved[k]:+.2f} sd, leak <= {others.max():.2f} sd",
                      flush=True)
                strips.append([s.truth for s in edit_scores.novel[:5]] + [s.image for s in edit_scores.novel[:5]])
    if strips:
        save_png(args.work / "edit_strips.png", image_grid([im for strip in strips for im in strip], 10))
    gains = [r["gain_db"] for r in rows]
    emit({"bench": "edit_quality", "method": args.method, "conditional": args.conditional, "rows": rows,
          "mean_gain_db": round(statistics.mean(gains), 3), "min_gain_db": round(min(gains), 3),
          "max_leak_sd": max(r["leak_max_sd"] for r in rows),
          "mean_seconds_per_edit": round(statistics.mean(r["seconds_per_edit"] for r in rows), 1)}, args.out)


if __name__ == "__main__":
    main()
