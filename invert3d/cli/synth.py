"""``invert3d synth``: a (decorated) synthetic subject with exact ground truth, to try the tool without a photo."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer

from invert3d.cli.common import claim_out, force_option
from invert3d.cli.views import check_view
from invert3d.errors import Invert3dError
from invert3d.synthetic.kinds import PROCEDURAL_KINDS

DecalKind = Literal[PROCEDURAL_KINDS]


def parse_shift(text: str) -> dict[str, float]:
    """'skin_tone=1.5,hair_tone=-1' -> {'skin_tone': 1.5, 'hair_tone': -1.0}, names checked."""
    from invert3d.synthetic.params import PARAMETER_NAMES

    shift = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in PARAMETER_NAMES:
            raise Invert3dError(f"bad --shift {part!r}: give NAME=DELTA, NAME one of {', '.join(PARAMETER_NAMES)}")
        try:
            shift[name] = float(value)
        except ValueError:
            raise Invert3dError(f"bad --shift {part!r}: {value!r} is not a number") from None
    return shift


def synth(
    out: Path = typer.Option(..., "--out", help="Output folder."),
    seed: int = typer.Option(0, min=0, help="Subject seed."),
    decal_text: Optional[str] = typer.Option(None, help="Text to print on the subject."),
    decal_image: Optional[Path] = typer.Option(None, help="An image file (PNG with alpha, JPEG, ...) to stick on "
                                               "the subject."),
    decal_kind: Optional[DecalKind] = typer.Option(None, help="A procedural decal."),
    yaw: float = typer.Option(0.0, help="Input view yaw (rad)."),
    pitch: float = typer.Option(0.0, help="Input view pitch (rad)."),
    resolution: int = typer.Option(128, min=32, max=1024, help="Image size (pixels)."),
    shift: Optional[str] = typer.Option(None, metavar="NAME=DELTA[,...]", help="Shift latent coordinates, in "
                                        "standard deviations (e.g. skin_tone=1.5): the true result of that "
                                        "attribute edit, to score invert3d edit against."),
    force: bool = force_option(),
) -> None:
    """Write input.png + input_camera.json (invert picks it up beside input.png), truth/*.png +
    truth/cameras.json (views around the input), mesh.ply and subject.json."""
    from invert3d.synthetic.decals import load_decal_image, text_image
    from invert3d.synthetic.subject import make_subject, write_subject

    if sum(d is not None for d in (decal_text, decal_image, decal_kind)) > 1:
        raise Invert3dError("give one of --decal-text, --decal-image or --decal-kind")
    if decal_text is not None and not decal_text.strip():
        raise Invert3dError("--decal-text is empty")
    if decal_image is not None and not decal_image.is_file():
        raise Invert3dError(f"--decal-image: no such file: {decal_image}")
    check_view(yaw, pitch)
    shifted = parse_shift(shift) if shift else None
    claim_out(out, force)
    image = (text_image(decal_text) if decal_text is not None else
             load_decal_image(decal_image) if decal_image is not None else decal_kind)
    write_subject(make_subject(seed, image, shift=shifted), out, yaw, pitch, resolution)
    typer.echo(f"wrote subject {seed} to {out}/ (input.png, truth/, mesh.ply)")
