"""The command line of the bench scripts that read the pivots of an edit-suite folder (``invert3d bench --suite
edit --out E``): the folder, the pivots' method and the output file, and the cases whose pivot finished."""

from __future__ import annotations

import argparse
from pathlib import Path

from invert3d.benchmark.edits import finished_pivots
from invert3d.benchmark.suites import Case
from invert3d.errors import Invert3dError


def pivot_parser(doc: str) -> argparse.ArgumentParser:
    """A parser with the suite folder, ``--method`` and ``--out``; the script adds its own options."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("suite_dir", type=Path, help="an invert3d bench --suite edit folder")
    parser.add_argument("--method", default="hfgi3d", help="the pivots' method (a folder name under runs/CASE/)")
    parser.add_argument("--out", type=Path)
    return parser


def parse_pivots(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[Case]]:
    """(the arguments, the suite's cases whose pivot finished); none: a one-line usage error, exit 2."""
    args = parser.parse_args()
    try:
        return args, finished_pivots(args.suite_dir, args.method)
    except Invert3dError as error:
        parser.error(str(error))
