"""One inversion: photo + camera + generator -> a result folder (resumable, never half-overwritten).

A result folder holds ``config.json`` from the start and ``summary.json`` only once everything is written; a
folder with a summary is finished and is left alone (or refused, if it was made by another run: other settings,
another photo or camera, other generator weights).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import torch

from invert3d.config import InversionConfig
from invert3d.errors import Invert3dError
from invert3d.generator import TriPlaneGenerator
from invert3d.inversion.tuning import Snapshot
from invert3d.metrics import image_scores
from invert3d.pipeline.layout import ResultFolder
from invert3d.pipeline.outputs import write_outputs
from invert3d.pipeline.stages import run_stages
from invert3d.scene import Scene

INPUT_SCORES = {"psnr": 3, "ssim": 4, "lpips_alex": 4, "lpips_vgg": 4}  # summary.json's scores, their decimals


def run_config(cfg: InversionConfig, image: Path, camera: torch.Tensor, checkpoint: dict[str, str],
               G: TriPlaneGenerator) -> dict:
    """Everything that determines a result: what config.json holds (as JSON types, so it compares equal to a
    reloaded copy). ``checkpoint`` is ``checkpoints.checkpoint_identity(...)``: its path and weights digest."""
    return json.loads(json.dumps({
        "inversion": cfg.to_dict(),
        "input": {"image": str(image), "sha256": hashlib.sha256(image.read_bytes()).hexdigest(),
                  "camera": [round(float(v), 7) for v in camera]},
        "checkpoint": checkpoint, "generator": G.cfg.to_dict()}))


def _settings(config: dict) -> dict | None:
    """The inversion settings of a config.json, fields missing from it at their defaults; None if they cannot be
    read (including settings this version does not know)."""
    try:
        return InversionConfig.from_dict(config["inversion"]).to_dict()
    except (KeyError, TypeError, ValueError):
        return None


def _difference(existing: dict, config: dict) -> str | None:
    """What makes ``existing`` (a folder's config.json) another run than ``config``; None if it is this one."""
    if _settings(existing) != _settings(config) or _settings(existing) is None:
        return "other settings"
    inp, new = existing.get("input", {}), config["input"]
    if inp.get("sha256") != new["sha256"] or inp.get("camera") != new["camera"]:
        return "another input photo or camera"
    if existing.get("generator") != config["generator"]:
        return "another generator architecture"
    old = existing.get("checkpoint")
    if not isinstance(old, dict):  # written before results recorded their weights
        return "an invert3d that did not record the generator's weights (add --force to redo it)"
    if old.get("sha256") != config["checkpoint"].get("sha256"):
        return "other generator weights"
    return None


def prepare_folder(folder: ResultFolder, config: dict) -> bool:
    """True when ``folder`` already holds this finished run; raise if it holds another run; else prepare it."""
    if folder.config.exists():
        try:
            existing = folder.read_config()
        except Invert3dError:
            existing = {}
        why = _difference(existing, config)
        if why is not None:
            what = "a finished" if folder.is_finished() else "an unfinished"
            raise Invert3dError(f"{folder.root} holds {what} run made with {why}; use another --out")
        return folder.is_finished()
    if folder.root.exists() and any(folder.root.iterdir()):
        raise Invert3dError(f"{folder.root} exists and is not an invert3d result folder; use another --out")
    folder.root.mkdir(parents=True, exist_ok=True)
    folder.write_config(config)
    return False


def input_view_scores(recon: torch.Tensor, photo: torch.Tensor) -> dict[str, float]:
    """summary.json's input-view scores of the reconstruction [1, 3, H, W] against the photo."""
    scores = image_scores(recon, photo, tuple(INPUT_SCORES))
    return {k: round(float(v[0]), INPUT_SCORES[k]) for k, v in scores.items()}


def invert_photo(G: TriPlaneGenerator, photo: torch.Tensor, camera: torch.Tensor, cfg: InversionConfig, out: Path,
                 config: dict, quiet: bool = False, snapshot: Snapshot | None = None,
                 more_outputs: Callable[[ResultFolder, Scene], None] | None = None) -> dict:
    """Invert photo [1, 3, H, W] (at the generator's resolution, in [-1, 1]) seen from camera [25] into ``out``;
    G is tuned in place.

    ``config`` is ``run_config(...)``; ``more_outputs(folder, scene)`` writes any further files before the folder
    is marked finished. Returns the summary (also written to ``out/summary.json``).
    """
    folder = ResultFolder(out)
    if prepare_folder(folder, config):
        return folder.read_summary()
    started = time.monotonic()
    device = next(G.parameters()).device
    photo, camera = photo.to(device), camera.to(device)
    results = run_stages(G, photo, camera, cfg, folder, quiet=quiet, snapshot=snapshot)
    t = time.monotonic()
    scene = Scene.with_lens_of(G, results.ws, camera)
    recon = write_outputs(folder, scene, photo, camera, results.coarse, results.coarse_mesh, results.pseudo,
                          results.difference, cfg.mesh_resolution, cfg.pseudo.visibility_tolerance,
                          cfg.orbit_frames)
    if more_outputs is not None:
        more_outputs(folder, scene)
    seconds = {**results.seconds, "outputs": round(time.monotonic() - t, 2)}
    return folder.write_summary({
        "method": cfg.method, "preset": cfg.preset, "input_view": input_view_scores(recon, photo),
        "seconds": seconds, "seconds_total": round(sum(seconds.values()), 2),
        "peak_memory_mb": results.peak_memory_mb, "lpips_precision": results.lpips_precision,
        "seconds_this_session": round(time.monotonic() - started, 2)})
