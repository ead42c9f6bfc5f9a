"""``invert3d metrics``: full-reference scores of one image, or a folder of images, against another."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from invert3d import console
from invert3d.errors import Invert3dError


def _pairs(a: Path, b: Path) -> list[tuple[Path, Path]]:
    from invert3d.media import IMAGE_SUFFIXES

    for path in (a, b):
        if not path.exists():
            raise Invert3dError(f"not found: {path}")
    if a.is_file() and b.is_file():
        return [(a, b)]
    if a.is_dir() and b.is_dir():
        names = sorted(p.name for p in a.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        pairs = [(a / n, b / n) for n in names if (b / n).is_file()]
        if not pairs:
            raise Invert3dError(f"{a} and {b} share no image file names")
        return pairs
    kind = {True: "folder", False: "file"}
    raise Invert3dError(f"{a} is a {kind[a.is_dir()]} and {b} a {kind[b.is_dir()]}: give two image files, or two "
                        "folders (their images are paired by file name)")


def _mean(values: list[float | None]) -> float | None:
    """Mean of the values that exist (identity is None where no face was found), rounded; None if none do."""
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None


def metrics(
    a: Path = typer.Argument(..., metavar="IMAGE", help="Image or folder."),
    b: Path = typer.Argument(..., metavar="REFERENCE", help="Reference image or folder (same names)."),
) -> None:
    """Print PSNR, SSIM, MS-SSIM, LPIPS (AlexNet, VGG) and, where dlib loads, the face identity distance (dlib
    ResNet descriptors; below 0.6 is the same person; null where no face is found) as JSON:
    {"pairs": [one record per image pair], "mean": {...}}. Images are compared at their own size, which must match."""
    from invert3d.media import from_uint8, read_rgb
    from invert3d.metrics import IMAGE_SCORES, image_scores
    from invert3d.metrics.identity import IdentityUnavailable, identity_model

    pairs = _pairs(a, b)
    images = []
    for pa, pb in pairs:  # every pair read and checked before any scoring
        x, y = read_rgb(pa), read_rgb(pb)
        if x.shape != y.shape:
            raise Invert3dError(f"{pa.name} is {x.shape[1]}x{x.shape[0]} and {pb} {y.shape[1]}x{y.shape[0]}: "
                                "compare images of one size")
        images.append((pa, x, y))
    try:
        identity = identity_model()
    except IdentityUnavailable as exc:
        identity = None
        console.note(f"identity score skipped: {exc}")
    rows = []
    for pa, x, y in images:
        scores = image_scores(from_uint8(x), from_uint8(y))
        rows.append({"image": pa.name, **{k: round(float(v[0]), 4) for k, v in scores.items()}})
        if identity is not None:
            distance = identity.distance(x, y)
            rows[-1]["identity"] = None if distance is None else round(distance, 4)
    keys = IMAGE_SCORES + (("identity",) if identity else ())
    typer.echo(json.dumps({"pairs": rows, "mean": {k: _mean([r[k] for r in rows]) for k in keys}}))
