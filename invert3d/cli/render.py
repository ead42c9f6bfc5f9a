"""``invert3d render``: any view of a finished inversion result."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
import typer

from invert3d.cameras import load_labels
from invert3d.errors import Invert3dError
from invert3d.media import save_png, to_uint8, write_video
from invert3d.pipeline.composite import aligned_photo, composite as composite_view
from invert3d.pipeline.layout import ResultFolder
from invert3d.runtime import resolve_device
from invert3d.scene import Scene


def render(
    result: Path = typer.Argument(..., help="A result folder written by invert3d invert."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    yaw: Optional[float] = typer.Option(None, help="Yaw of one view (rad, 0 = frontal)."),
    pitch: Optional[float] = typer.Option(None, help="Pitch of one view (rad); 0 if only --yaw is given."),
    orbit: bool = typer.Option(False, "--orbit", help="An orbit video (orbit.mp4)."),
    cameras: Optional[Path] = typer.Option(None, help="EG3D-style labels file (as invert3d synth writes): one "
                                           "PNG per entry, named as the entry."),
    frames: int = typer.Option(120, min=1, help="Frames of the orbit video."),
    composite: bool = typer.Option(False, "--composite", help="Also paste each view into the original photo "
                                   "(<name>_composite.png; for a result inverted from a raw photo)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
) -> None:
    """Render a result from --yaw/--pitch, along an --orbit (both through the photo's lens, as the result's own
    views), or at every camera of a --cameras file."""
    modes = sum([yaw is not None or pitch is not None, orbit, cameras is not None])
    if modes != 1:
        raise Invert3dError("give exactly one of --yaw/--pitch, --orbit or --cameras")
    if composite and orbit:
        raise Invert3dError("--composite works with --yaw/--pitch or --cameras, not --orbit")
    entries = load_labels(cameras) if cameras is not None else None
    folder = ResultFolder(result)
    scene = folder.open(resolve_device(device))
    paste = _paster(folder, scene) if composite else None
    out.mkdir(parents=True, exist_ok=True)
    if orbit:
        write_video(out / "orbit.mp4", scene.views(scene.rig.orbit(frames)))
        typer.echo(f"wrote {out / 'orbit.mp4'}")
    elif entries is not None:
        labels = torch.stack([label for _, label in entries])
        for (name, _), view in zip(entries, scene.renders(labels)):
            _save(out / (Path(name).stem + ".png"), view, paste)
        typer.echo(f"wrote {len(entries)} views to {out}/")
    else:
        y, p = yaw or 0.0, pitch or 0.0
        path = out / f"yaw{y:+.2f}_pitch{p:+.2f}.png"
        _save(path, scene.render(scene.rig.pose(y, p)), paste)
        typer.echo(f"wrote {path}" + (f" and {path.with_name(path.stem + '_composite.png')}" if paste else ""))


def _paster(folder: ResultFolder, scene: Scene) -> Callable[[dict], np.ndarray]:
    """view outputs -> the photo with that view pasted in (widened to the input view's head)."""
    photo, transform, crop_size = aligned_photo(folder)
    input_view = scene.render(folder.input_camera())
    return lambda view: composite_view(photo, transform, crop_size, view, input_view)


def _save(path: Path, view: dict, paste: Callable[[dict], np.ndarray] | None) -> None:
    save_png(path, to_uint8(view["image"]))
    if paste is not None:
        save_png(path.with_name(path.stem + "_composite.png"), paste(view))
