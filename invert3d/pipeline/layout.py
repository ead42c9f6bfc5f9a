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

from invert3d.cameras import validate_label
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
    latent = _entry(LATENT_FILE)
    generator = _entry(GENERATOR_DIR)
    log = _entry("log.jsonl")
    stages = _entry("stages")

    # A raw photo's alignment (pipeline.composite writes and reads these).
    ALIGNED_STEM = "aligned"  # aligned.png (the crop, at least 512^2) and aligned.json (its camera)
    ALIGNMENT_RECORD = "alignment.json"  # how the crop was cut: transform, face, landmarks
    PHOTO_STEM = "photo"  # photo.<ext>: the original file, byte for byte
    COMPOSITE = "composite.png"  # the reconstruction pasted into the photo

    def is_finished(self) -> bool:
        return self.summary.is_file()

    def read_config(self) -> dict:
        try:
            return json.loads(self.config.read_text())
        except (OSError, ValueError):
            raise Invert3dError(f"{self.config} is missing or unreadable") from None

    def write_config(self, config: dict) -> None:
        with atomic_file(self.config) as tmp:
            tmp.write_text(json.dumps(config, indent=2))

    def read_summary(self) -> dict:
        return json.loads(self.summary.read_text())

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
        camera = self.input_camera()
        scene = Scene.load(self.root, device)
        return Scene.seen_from(scene.G, scene.ws, camera)
