"""A texture edit of a finished result: the painted photo inverted on the result's own coarse geometry.

The edited photo (the result's ``input.png`` with a logo, text or a style painted on) is inverted with the
result's settings into a new result folder whose stage cache starts with the source's stage 1 (the coarse
latent) and stage 2 (its mesh): the paint changes what the visible part carries and what the difference map
masks, not the shape the pseudo views are warped through. What this saves against a fresh inversion is stages 1
and 2 (``summary.json`` of the source lists their seconds); the rest is a full run.
"""

from __future__ import annotations

from pathlib import Path

from invert3d.checkpoints import checkpoint_identity, load_generator
from invert3d.config import InversionConfig
from invert3d.errors import Invert3dError
from invert3d.media import load_photo
from invert3d.pipeline.invert import invert_photo, prepare_folder, run_config
from invert3d.pipeline.layout import ResultFolder
from invert3d.pipeline.stages import seed_stages


def edit_texture(result: Path, edited: Path, out: Path, device: str = "cpu", quiet: bool = False) -> dict:
    """Invert ``edited`` (a painted copy of ``result``'s input photo) into ``out`` on ``result``'s coarse
    geometry; returns the new result's summary."""
    source, target = ResultFolder(result), ResultFolder(out)
    if not source.is_finished() or not (source.stages / "progress.json").is_file():
        raise Invert3dError(f"{result} is not a finished invert3d result with its stages/ cache")
    config = source.read_config()
    cfg = InversionConfig.from_dict(config["inversion"])
    checkpoint = source.checkpoint_path()
    G = load_generator(checkpoint, device)
    photo = load_photo(edited, G.img_resolution)
    camera = source.input_camera()
    run = {**run_config(cfg, edited, camera, checkpoint_identity(checkpoint), G), "texture_edit_of": str(result)}
    if not prepare_folder(target, run):
        seed_stages(source, target, ("coarse", "geometry"))
    return invert_photo(G, photo, camera, cfg, out, run, quiet=quiet)
