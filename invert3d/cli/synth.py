"""``invert3d synth``: a (decorated) synthetic subject with exact ground truth, to try the tool without a photo."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from invert3d.errors import Invert3dError
from invert3d.synthetic.decals import load_decal_image
from invert3d.synthetic.subject import PROCEDURAL_DECALS, make_subject, write_subject


def synth(
    out: Path = typer.Option(..., "--out", help="Output folder."),
    seed: int = typer.Option(0, min=0, help="Subject seed."),
    decal: Optional[str] = typer.Option(None, help="Text to print on the subject, or an image file to stick on it."),
    decal_kind: Optional[str] = typer.Option(None, help="A procedural decal instead: emblem, tattoo or paint."),
    yaw: float = typer.Option(0.0, min=-0.8, max=0.8, help="Input view yaw (rad)."),
    pitch: float = typer.Option(0.0, min=-0.4, max=0.4, help="Input view pitch (rad)."),
    resolution: int = typer.Option(128, min=32, max=1024, help="Image size (pixels)."),
) -> None:
    """Write input.png + input_camera.json, truth/*.png + truth/cameras.json (views around the input),
    mesh.ply and subject.json."""
    if decal is not None and decal_kind is not None:
        raise Invert3dError("give either --decal or --decal-kind, not both")
    if decal_kind is not None and decal_kind not in PROCEDURAL_DECALS:
        raise Invert3dError(f"unknown decal kind {decal_kind!r}; choose one of {', '.join(PROCEDURAL_DECALS)}")
    image = load_decal_image(decal) if decal is not None else decal_kind
    subject = make_subject(seed, image)
    write_subject(subject, out, yaw, pitch, resolution)
    typer.echo(f"wrote subject {seed} to {out}/ (input.png, truth/, mesh.ply)")
