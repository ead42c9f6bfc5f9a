"""``invert3d metrics``: full-reference scores of one image, or a folder of images, against another."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from PIL import Image

from invert3d.errors import Invert3dError
from invert3d.media import IMAGE_SUFFIXES, load_photo, to_uint8
from invert3d.metrics import IMAGE_SCORES, image_scores
from invert3d.metrics.identity import IdentityUnavailable, identity_model


def _pairs(a: Path, b: Path) -> list[tuple[Path, Path]]:
    if a.is_file() and b.is_file():
        return [(a, b)]
    if a.is_dir() and b.is_dir():
        names = sorted(p.name for p in a.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        pairs = [(a / n, b / n) for n in names if (b / n).is_file()]
        if not pairs:
            raise Invert3dError(f"{a} and {b} share no image file names")
        return pairs
    raise Invert3dError("give two image files or two folders (images are paired by file name)")


def _side(path: Path) -> int:
    """The side of a square reference image (``load_photo`` then explains any other problem with it)."""
    try:
        with Image.open(path) as im:
            return im.size[0]
    except (OSError, ValueError) as exc:
        raise Invert3dError(f"{path}: not a readable image ({exc})") from None


def _mean(values: list[float | None]) -> float | None:
    """Mean of the values that exist (identity is None where no face was found), rounded; None if none do."""
    present = [v for v in values if v is not None]
    return round(float(np.mean(present)), 4) if present else None


def metrics(
    a: Path = typer.Argument(..., help="Image or folder."),
    b: Path = typer.Argument(..., help="Reference image or folder (same names)."),
) -> None:
    """Print PSNR, SSIM, MS-SSIM, LPIPS (AlexNet, VGG) and, where dlib loads, the face identity distance (dlib
    ResNet descriptors; below 0.6 is the same person; null where no face is found) as JSON: per pair and mean."""
    pairs = _pairs(a, b)
    try:
        identity = identity_model()
    except IdentityUnavailable as exc:
        identity = None
        typer.echo(f"notice: identity score skipped: {exc}", err=True)
    rows = []
    for pa, pb in pairs:
        y = load_photo(pb, _side(pb))
        x = load_photo(pa, y.shape[-1])
        rows.append({"image": pa.name, **{k: float(v[0]) for k, v in image_scores(x, y).items()}})
        if identity is not None:
            rows[-1]["identity"] = identity.distance(to_uint8(x), to_uint8(y))
    keys = IMAGE_SCORES + (("identity",) if identity else ())
    mean = {k: _mean([r[k] for r in rows]) for k in keys}
    rows = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    typer.echo(json.dumps({"pairs": rows, "mean": mean} if len(rows) > 1 else rows[0]))
