"""How an attribute edit's fidelity depends on its strength: the shipped edit at |strength| 1 to 2 (issue 16's
range) against the true edit (docs/benchmark.md 3b).

The edit suite scores ±1.5 sd; this scores the pivots of a finished suite folder at any strengths, with
``invert3d edit``'s default (the shipped direction, scaled by the subject's own response at its kept latent)
and ``--mean-edit``, beside the unedited result against the same true edit and the pivot's fidelity (the
unedited result against its own truth). True edits it lacks are made in the folder (``invert3d synth --shift``'s
subject, traced once). ``--layers A-B`` moves only those W+ layers (``invert3d edit --layers``).

    python bench/edit_strengths.py E [--strengths -2,-1,1,2] [--layers A-B] [--method hfgi3d] [--suite edit]
        [--seeds 1,2] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import statistics

import torch
from pivots import novel_psnr, parse_pivots, pivot_parser
from report import emit

from invert3d.benchmark.edits import ATTRIBUTES, FIDELITY_MARGIN
from invert3d.benchmark.run import case_subject
from invert3d.cli.edit import layer_range
from invert3d.editing.directions import Directions, apply_edit
from invert3d.editing.edit import EMBEDDED_DIRECTIONS, edit_offset
from invert3d.errors import Invert3dError
from invert3d.pipeline.layout import ResultFolder
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene


def _strengths(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if any(value == 0 for value in values):
        raise argparse.ArgumentTypeError("a strength of 0 is no edit")
    return values


def main() -> None:
    parser = pivot_parser(__doc__)
    parser.add_argument("--strengths", type=_strengths, default=[-2.0, -1.0, 1.0, 2.0], help="sd, comma-separated")
    parser.add_argument("--layers", help="move only these W+ layers, e.g. 0-4 (both included; default: all)")
    args, cases = parse_pivots(parser)
    try:
        layers = layer_range(args.layers)
    except Invert3dError as error:
        parser.error(str(error))
    tune_runtime()
    torch.set_grad_enabled(False)
    directions = Directions.load(EMBEDDED_DIRECTIONS)
    rows, fidelity = [], {}
    for case in cases:
        pivot = ResultFolder(args.suite_dir / "runs" / case.name / args.method)
        tuned = pivot.open()
        fidelity[case.name] = novel_psnr(tuned, *case_subject(case, args.suite_dir, tuned.G.img_resolution))
        for name in ATTRIBUTES:
            offsets = {"subject_aware": edit_offset(pivot, directions, name)[0],
                       "mean_edit": edit_offset(pivot, directions, name, mean_edit=True)[0]}
            for s in args.strengths:
                truth = case_subject(case.shifted(name, s), args.suite_dir, tuned.G.img_resolution)
                psnr = {"unedited": novel_psnr(tuned, *truth),
                        **{kind: novel_psnr(Scene(tuned.G, apply_edit(tuned.ws, offset(s), 1.0, layers), tuned.intrinsics),
                                            *truth) for kind, offset in offsets.items()}}
                rows.append({"subject": case.name, "attribute": name, "strength": s,
                             **{kind: round(value, 3) for kind, value in psnr.items()}})
                print(f"{case.name} {name} {s:+g}: " + ", ".join(f"{k} {v:.2f}" for k, v in psnr.items()), flush=True)
    summary = {}
    for size in sorted({abs(r["strength"]) for r in rows}):
        part = [r for r in rows if abs(r["strength"]) == size]
        summary[f"{size:g}"] = {kind: {
            "mean_psnr": round(statistics.mean(r[kind] for r in part), 3),
            "gain_at_least_1db": sum(r[kind] - r["unedited"] >= 1 for r in part),
            "within_margin": sum(fidelity[r["subject"]] - r[kind] <= FIDELITY_MARGIN for r in part),
            "edits": len(part)} for kind in ("subject_aware", "mean_edit")}
    emit({"bench": "edit_strengths", "method": args.method, "layers": list(layers) if layers else "all",
          "fidelity": {k: round(v, 3) for k, v in fidelity.items()}, "summary": summary, "rows": rows}, args.out)


if __name__ == "__main__":
    main()
