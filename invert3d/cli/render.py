"""``invert3d render``: any view of a finished inversion result: one view, a grid, an orbit, or a cameras file."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer

from invert3d.cli.common import claim_out, device_option, force_option
from invert3d.cli.views import ImageMode, ViewOptions, check_view, view_options
from invert3d.errors import Invert3dError

VIEW = view_options("the photo's lens, as the result's own views")


def _pair(text: str, name: str, kind: type = float) -> tuple:
    """'AxB' -> (A, B) of ``kind``."""
    parts = text.lower().split("x")
    try:
        if len(parts) != 2:
            raise ValueError
        return kind(parts[0]), kind(parts[1])
    except ValueError:
        raise Invert3dError(f"--{name} takes two numbers as AxB (got {text!r})") from None


def render(
    result: Path = typer.Argument(..., metavar="RESULT", help="A result folder written by invert3d invert."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    yaw: Optional[float] = typer.Option(None, help="Yaw of one view (rad, 0 = frontal, + = the camera moves to "
                                        "the subject's left)."),
    pitch: Optional[float] = typer.Option(None, help="Pitch of one view (rad, + = from below); 0 if only --yaw "
                                          "is given."),
    grid: Optional[str] = typer.Option(None, metavar="YAWSxPITCHES", help="A grid of views (grid.png): e.g. 5x3 "
                                       "yaws by pitches over --spread."),
    spread: str = typer.Option("0.6x0.25", metavar="YAWxPITCH", help="The grid's extent either side of frontal "
                               "(rad)."),
    orbit: bool = typer.Option(False, "--orbit", help="An orbit video (orbit.mp4)."),
    orbit_range: str = typer.Option("0.35x0.25", metavar="YAWxPITCH", help="The orbit's swing (rad), EG3D's by "
                                    "default."),
    cameras: Optional[Path] = typer.Option(None, help="EG3D-style labels file (as invert3d synth writes): one "
                                           "PNG per entry, named as the entry."),
    frames: int = typer.Option(120, min=1, help="Frames of the orbit video."),
    fps: int = typer.Option(30, min=1, max=240, help="Frames per second of the orbit video."),
    image_mode: ImageMode = VIEW["image_mode"],
    resolution: Optional[int] = VIEW["resolution"],
    fov_deg: Optional[float] = VIEW["fov_deg"],
    nrr: Optional[int] = VIEW["nrr"],
    sample_mult: Optional[float] = VIEW["sample_mult"],
    composite: bool = typer.Option(False, "--composite", help="Also paste each view into the original photo "
                                   "(<name>_composite.png; for a result inverted from a raw photo)."),
    device: str = device_option(),
    force: bool = force_option(),
) -> None:
    """Render a result from --yaw/--pitch, on a --grid, along an --orbit (all through the photo's lens, as the
    result's own views, unless --fov-deg), or at every camera of a --cameras file."""
    import torch

    from invert3d.cameras import CameraRig, load_labels, orbit_angles
    from invert3d.media import image_grid, save_png, write_video
    from invert3d.pipeline.layout import ResultFolder
    from invert3d.runtime import resolve_device

    modes = sum([yaw is not None or pitch is not None, grid is not None, orbit, cameras is not None])
    if modes != 1:
        raise Invert3dError("give exactly one of --yaw/--pitch, --grid, --orbit or --cameras")
    if composite and (orbit or grid):
        raise Invert3dError("--composite works with --yaw/--pitch or --cameras")
    options = ViewOptions(image_mode, resolution, fov_deg, nrr, sample_mult)
    entries = load_labels(cameras) if cameras is not None else None
    y, p = yaw or 0.0, pitch or 0.0
    if yaw is not None or pitch is not None:
        check_view(y, p)
    if grid is not None:
        (columns, rows), (yaw_half, pitch_half) = _pair(grid, "grid", int), _pair(spread, "spread")
        if not (1 <= columns <= 32 and 1 <= rows <= 32):
            raise Invert3dError("--grid takes 1 to 32 yaws and pitches")
        check_view(yaw_half, pitch_half)
    if orbit:
        check_view(*_pair(orbit_range, "orbit-range"))
    folder = ResultFolder(result)
    scene = folder.open(resolve_device(device))
    options.apply(scene.G)
    paste = _paster(folder, scene) if composite else None
    rig = scene.rig if fov_deg is None else CameraRig.of(scene.G.cfg.rendering, options.lens())
    claim_out(out, force, inputs=[result])
    out.mkdir(parents=True, exist_ok=True)
    if orbit:
        angles = orbit_angles(frames, *_pair(orbit_range, "orbit-range"))
        write_video(out / "orbit.mp4", (options.picture(v) for v in scene.renders(rig.pose(*angles))), fps=fps)
        typer.echo(f"wrote {out / 'orbit.mp4'}")
    elif grid is not None:
        yaws, pitches = torch.linspace(-yaw_half, yaw_half, columns), torch.linspace(-pitch_half, pitch_half, rows)
        if columns == 1:
            yaws = torch.zeros(1)
        if rows == 1:
            pitches = torch.zeros(1)
        views = [options.picture(v) for v in scene.renders(rig.grid(yaws, pitches))]
        save_png(out / "grid.png", image_grid(views, columns))
        typer.echo(f"wrote {out / 'grid.png'} ({columns} yaws x {rows} pitches)")
    elif entries is not None:
        labels = torch.stack([label for _, label in entries])
        for (name, _), view in zip(entries, scene.renders(labels)):
            _save(out / (Path(name).stem + ".png"), view, options, paste)
        typer.echo(f"wrote {len(entries)} views to {out}/")
    else:
        path = out / f"yaw{y:+.2f}_pitch{p:+.2f}.png"
        _save(path, scene.render(rig.pose(y, p)), options, paste)
        typer.echo(f"wrote {path}" + (f" and {path.with_name(path.stem + '_composite.png')}" if paste else ""))


def _paster(folder, scene) -> Callable:
    """view outputs -> the photo with that view pasted in (widened to the input view's head)."""
    from invert3d.pipeline.composite import aligned_photo, composite

    photo, transform, crop_size = aligned_photo(folder)
    input_view = scene.render(folder.input_camera())
    return lambda view: composite(photo, transform, crop_size, view, input_view)


def _save(path: Path, view: dict, options: ViewOptions, paste: Callable | None) -> None:
    from invert3d.media import save_png

    save_png(path, options.picture(view))
    if paste is not None:
        save_png(path.with_name(path.stem + "_composite.png"), paste(view))
