"""What perfect single-view geometry would buy hfgi3d: its pseudo views built on the subject's TRUE mesh.

For each subject of a finished bench folder (``invert3d bench --suite S --methods pti,hfgi3d --out B``), an
hfgi3d run starts from the plain hfgi3d run's stage-1 latent with the true mesh (``subjects/CASE/mesh.ply``) in
place of the coarse mesh of stage 2, and runs stages 3-6 as the plain run did (``--set``: settings for it, e.g.
``tuning.visible_falloff=null``). Prints input and novel-view PSNR, decal PSNR and novel LPIPS of PTI, hfgi3d and
the oracle per subject and their means (one JSON line).

    python bench/true_mesh_oracle.py B [--suite sweep] [--set KEY=VALUE ...] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
from report import emit

from invert3d.benchmark.methods import method_config
from invert3d.benchmark.run import case_subject
from invert3d.benchmark.suites import SUITES
from invert3d.cameras import load_label
from invert3d.checkpoints import load_generator
from invert3d.geometry import read_ply
from invert3d.media import load_photo
from invert3d.pipeline.evaluate import mean_scores, score_subject
from invert3d.pipeline.invert import invert_photo, prepare_folder, run_config
from invert3d.pipeline.layout import ResultFolder
from invert3d.pipeline.stages import seed_stages
from invert3d.runtime import tune_runtime

METHODS = ("pti", "hfgi3d")  # the bench folder's runs the oracle is set beside


def oracle_run(bench: Path, suite: str, case, subject: Path, settings: list[str]) -> ResultFolder:
    """The case's hfgi3d run on the true mesh (made once; reused when finished), with a fresh generator (the run
    tunes it in place)."""
    G = load_generator()
    camera = load_label(subject / "input_camera.json")
    cfg = method_config(suite, "hfgi3d", settings)
    config = run_config(cfg, subject / "input.png", camera, {"path": "embedded"}, G)
    folder = ResultFolder(bench / "runs" / case.name / "_".join(["hfgi3d_true_mesh", *settings]))
    if not prepare_folder(folder, config):
        photo = load_photo(subject / "input.png", G.img_resolution)
        seed_stages(ResultFolder(bench / "runs" / case.name / "hfgi3d"), folder, ("coarse", "geometry"))
        mesh = read_ply(subject / "mesh.ply")
        np.savez(folder.stages / "coarse_mesh.npz", vertices=mesh.vertices, faces=mesh.faces)
        invert_photo(G, photo, camera, cfg, folder.root, config, quiet=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bench", type=Path, help="a finished invert3d bench folder with pti and hfgi3d runs")
    parser.add_argument("--suite", default="sweep")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    tune_runtime()
    missing = [f"{case.name}/{m}" for case in SUITES[args.suite] for m in METHODS
               if not ResultFolder(args.bench / "runs" / case.name / m).is_finished()]
    if missing:
        raise SystemExit(f"error: {args.bench} lacks finished runs {', '.join(missing)} (invert3d bench --suite "
                         f"{args.suite} --methods {','.join(METHODS)} --out {args.bench})")
    resolution = load_generator().img_resolution
    rows = []
    for case in SUITES[args.suite]:
        subject, geometry = case_subject(case, args.bench, resolution)
        runs = {m: ResultFolder(args.bench / "runs" / case.name / m) for m in METHODS}
        runs["true_mesh"] = oracle_run(args.bench, args.suite, case, subject, args.settings)
        row = {"subject": case.name}
        for name, folder in runs.items():
            scores = score_subject(folder.open(), subject, geometry)
            m = mean_scores(scores.novel)
            row[name] = {"input_psnr": round(scores.input.psnr, 3), "novel_psnr": round(m["psnr"], 3),
                         "decal_psnr": round(m["decal_psnr"], 3), "novel_lpips": round(m["lpips_alex"], 4)}
        rows.append(row)
    means = {name: {k: round(statistics.mean(r[name][k] for r in rows), 3) for k in rows[0][name]}
             for name in (*METHODS, "true_mesh")}
    emit({"bench": "true_mesh_oracle", "suite": args.suite, "settings": args.settings, "means": means,
          "rows": rows}, args.out)


if __name__ == "__main__":
    main()
