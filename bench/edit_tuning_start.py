"""Where the tuning starts, and how well the result then edits (docs/benchmark.md 3b).

Re-runs stage 6 of each pivot of a finished edit-suite folder from another latent, with the pivot's own pseudo
views, settings and seeds (what ``--set tuning.start=...`` does in a fresh inversion, stages 1-5 being the
same), and scores the re-tuned result (fidelity: its novel views against its truth) and its attribute edits
(``invert3d edit``'s default: the shipped direction scaled by the subject's response at its kept latent) against
the true edits, beside the pivot's. Starts: ``occluded``, the occluded part's z_o (stage 4, fitted in Z);
``subject``, the mapping of the subject latent ``invert3d edit`` fitted (``subject_latent.safetensors``).

    python bench/edit_tuning_start.py E [--start occluded] [--method hfgi3d] [--out FILE.json]
"""

from __future__ import annotations

import statistics
import time

import torch
from pivots import novel_psnr, parse_pivots, pivot_parser
from report import emit
from safetensors.torch import load_file

from invert3d.benchmark.edits import ATTRIBUTES, FIDELITY_MARGIN, STRENGTHS
from invert3d.benchmark.run import case_subject
from invert3d.checkpoints import load_generator
from invert3d.config import InversionConfig
from invert3d.editing.directions import Directions, apply_edit
from invert3d.editing.edit import EMBEDDED_DIRECTIONS, edit_offset
from invert3d.editing.subject import subject_latent
from invert3d.inversion.losses import ReconstructionLoss
from invert3d.inversion.tuning import tune
from invert3d.media import load_photo
from invert3d.pipeline.layout import ResultFolder
from invert3d.pseudo_views import PseudoViews
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene


def start_latent(pivot: ResultFolder, start: str, G) -> torch.Tensor:
    """ws [1, num_ws, w_dim] the re-tuning starts from."""
    if start == "occluded":
        return load_file(str(pivot.stages / "occluded.safetensors"))["ws"]
    with torch.no_grad():
        return G.mapping(subject_latent(pivot)[None], pivot.input_camera()[None])


def retuned(pivot: ResultFolder, start: str, intrinsics: torch.Tensor | None) -> tuple[Scene, float]:
    """The pivot's stage 6 again from ``start``: (the scene, seen through ``intrinsics``; seconds)."""
    cfg = InversionConfig.from_dict(pivot.read_config()["inversion"])
    G = load_generator()
    started = time.monotonic()
    torch.manual_seed(cfg.seed + 2)  # as the pipeline seeds stage 6
    ws = tune(G, start_latent(pivot, start, G), load_photo(pivot.input, G.img_resolution), pivot.input_camera(),
              cfg.tuning, ReconstructionLoss(cfg.loss), seed=cfg.seed + 2,
              pseudo=PseudoViews.load(pivot.stages / "pseudo_views.safetensors"))
    return Scene(G.eval().requires_grad_(False), ws, intrinsics), time.monotonic() - started


def main() -> None:
    parser = pivot_parser(__doc__)
    parser.add_argument("--start", choices=("occluded", "subject"), default="occluded")
    args, cases = parse_pivots(parser)
    tune_runtime()
    directions = Directions.load(EMBEDDED_DIRECTIONS)
    rows, subjects = [], {}
    for case in cases:
        pivot = ResultFolder(args.suite_dir / "runs" / case.name / args.method)
        scenes = {"pivot": pivot.open()}
        scenes["retuned"], seconds = retuned(pivot, args.start, scenes["pivot"].intrinsics)
        truth = case_subject(case, args.suite_dir, scenes["pivot"].G.img_resolution)
        subjects[case.name] = {"fidelity": {k: round(novel_psnr(s, *truth), 3) for k, s in scenes.items()},
                               "retune_seconds": round(seconds, 1)}
        print(case.name, subjects[case.name], flush=True)
        for name in ATTRIBUTES:
            offset = edit_offset(pivot, directions, name)[0]
            for s in STRENGTHS:
                true_edit = case_subject(case.shifted(name, s), args.suite_dir, scenes["pivot"].G.img_resolution)
                psnr = {k: round(novel_psnr(Scene(scene.G, apply_edit(scene.ws, offset(s), 1.0), scene.intrinsics),
                                            *true_edit), 3) for k, scene in scenes.items()}
                rows.append({"subject": case.name, "attribute": name, "strength": s, **psnr})
                print(f"  {name} {s:+g}: {psnr}", flush=True)
    summary = {}
    for kind in ("pivot", "retuned"):
        gaps = [subjects[r["subject"]]["fidelity"][kind] - r[kind] for r in rows]
        summary[kind] = {"mean_fidelity": round(statistics.mean(v["fidelity"][kind] for v in subjects.values()), 3),
                         "mean_edit_psnr": round(statistics.mean(r[kind] for r in rows), 3),
                         "within_margin": sum(g <= FIDELITY_MARGIN for g in gaps), "edits": len(rows)}
    emit({"bench": "edit_tuning_start", "start": args.start, "method": args.method, "subjects": subjects,
          "summary": summary, "rows": rows}, args.out)


if __name__ == "__main__":
    main()
