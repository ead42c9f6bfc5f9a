"""``invert3d invert``: one photo (or a folder of photos) -> an editable 3D result per photo."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
import typer

from invert3d.cameras import load_label, pose_label
from invert3d.cli.common import (config_option, inversion_settings, open_generator, photos_in, set_option,
                                 settings_list)
from invert3d.errors import Invert3dError
from invert3d.inversion.config import METHODS, PRESETS
from invert3d.media import load_photo
from invert3d.pipeline.invert import invert_photo, is_finished, run_config

def _camera(camera: Path | None, image: Path, G, warn) -> torch.Tensor:
    """--camera if given; else a label file beside the image (NAME.npy or NAME.json, as EG3D's preprocessing
    writes them); else the frontal camera, with a warning."""
    if camera is not None:
        return load_label(camera, image.name)
    for sibling in (image.with_suffix(".npy"), image.with_suffix(".json")):
        if sibling.is_file():
            return load_label(sibling, image.name)
    warn(f"{image.name}: no --camera given and no {image.stem}.npy/.json beside it; using the frontal camera")
    r = G.cfg.rendering
    return pose_label(0.0, 0.0, r.avg_camera_radius, r.avg_camera_pivot)


def invert(
    image: Path = typer.Argument(..., help="Photo (PNG/JPEG/...) already cropped like the model's training "
                                 "images, or a folder of them."),
    out: Path = typer.Option(..., "--out", help="Result folder (for a folder of photos: one subfolder each)."),
    camera: Optional[Path] = typer.Option(None, help="25-float camera label: .json, .npy, or an EG3D "
                                          "dataset.json with this image's entry (default: IMAGE.npy/.json beside "
                                          "the image, else frontal with a warning)."),
    checkpoint: Optional[Path] = typer.Option(None, help="EG3D .pkl or invert3d checkpoint folder "
                                               "(default: the embedded model)."),
    method: str = typer.Option("hfgi3d", help=f"{' or '.join(METHODS)} (the PTI baseline)."),
    preset_name: str = typer.Option("paper", "--preset", help=f"{' or '.join(PRESETS)}: the paper's step counts, "
                                    "or a tenth of them."),
    seed: int = typer.Option(0, help="Seed of every random choice (results are reproducible from it)."),
    no_occluded: bool = typer.Option(False, "--no-occluded", help="Ablation: bilinear fill instead of generator "
                                     "inpainting for the occluded part."),
    no_visible: bool = typer.Option(False, "--no-visible", help="Ablation: generated texture instead of the "
                                    "photo's in the visible part."),
    density_reg: bool = typer.Option(False, "--density-reg", help="Ablation (appendix D): single-view loss plus a "
                                     "density regularizer toward the coarse geometry."),
    coarse_steps: Optional[int] = typer.Option(None, min=1, help="Override the stage-1 steps."),
    tuning_steps: Optional[int] = typer.Option(None, min=1, help="Override the final-stage steps."),
    config_file: Optional[Path] = config_option(),
    set_: list[str] = set_option(),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    quiet: bool = typer.Option(False, help="No progress bars."),
) -> None:
    """Invert a photo into the generator (default: pseudo-multi-view optimization, the paper's method) and
    write its reconstruction, pseudo views, novel views, orbit video, meshes, latent and tuned generator."""
    steps = [f"coarse.steps={n}" for n in [coarse_steps] if n] + [f"tuning.steps={n}" for n in [tuning_steps] if n]
    cfg = inversion_settings(preset_name, method, settings_list(config_file, set_) + steps, seed=seed,
                             no_occluded=no_occluded, no_visible=no_visible, density_reg=density_reg)
    images = photos_in(image)
    G0 = open_generator(checkpoint, None, device)
    size = G0.img_resolution
    warn = lambda msg: typer.echo(f"warning: {msg}", err=True)  # noqa: E731
    jobs = []
    for path in images:  # read every input first: a bad one fails before any work is done
        target = out / path.stem if image.is_dir() else out
        photo = load_photo(path, size, notice=lambda msg: typer.echo(f"note: {msg}", err=True))
        jobs.append((path, target, photo, _camera(camera, path, G0, warn)))
    ck = str(checkpoint) if checkpoint is not None else "embedded"
    for k, (path, target, photo, label) in enumerate(jobs):
        if image.is_dir() and is_finished(target):
            typer.echo(f"[{k + 1}/{len(jobs)}] {path.name}: already done ({target}/), skipping")
            continue
        G = open_generator(checkpoint, None, device) if k else G0
        summary = invert_photo(G, photo, label, cfg, target, run_config(cfg, path, label, ck, G), quiet=quiet)
        m = summary["input_view"]
        typer.echo(f"[{k + 1}/{len(jobs)}] {path.name}: {target}/  input view PSNR {m['psnr']:.2f} dB, "
                   f"SSIM {m['ssim']:.3f}, LPIPS {m['lpips_alex']:.3f}; {summary['seconds_total']:.0f} s")
    if len(jobs) == 1:
        typer.echo(f"novel views: {out}/novel_views.png, orbit: {out}/orbit.mp4, mesh: {out}/mesh.ply; "
                   f"settings: {out}/config.json")
