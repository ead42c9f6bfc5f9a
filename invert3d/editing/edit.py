"""An attribute edit of a finished result: its latent moved along a direction, rendered by its tuned generator.

No re-inversion: the tuned generator of the result (PTI's lesson: edits learnt on the pretrained generator carry
over to the tuned one) renders the moved latent. One strength gives an edited result folder in the result layout
(``invert3d render`` accepts it); several give one folder each, ``strip.png`` (rows: strengths, columns: yaw
-0.6 … 0.6) and ``edit.mp4`` (the input view while the strength sweeps from the first to the last).

How far: a classifier's direction (FFHQ) moves by strength x its unit. An exact-label direction (the embedded
model's) moves this subject as far as an edit of that many sd of its latent coordinate moves it, which near a
tail is much less than the mean edit the direction is (``editing/subject.py``; the first edit of a result fits
its latent); ``mean_edit`` moves by the mean edit.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from invert3d.checkpoints import EMBEDDED_DIR
from invert3d.config import InversionConfig
from invert3d.editing.directions import Directions, apply_edit
from invert3d.errors import Invert3dError
from invert3d.files import atomic_dir
from invert3d.media import image_grid, save_png, write_video
from invert3d.pipeline.layout import ResultFolder
from invert3d.pipeline.outputs import NOVEL_YAWS, write_scene_views
from invert3d.scene import Scene

EMBEDDED_DIRECTIONS = EMBEDDED_DIR / "directions.safetensors"
VIDEO_FRAMES = 48


def directions_for(result: ResultFolder, directions: Path | None) -> Directions:
    """``directions`` if given, else the embedded model's shipped ones for a result inverted into it."""
    if directions is not None:
        return Directions.load(directions)
    path = result.checkpoint_path()
    if path is not None:
        raise Invert3dError(f"{result.root} was inverted into {path}; give its directions with --directions (made "
                            "by invert3d directions --checkpoint ...)")
    return Directions.load(EMBEDDED_DIRECTIONS)


def _edited_folder(out: Path, scene: Scene, source: ResultFolder, ws: torch.Tensor, record: dict) -> None:
    """One edited result folder: the source's layout with the moved latent (and its paste-back, if any)."""
    config = source.read_config()
    cfg = InversionConfig.from_dict(config["inversion"])
    camera = source.input_camera()
    started = time.monotonic()
    edited = Scene(scene.G, ws, scene.intrinsics)
    with atomic_dir(out) as tmp:
        folder = ResultFolder(tmp)
        write_scene_views(folder, edited, camera, cfg.mesh_resolution, cfg.pseudo.visibility_tolerance,
                          frames=VIDEO_FRAMES, made_by="invert3d edit")
        kept = [source.alignment_record, *source.root.glob(f"{source.PHOTO_STEM}.*")]
        for path in kept:
            if path.is_file():
                shutil.copyfile(path, tmp / path.name)
        if folder.alignment_record.is_file():
            from invert3d.pipeline.composite import aligned_photo, composite

            photo, transform, crop_size = aligned_photo(folder)
            save_png(folder.composite, composite(photo, transform, crop_size, edited.render(camera)))
        folder.write_config({**config, "edit": record})
        folder.write_summary({"edit": record, "seconds": round(time.monotonic() - started, 2)})


def edit_offset(source: ResultFolder, directions: Directions, attribute: str, conditional: bool = False,
                mean_edit: bool = False) -> tuple[Callable[[float], torch.Tensor], dict]:
    """(strength -> W offset [w_dim], what the record says of it). Exact-label directions of the synthetic world
    move this subject as far as its own latent says an edit of that many sd moves it (``editing/subject.py``: the
    subject's z fitted once and kept in the result); ``mean_edit``, or a classifier's directions: the direction's
    mean edit, strength times its step."""
    from invert3d.editing.subject import response_scale, subject_latent
    from invert3d.synthetic.params import PARAMETER_NAMES

    step = directions.step(attribute, conditional)
    if mean_edit or directions.unit_kind != "label_sd" or attribute not in PARAMETER_NAMES:
        return (lambda s: step * s), {"subject_aware": False}
    z = float(subject_latent(source)[PARAMETER_NAMES.index(attribute)])
    return (lambda s: step * s * response_scale(z, s)), {"subject_aware": True, "subject_latent": round(z, 3)}


def edit_result(result: Path, out: Path, attribute: str, strengths: list[float], directions: Directions,
                conditional: bool = False, layers: tuple[int, int] | None = None, device: str = "cpu",
                mean_edit: bool = False) -> list[Path]:
    """Write the edits of ``result`` into ``out`` (new or empty; see the module docstring); returns the edited
    result folders. ``mean_edit``: see ``edit_offset``."""
    source = ResultFolder(result)
    scene = source.open(device)
    G = scene.G
    if directions.vectors.shape[1] != G.w_dim:
        raise Invert3dError(f"the directions are {directions.vectors.shape[1]}-D, the result's W is {G.w_dim}-D")
    if layers is not None and not 0 <= layers[0] < layers[1] <= G.num_ws:
        raise Invert3dError(f"--layers must lie within 0-{G.num_ws - 1} (the generator's W+ layers)")
    offset, how = edit_offset(source, directions, attribute, conditional, mean_edit)
    record = {"attribute": attribute, "conditional": conditional, "layers": list(layers or (0, G.num_ws)),
              "unit": directions.unit_kind, "source": str(result), **how}
    edited = [apply_edit(scene.ws, offset(s), 1.0, layers) for s in strengths]
    if len(strengths) == 1:
        _edited_folder(out, scene, source, edited[0], {**record, "strength": strengths[0]})
        return [out]
    folders = []
    for s, ws in zip(strengths, edited):
        folder = out / f"{attribute}_{s:+g}"
        _edited_folder(folder, scene, source, ws, {**record, "strength": s})
        folders.append(folder)
    yaw_cams = scene.rig.grid(NOVEL_YAWS, (0.0,))
    rows = [image for ws in edited for image in Scene(G, ws, scene.intrinsics).views(yaw_cams)]
    save_png(out / "strip.png", image_grid(rows, len(NOVEL_YAWS)))
    camera = source.input_camera()
    sweep = np.linspace(strengths[0], strengths[-1], VIDEO_FRAMES)
    frames = (next(Scene(G, apply_edit(scene.ws, offset(float(s)), 1.0, layers)).views(camera[None])) for s in sweep)
    write_video(out / "edit.mp4", frames)
    return folders
