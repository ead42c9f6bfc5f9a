"""A result made from a raw photo: its alignment kept in the result folder, and renders pasted back into it.

The files are named in ``pipeline.layout.ResultFolder`` (aligned.png/.json, alignment.json, photo.<ext>,
composite.png).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from invert3d.align import Alignment, write_alignment
from invert3d.align.composite import paste_back, paste_mask, rescaled
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.media import read_rgb, save_png, to_uint8
from invert3d.pipeline.layout import ResultFolder
from invert3d.scene import Scene


def write_aligned_input(folder: ResultFolder, scene: Scene, *, alignment: Alignment, photo: Path,
                        camera: torch.Tensor) -> None:
    """Keep the alignment and the original ``photo`` in the result folder and write ``composite.png`` of the
    scene's input view (``camera``); the signature of ``invert_photo``'s ``more_outputs``."""
    write_alignment(alignment, folder.root, folder.ALIGNED_STEM, record_name=folder.alignment_record.name)
    kept = folder.root / f"{folder.PHOTO_STEM}{photo.suffix.lower()}"
    with atomic_file(kept) as tmp:
        shutil.copyfile(photo, tmp)
    save_png(folder.composite, composite(read_rgb(kept), alignment.transform, alignment.crop.shape[0],
                                                       scene.render(camera)))


def composite(photo: np.ndarray, transform: np.ndarray, crop_size: int, render: dict[str, torch.Tensor],
              input_render: dict[str, torch.Tensor] | None = None) -> np.ndarray:
    """``render`` (G's outputs for one view) pasted into ``photo`` [H, W, 3] uint8; ``transform`` maps photo px
    to the px of a ``crop_size``² crop. ``input_render`` (the input view's outputs) widens the paste to where
    the photo's own head was, for a view other than the input's."""
    image = to_uint8(render["image"])
    size = image.shape[0]
    opacities = [r["image_mask"][0, 0].float().cpu().numpy() for r in (render, input_render) if r is not None]
    return paste_back(photo, image, paste_mask(opacities, size), rescaled(transform, crop_size, size))


def aligned_photo(folder: ResultFolder) -> tuple[np.ndarray, np.ndarray, int]:
    """(photo [H, W, 3] uint8, photo -> crop transform [2, 3], crop size) kept in a result folder."""
    record_path = folder.alignment_record
    photos = sorted(folder.root.glob(f"{folder.PHOTO_STEM}.*"))
    if not record_path.is_file() or not photos:
        raise Invert3dError(f"{folder.root} was not made from a raw photo (no {record_path.name} / "
                            f"{folder.PHOTO_STEM}.*): nothing to composite into; invert the raw photo itself to get "
                            "one")
    record = json.loads(record_path.read_text())
    return read_rgb(photos[0]), np.asarray(record["transform"], float), int(record["crop_size"])
