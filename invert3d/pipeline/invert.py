"""One inversion job: photo + camera + generator -> a result folder (resumable, never half-overwritten).

A result folder holds ``config.json`` from the start and ``summary.json`` only once everything is written; a
folder with a summary is finished and is left alone (or refused, if it was made with other settings).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import torch

from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.generator import TriPlaneGenerator
from invert3d.inversion.config import InversionConfig
from invert3d.inversion.tuning import Snapshot
from invert3d.metrics import LPIPS, psnr, ssim
from invert3d.pipeline.outputs import write_outputs
from invert3d.pipeline.stages import run_stages


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_config(cfg: InversionConfig, image: Path, camera: torch.Tensor, checkpoint: str,
               G: TriPlaneGenerator) -> dict:
    """Everything that determines a result: what config.json holds (as JSON types, so it compares equal to a
    reloaded copy)."""
    return json.loads(json.dumps({"inversion": cfg.to_dict(), "input": {"image": str(image), "sha256": _file_digest(image),
                                                  "camera": [round(float(v), 7) for v in camera]},
            "checkpoint": checkpoint, "generator": G.cfg.to_dict()}))


def _settings(config: dict) -> dict | None:
    """The inversion settings of a config.json, fields missing from it at their defaults; None if they cannot be
    read (including settings this version does not know)."""
    try:
        return InversionConfig.from_dict(config["inversion"]).to_dict()
    except (KeyError, TypeError, ValueError):
        return None


def _same_run(a: dict, b: dict) -> bool:
    return (_settings(a) == _settings(b) is not None and all(a.get(k) == b.get(k) for k in ("checkpoint", "generator"))
            and a.get("input", {}).get("sha256") == b["input"]["sha256"]
            and a.get("input", {}).get("camera") == b["input"]["camera"])


def is_finished(out: Path) -> bool:
    return (out / "summary.json").is_file()


def check_out_dir(out: Path, config: dict) -> bool:
    """True when ``out`` already holds this finished run; raise if it holds another run; else prepare it."""
    config_path = out / "config.json"
    if config_path.exists():
        try:
            existing = json.loads(config_path.read_text())
        except ValueError:
            existing = {}
        if not _same_run(existing, config):
            what = "a finished" if is_finished(out) else "an unfinished"
            raise Invert3dError(f"{out} holds {what} run with other settings or another input; use another --out")
        return is_finished(out)
    if out.exists() and any(out.iterdir()):
        raise Invert3dError(f"{out} exists and is not an invert3d result folder; use another --out")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_file(config_path) as tmp:
        tmp.write_text(json.dumps(config, indent=2))
    return False


@torch.no_grad()
def input_view_metrics(recon: torch.Tensor, photo: torch.Tensor) -> dict[str, float]:
    a, b = recon.float().cpu(), photo.float().cpu()
    return {"psnr": round(float(psnr(a, b)[0]), 3), "ssim": round(float(ssim(a, b)[0]), 4),
            "lpips_alex": round(float(LPIPS("alex")(a, b)[0]), 4),
            "lpips_vgg": round(float(LPIPS("vgg")(a, b)[0]), 4)}


def invert_photo(G: TriPlaneGenerator, photo: torch.Tensor, camera: torch.Tensor, cfg: InversionConfig, out: Path,
                 config: dict, quiet: bool = False, snapshot: Snapshot | None = None,
                 more_outputs: Callable[[Path, TriPlaneGenerator, torch.Tensor], None] | None = None) -> dict:
    """Invert photo [1, 3, H, W] (at the generator's resolution, in [-1, 1]) seen from camera [25] into ``out``.

    ``config`` is ``run_config(...)``; ``more_outputs(out, G, ws)`` writes any further files before the folder
    is marked finished. Returns the summary (also written to ``out/summary.json``).
    """
    if check_out_dir(out, config):
        return json.loads((out / "summary.json").read_text())
    started = time.monotonic()
    device = next(G.parameters()).device
    photo, camera = photo.to(device), camera.to(device)
    results = run_stages(G, photo, camera, cfg, out, quiet=quiet, snapshot=snapshot)
    t = time.monotonic()
    coarse = (results.coarse_mesh, results.pretrained, results.ws_coarse) if results.coarse_mesh is not None else None
    recon = write_outputs(out, G, results.ws, photo, camera, coarse, results.pseudo, results.difference,
                          cfg.geometry.resolution, cfg.pseudo.visibility_tolerance, cfg.orbit_frames)
    if more_outputs is not None:
        more_outputs(out, G, results.ws)
    seconds = {**results.seconds, "outputs": round(time.monotonic() - t, 2)}
    summary = {"method": cfg.method, "preset": cfg.preset, "input_view": input_view_metrics(recon, photo),
               "seconds": seconds, "seconds_total": round(sum(seconds.values()), 2),
               "peak_memory_mb": results.peak_memory_mb, "lpips_precision": results.lpips_precision,
               "seconds_this_session": round(time.monotonic() - started, 2)}
    with atomic_file(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
    return summary
