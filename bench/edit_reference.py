"""How close an attribute edit can come: each true edit's photo inverted afresh, beside the edit of the unedited
result, both scored against the true edit (docs/benchmark.md 3b).

Issue 16 asks an edit's fidelity to stay within 1.5 dB of the unedited result's. A fresh inversion of the true
edited photo is what the tool reaches when it is *given* the edited photo; where that too falls short of the
margin, the generator draws the edited subject less faithfully than the original one, and an edit of the result,
which sees only the original photo, is not expected to close the gap.

    python bench/edit_reference.py E [--only [SUBJECT:]ATTRIBUTE=STRENGTH ...] [--method hfgi3d] [--out FILE.json]

E: a finished ``invert3d bench --suite edit`` folder (its results.json and pivots). The fresh inversions, with the
suite's settings for the method, go to E/runs/<subject>_<attribute><strength>/<method> beside the pivots (about
4 min each on two cores; a finished one is reused).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from report import emit

from invert3d.benchmark.edits import ATTRIBUTES, FIDELITY_MARGIN, STRENGTHS, _invert
from invert3d.benchmark.run import case_subject
from invert3d.benchmark.suites import SUITES
from invert3d.checkpoints import checkpoint_identity, load_generator
from invert3d.pipeline.evaluate import mean_scores, score_subject
from invert3d.runtime import tune_runtime


def _edit(text: str) -> tuple[str, str, float]:
    """'[SUBJECT:]skin_tone=-1.5' -> (subject prefix, 'skin_tone', -1.5); no prefix: every subject."""
    subject, _, edit = text.rpartition(":")
    name, _, strength = edit.partition("=")
    try:
        value = float(strength)
    except ValueError:
        value = None
    if name not in ATTRIBUTES or value not in STRENGTHS:
        raise argparse.ArgumentTypeError(f"{text!r}: give [SUBJECT:]ATTRIBUTE=STRENGTH with an attribute of "
                                         f"{', '.join(ATTRIBUTES)} and a strength of {STRENGTHS}")
    return subject, name, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite_dir", type=Path, help="a finished invert3d bench --suite edit folder")
    parser.add_argument("--only", type=_edit, action="append", default=[], metavar="[SUBJECT:]ATTRIBUTE=STRENGTH",
                        help="only these edits, of the subjects whose case name starts with SUBJECT (e.g. "
                        "s001:skin_tone=-1.5; repeatable; default: every subject, attribute and strength)")
    parser.add_argument("--method", default="hfgi3d", help="the pivots' method, also the fresh inversions'")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    try:
        suite = json.loads((args.suite_dir / "results.json").read_text())
    except (OSError, ValueError):
        raise SystemExit(f"error: {args.suite_dir}/results.json is missing or unreadable: run the edit suite first")
    edited = {(r["subject"], r["attribute"], r["strength"]): r for r in suite["rows"]
              if r["method"] == args.method and r["directions"] == "plain"}
    if not edited:
        raise SystemExit(f"error: {args.suite_dir} has no plain edits of {args.method} pivots")
    wanted = args.only or [("", name, s) for name in ATTRIBUTES for s in STRENGTHS]
    tune_runtime()
    resolution = load_generator().img_resolution
    rows = []
    for case in SUITES["edit"]:
        for subject, name, s in wanted:
            row = edited.get((case.name, name, s))
            if row is None or not case.name.startswith(subject):
                continue
            shifted = case.shifted(name, s)
            # an inversion tunes the generator it is given: a fresh copy each
            fresh = _invert(load_generator(), shifted, args.method, args.suite_dir, checkpoint_identity(None))
            true_dir, true_geometry = case_subject(shifted, args.suite_dir, resolution)
            psnr = mean_scores(score_subject(fresh.open(), true_dir, true_geometry).novel)["psnr"]
            rows.append({"subject": case.name, "attribute": name, "strength": s,
                         "fidelity_psnr": row["fidelity_psnr"], "edit_psnr": row["edit_psnr"],
                         "fresh_psnr": round(psnr, 3), "fresh_seconds": fresh.read_summary().get("seconds")})
            print(f"{case.name} {name} {s:+g}: fidelity {row['fidelity_psnr']:.2f}, edit {row['edit_psnr']:.2f}, "
                  f"fresh inversion of the true edit {psnr:.2f} dB", flush=True)
    if not rows:
        raise SystemExit("error: none of the asked edits is in the suite's results")
    summary = {kind: {"mean_psnr": round(statistics.mean(r[f"{kind}_psnr"] for r in rows), 3),
                      "within_margin": sum(r["fidelity_psnr"] - r[f"{kind}_psnr"] <= FIDELITY_MARGIN for r in rows),
                      "edits": len(rows)} for kind in ("edit", "fresh")}
    emit({"bench": "edit_reference", "method": args.method, "summary": summary, "rows": rows}, args.out)


if __name__ == "__main__":
    main()
