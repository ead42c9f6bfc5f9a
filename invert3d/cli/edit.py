"""``invert3d edit``: move an inverted result along an attribute direction, in 3D; ``--list`` the attributes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from invert3d.cli.common import claim_out, device_option, force_option
from invert3d.errors import Invert3dError


def layer_range(text: str | None) -> tuple[int, int] | None:
    """'3-8' -> (3, 9): the W+ layers 3 to 8, both included."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if not m or int(m.group(2)) < int(m.group(1)):
        raise Invert3dError(f"bad --layers {text!r}: give a range like 0-6")
    return int(m.group(1)), int(m.group(2)) + 1


def edit(
    result: Optional[Path] = typer.Argument(None, metavar="RESULT", help="A result folder written by invert3d "
                                            "invert."),
    attribute: Optional[str] = typer.Option(None, help="The attribute to move (see --list)."),
    strength: list[float] = typer.Option([], help="How far, in the attribute's units (see --list); repeat it "
                                         "for a strip of edits and one video."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (an edited result, or one per "
                                       "strength plus strip.png and edit.mp4)."),
    conditional: bool = typer.Option(False, help="Use the direction with every other attribute's projected out "
                                     "(InterFaceGAN's remedy for classifier directions, e.g. age without glasses; "
                                     "on the embedded model's exact-label directions it measured worse)."),
    layers: Optional[str] = typer.Option(None, help="Move only these W+ layers, e.g. 0-6 (default: all)."),
    mean_edit: bool = typer.Option(False, help="Move by the direction's mean edit over all subjects. By default an "
                                   "exact-label direction (the embedded model's) moves this subject as far as its "
                                   "own latent says: the first edit of a result fits that latent (~100 s on two "
                                   "CPU cores) and keeps it in the result folder."),
    directions: Optional[Path] = typer.Option(None, help="Directions file from invert3d directions (default: "
                                              "the embedded model's, for results inverted into it)."),
    texture: Optional[Path] = typer.Option(None, help="A painted copy of the result's input.png: inverted again on "
                                           "the result's coarse geometry, so the paint shows in every view."),
    list_: bool = typer.Option(False, "--list", help="List the attributes, their held-out accuracy and units."),
    device: str = device_option(),
    force: bool = force_option(),
) -> None:
    """Edit an inverted result along an attribute direction (InterFaceGAN in W, rendered by the result's tuned
    generator): no re-inversion, every view stays consistent."""
    from invert3d.editing.directions import UNITS, Directions
    from invert3d.editing.edit import EMBEDDED_DIRECTIONS, directions_for, edit_result
    from invert3d.runtime import resolve_device

    if list_:
        d = Directions.load(directions or EMBEDDED_DIRECTIONS)
        typer.echo(f"{len(d.names)} attributes, learnt from {d.samples} samples; strength unit: {UNITS[d.unit_kind]}")
        for k, name in enumerate(d.names):
            typer.echo(f"  {name:20s} held-out accuracy {float(d.accuracy[k]):.3f}")
        return
    if texture is not None:
        if result is None or out is None or attribute is not None:
            raise Invert3dError("a texture edit takes RESULT, --texture and --out (no --attribute)")
        from invert3d.editing.texture import edit_texture

        claim_out(out, force, own=lambda folder: (folder / "config.json").is_file(), inputs=[result, texture])
        summary = edit_texture(result, texture, out, resolve_device(device))
        m = summary["input_view"]
        typer.echo(f"wrote {out}/ (texture edit: input view PSNR {m['psnr']:.2f} dB against the painted photo; "
                   f"{summary['seconds_this_session']:.0f} s)")
        return
    if result is None or attribute is None or not strength or out is None:
        raise Invert3dError("give RESULT, --attribute, --strength and --out (or --list, or --texture)")
    from invert3d.pipeline.layout import ResultFolder

    chosen = directions_for(ResultFolder(result), directions)
    claim_out(out, force, inputs=[result])
    folders = edit_result(result, out, attribute, list(strength), chosen, conditional, layer_range(layers),
                          resolve_device(device), mean_edit)
    if len(folders) == 1:
        typer.echo(f"wrote {out}/ (novel_views.png, orbit.mp4, mesh.ply; invert3d render accepts it)")
    else:
        typer.echo(f"wrote {len(folders)} edited results, {out}/strip.png and {out}/edit.mp4")
