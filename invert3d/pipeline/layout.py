"""The result folder of one inversion: every file it holds, named once for the writer and every reader.

=========================  ==========================================================================================
``config.json``            written first: everything that determines the result (the inversion settings, the input
                           photo's digest and camera, the checkpoint's path and weights digest, the generator's
                           architecture); a folder is reused only by the same run
``summary.json``           written last, so its presence means finished: the layout's ``format`` version, input-view
                           scores, seconds and peak memory per stage
``input.png``              the photo as the generator saw it (its resolution)
``reconstruction.png``     the result at the photo's camera
``novel_views.png``        a pitch x yaw grid of views through the photo's lens
``orbit.mp4``              EG3D's video orbit
``pseudo_views.png``       hfgi3d's pseudo views: visible part, mask, occluded part, blend; the difference map
``mesh.ply``               the result's density mesh
``coarse_mesh.ply``        stage 2's mesh with the photo's colours where the photo sees it
``latent.safetensors``,    the scene (``invert3d.scene.Scene``): W+ latent and tuned generator (with its triplane
``generator/``             residual)
``log.jsonl``, ``stages/`` progress log and the stage cache a resumed run continues from
``aligned.png``, ...       only for a raw photo: its crop, camera, alignment record, the photo itself, the paste-back
=========================  ==========================================================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from invert3d.cameras import split_label, validate_label
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.scene import Scene
from invert3d.scene.scene import GENERATOR_DIR, LATENT_FILE

FORMAT_VERSION = 2  # summary.json "format"; 1 (no field): before the layout had a version, read the same way


def _entry(name: str) -> property:
    """A path of the folder, by its name in the layout."""
    return property(lambda self: self.root / name, doc=f"``{name}``")


@dataclass(frozen=True)
class ResultFolder:
    root: Path

    config = _entry("config.json")
    summary = _entry("summary.json")
    input = _entry("input.png")
    reconstruction = _entry("reconstruction.png")
    novel_views = _entry("novel_views.png")
    orbit = _entry("orbit.mp4")
    pseudo_views = _entry("pseudo_views.png")
    mesh = _entry("mesh.ply")
    coarse_mesh = _entry("coarse_mesh.ply")
    composite = _entry("composite.png")  # a raw photo's: the reconstruction pasted into it
    alignment_record = _entry("alignment.json")  # a raw photo's: how its crop was cut (transform, face, points)
    latent = _entry(LATENT_FILE)
    generator = _entry(GENERATOR_DIR)
    log = _entry("log.jsonl")
    stages = _entry("stages")

    ALIGNED_STEM = "aligned"  # a raw photo's crop (aligned.png, at least 512^2) and its camera (aligned.json)
    PHOTO_STEM = "photo"  # a raw photo's original file, byte for byte (photo.<ext>)

    def is_finished(self) -> bool:
        return self.summary.is_file()

    def read_config(self) -> dict:
        try:
            return json.loads(self.config.read_text())
        except (OSError, ValueError):
            raise Invert3dError(f"{self.config} is missing or unreadable") from None

    def checkpoint_path(self) -> Path | None:
        """The checkpoint the result was inverted into, as config.json names it; None for the embedded model."""
        source = self.read_config().get("checkpoint")
        path = source.get("path") if isinstance(source, dict) else source
        return None if path in (None, "embedded") else Path(path)

    def write_config(self, config: dict) -> None:
        with atomic_file(self.config) as tmp:
            tmp.write_text(json.dumps(config, indent=2))

    def read_summary(self) -> dict:
        try:
            summary = json.loads(self.summary.read_text())
        except (OSError, ValueError):
            raise Invert3dError(f"{self.summary} is unreadable; remove it to redo the run's last step") from None
        if summary.get("format", 1) > FORMAT_VERSION:
            raise Invert3dError(f"{self.root} was written by a newer invert3d (result format {summary['format']}); "
                                "update invert3d to read it")
        return summary

    def write_summary(self, summary: dict) -> dict:
        """Write summary.json (marking the folder finished) with the layout's format version first."""
        summary = {"format": FORMAT_VERSION, **summary}
        with atomic_file(self.summary) as tmp:
            tmp.write_text(json.dumps(summary, indent=2))
        return summary

    def input_camera(self) -> torch.Tensor:
        """The photo's camera label [25], as config.json keeps it."""
        try:
            values = self.read_config()["input"]["camera"]
        except (KeyError, TypeError):
            raise Invert3dError(f"{self.config} has no input camera") from None
        return validate_label(values, str(self.config))

    def open(self, device: str | torch.device = "cpu") -> Scene:
        """The finished result as a scene seen through the photo's lens."""
        if not self.is_finished() or not self.latent.is_file():
            raise Invert3dError(f"{self.root} is not a finished invert3d result (no summary.json / {LATENT_FILE})")
        return Scene.load(self.root, device, intrinsics=split_label(self.input_camera())[1])
