"""What the bench scripts that edit a bench folder's pivots share (an edit suite's, ``invert3d bench --suite edit
--out E``, by default; any suite's with ``--suite``): their command line (the folder, the suite that wrote it, a
subset of its seeds, the pivots' method, the output file), the cases whose pivot finished, and the score they
compare (mean PSNR of a scene's novel views against a truth)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from invert3d.benchmark.suites import SUITES, Case
from invert3d.pipeline.evaluate import mean_scores, score_subject
from invert3d.pipeline.layout import ResultFolder
from invert3d.scene import Scene


def pivot_parser(doc: str) -> argparse.ArgumentParser:
    """A parser with the bench folder, ``--suite``, ``--seeds``, ``--method`` and ``--out``; the script adds its
    own options."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("suite_dir", type=Path, help="an invert3d bench folder (of --suite)")
    parser.add_argument("--method", default="hfgi3d", help="the pivots' method (a folder name under runs/CASE/)")
    parser.add_argument("--suite", default="edit", choices=sorted(SUITES),
                        help="the suite that wrote the folder (default: edit); its subjects are the pivots")
    parser.add_argument("--seeds", type=_seeds, help="only these subjects' seeds, comma-separated (default: all)")
    parser.add_argument("--out", type=Path)
    return parser


def _seeds(text: str) -> set[int]:
    try:
        return {int(part) for part in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of seeds: {text!r}") from None


def parse_pivots(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[Case]]:
    """(the arguments, the suite's cases, of ``--seeds`` if given, whose pivot finished: a run cut short has
    fewer); none: a one-line usage error, exit 2."""
    args = parser.parse_args()
    unknown = (args.seeds or set()) - {case.seed for case in SUITES[args.suite]}
    if unknown:
        parser.error(f"suite {args.suite} has no subject of seed {', '.join(map(str, sorted(unknown)))}")
    cases = [case for case in SUITES[args.suite] if (args.seeds is None or case.seed in args.seeds)
             and ResultFolder(args.suite_dir / "runs" / case.name / args.method).is_finished()]
    if not cases:
        parser.error(f"no finished {args.method} pivot of suite {args.suite} under {args.suite_dir}/runs")
    return args, cases


@torch.no_grad()
def novel_psnr(scene: Scene, subject: Path, geometry) -> float:
    """Mean PSNR (dB) of ``scene``'s novel views against the truth in ``subject`` (``case_subject``'s pair)."""
    return mean_scores(score_subject(scene, subject, geometry).novel)["psnr"]
