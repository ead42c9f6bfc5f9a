"""``invert3d align``: raw photos -> EG3D crops with their camera labels (offline, CPU)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from invert3d import console
from invert3d.cli.common import claim_out, force_option
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file


def crop_size(size: Optional[int], checkpoint: Optional[Path]) -> int:
    """--size, else the checkpoint's resolution, else EG3D's 512."""
    if size is not None:
        return size
    if checkpoint is not None:
        from invert3d.checkpoints import load_generator

        return load_generator(checkpoint, "cpu").img_resolution
    return 512


def align(
    input: Path = typer.Argument(..., metavar="PHOTO", help="A photo, or a folder of photos, of any size."),
    out: Path = typer.Option(..., "--out", help="Folder for the crops (<stem>.png), their cameras (<stem>.json "
                             "and dataset.json) and how each was made (<stem>.align.json)."),
    size: Optional[int] = typer.Option(None, min=16, max=4096, help="Side of the crops in pixels (default: "
                                       "the checkpoint's resolution, else 512)."),
    checkpoint: Optional[Path] = typer.Option(None, help="Make crops at this generator's resolution."),
    face: int = typer.Option(0, min=0, help="Which face when a photo holds several (0: the largest)."),
    keep_roll: bool = typer.Option(False, "--keep-roll", help="Do not turn the crop to level the eyes (EG3D's "
                                   "in-the-wild crop keeps the roll; FFHQ's alignment, and so the default, "
                                   "removes it)."),
    force: bool = force_option(),
) -> None:
    """Find the face in each photo, crop it the way EG3D's FFHQ images are cropped and estimate its camera: the
    crops go straight into ``invert3d invert``."""
    from invert3d.align import align_photo, write_alignment
    from invert3d.media import photos_in, read_rgb

    photos = photos_in(input)
    claim_out(out, force, own=lambda folder: (folder / "dataset.json").is_file(), inputs=photos)  # crops are added
    side = crop_size(size, checkpoint)
    stems = [p.stem for p in photos]
    if len(set(stems)) != len(stems):
        raise Invert3dError(f"{input} holds photos with the same name and different extensions; rename them")
    labels: list[list] = []
    failed: list[str] = []
    for path in console.progress(photos, desc="aligning", unit="photo", quiet=len(photos) == 1):
        try:
            image = read_rgb(path)
            result = align_photo(image, side, face=face, level=not keep_roll)
        except Invert3dError as exc:  # no face, or not a readable image: the others still go
            message = str(exc) if path.name in str(exc) else f"{path.name}: {exc}"
            if len(photos) == 1:
                raise Invert3dError(message) from None
            failed.append(message)
            console.write(f"error: {message}; nothing written for it")
            continue
        if result.faces > 1 and face == 0:
            console.write(f"warning: {path.name} holds {result.faces} faces; aligned the largest (--face K picks "
                          "another)")
        write_alignment(result, out, path.stem)
        labels.append([f"{path.stem}.png", [round(v, 8) for v in result.label.tolist()]])
    if labels:
        _merge_dataset(out / "dataset.json", labels)
    done = len(photos) - len(failed)
    if len(photos) > 1 or failed:
        typer.echo(f"aligned {done} of {len(photos)} photos into {out}/" +
                   (f"; {len(failed)} failed:\n  " + "\n  ".join(failed) if failed else ""))
    else:
        typer.echo(f"wrote {out}/{photos[0].stem}.png and its camera {out}/{photos[0].stem}.json")
    if failed:
        raise typer.Exit(1)


def _merge_dataset(path: Path, labels: list[list]) -> None:
    """EG3D's ``dataset.json``: the entries of this run replace those of the same files, others are kept."""
    entries: dict[str, list] = {}
    if path.is_file():
        try:
            entries = {name: label for name, label in json.loads(path.read_text())["labels"]}
        except (ValueError, KeyError, TypeError):
            entries = {}
    entries.update({name: label for name, label in labels})
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps({"labels": [[k, v] for k, v in sorted(entries.items())]}) + "\n")
