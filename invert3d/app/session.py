"""What the app does, as library calls (no Gradio here): prepare an upload, invert it, render a view, edit.

Every result is an ordinary result folder under the app's work folder, so the command line reads what the app
wrote (``invert3d render``, ``invert3d edit``) and the app reopens any result folder.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from invert3d import console
from invert3d.checkpoints import checkpoint_identity
from invert3d.config import preset
from invert3d.errors import Invert3dError
from invert3d.generator import TriPlaneGenerator
from invert3d.align import NoFaceError, align_photo
from invert3d.media import IMAGE_SUFFIXES, read_rgb, to_uint8
from invert3d.pipeline.jobs import ALIGNED_SIZE, Job, aligned_job, read_input, run_job
from invert3d.pipeline.layout import ResultFolder
from invert3d.settings import with_assignments

MAX_PIXELS = 50_000_000  # an upload larger than this is refused (a 12 MP photo takes 0.5 s to align)


class Cancelled(Invert3dError):
    """The user stopped an inversion; its folder resumes where it stopped."""


@dataclass
class Prepared:
    """An upload ready to invert: its job (photo at the generator's size, camera, alignment if aligned here)."""

    job: Job
    crop: np.ndarray  # [S, S, 3] uint8, what the generator will see
    camera_text: str


def _check_upload(path: Path) -> None:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise Invert3dError(f"{path.name} is not a photo (give a {', '.join(sorted(IMAGE_SUFFIXES))} file)")
    try:
        with Image.open(path) as image:
            width, height = image.size
    except OSError:
        raise Invert3dError(f"{path.name} is not a readable image") from None
    if width * height > MAX_PIXELS:
        raise Invert3dError(f"{path.name} is {width}x{height}: larger than {MAX_PIXELS // 1_000_000} MP")


def camera_text(label) -> str:
    """A camera label [25] as the user reads it: where the camera sits around the head (degrees)."""
    position = label[:16].reshape(4, 4)[:3, 3].double()
    yaw = math.degrees(math.atan2(float(position[0]), float(position[2])))
    elevation = math.degrees(math.asin(max(-1.0, min(1.0, -float(position[1]) / float(position.norm())))))
    return f"camera: yaw {yaw:+.1f}°, elevation {elevation:+.1f}°, radius {float(position.norm()):.2f}"


def prepare(upload: Path, workdir: Path, G: TriPlaneGenerator, already_aligned: bool = False) -> Prepared:
    """The job of an uploaded photo, its result folder a new one under ``workdir``: aligned here (face found, crop
    cut, camera estimated) unless ``already_aligned`` (then taken as it is, from the frontal camera)."""
    upload = Path(upload)
    _check_upload(upload)
    out = workdir / f"{upload.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    if already_aligned:
        job = read_input(upload, out, G, no_align=True, warn=lambda _: None, notice=lambda _: None)
    else:
        try:
            alignment = align_photo(read_rgb(upload), max(ALIGNED_SIZE, G.img_resolution))
        except NoFaceError as exc:
            raise Invert3dError(f"{upload.name}: {exc}; if it is an aligned crop already, tick 'Already an aligned "
                                "crop'") from None
        job = aligned_job(upload, out, G, alignment)
    return Prepared(job, to_uint8(job.photo), camera_text(job.camera))


def result_folder(prepared: Prepared, preset_name: str, method: str) -> ResultFolder:
    """Where the prepared photo's inversion by ``method`` at ``preset_name`` goes: one folder each, so that
    inverting again with the same choice resumes or reuses it, and another choice starts its own."""
    return ResultFolder(prepared.job.out.with_name(f"{prepared.job.out.name}_{preset_name}_{method}"))


def invert(prepared: Prepared, G: TriPlaneGenerator, preset_name: str, method: str, checkpoint: Path | None,
           listener: console.Listener, settings: list[str] | tuple[str, ...] = ()) -> ResultFolder:
    """Invert the prepared photo into its ``result_folder`` with the preset and ``settings`` (KEY=VALUE) over it,
    each progress update sent to ``listener`` (which may raise ``Cancelled``: the folder then resumes from its
    last saved stage or checkpoint on the next call)."""
    cfg = with_assignments(preset(preset_name, method), settings)
    folder = result_folder(prepared, preset_name, method)
    with console.listening(listener):
        run_job(replace(prepared.job, out=folder.root), G, cfg, checkpoint_identity(checkpoint), quiet=True)
    return folder


def open_result(path: Path) -> ResultFolder:
    folder = ResultFolder(Path(path))
    if not folder.is_finished():
        raise Invert3dError(f"{path} is not a finished invert3d result folder")
    return folder


def render_view(folder: ResultFolder, yaw: float, pitch: float, device: str = "cpu") -> np.ndarray:
    """The result seen from (yaw, pitch) rad through the photo's lens: [H, W, 3] uint8."""
    scene = folder.open(device)
    return next(scene.views(scene.rig.pose(yaw, pitch)[None]))


def attribute_edit(folder: ResultFolder, attribute: str, strength: float, device: str = "cpu") -> ResultFolder:
    """An edited result beside ``folder``: its latent moved by ``strength`` along the attribute's direction."""
    from invert3d.editing.edit import directions_for, edit_result

    out = folder.root.with_name(f"{folder.root.name}_{attribute}{strength:+g}")
    # the mean edit: instant, where the subject's own (invert3d edit's default) first fits its latent for ~100 s
    edit_result(folder.root, out, attribute, [strength], directions_for(folder, None), device=device, mean_edit=True)
    return ResultFolder(out)


def texture_edit(folder: ResultFolder, painted: Path, listener: console.Listener, device: str = "cpu"
                 ) -> ResultFolder:
    """The painted copy of the result's input inverted again on its coarse geometry, beside ``folder`` (named by
    the painted photo's digest, so a stopped edit of the same painting resumes)."""
    from invert3d.editing.texture import edit_texture

    _check_upload(Path(painted))
    digest = hashlib.sha256(Path(painted).read_bytes()).hexdigest()[:10]
    out = folder.root.with_name(f"{folder.root.name}_texture-{digest}")
    with console.listening(listener):
        edit_texture(folder.root, Path(painted), out, device, quiet=True)
    return ResultFolder(out)


def attributes(folder: ResultFolder) -> list[str]:
    """The attributes the result can be edited along (none when no directions are known for its generator)."""
    from invert3d.editing.edit import directions_for

    try:
        return list(directions_for(folder, None).names)
    except Invert3dError:
        return []


def zipped(folder: ResultFolder) -> Path:
    """The result folder as one zip file beside it (made once)."""
    archive = folder.root.with_name(f"{folder.root.name}.zip")
    if not archive.is_file():
        shutil.make_archive(str(folder.root), "zip", folder.root)
    return archive
