"""``invert3d invert``: one photo (or a folder of photos) -> an editable 3D result per photo."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import typer
from PIL import Image

from invert3d.align import Alignment, NoFaceError, align_photo
from invert3d.cameras import load_label, pose_label
from invert3d.cli.common import (config_option, inversion_settings, open_generator, photos_in, set_option,
                                 settings_list)
from invert3d.errors import Invert3dError
from invert3d.inversion.config import METHODS, PRESETS
from invert3d.media import from_uint8, load_photo, read_rgb
from invert3d.pipeline.composite import write_aligned_input
from invert3d.pipeline.invert import invert_photo, is_finished, run_config

ALIGNED_SIZE = 512  # a raw photo's crop is kept at least this large (aligned.png), whatever the model's size

def _input(path: Path, camera: Path | None, G, no_align: bool, warn, notice
           ) -> tuple[torch.Tensor, torch.Tensor, Alignment | None]:
    """The photo [1, 3, S, S] as the generator sees it, its camera [25], and its alignment if it was made here.

    The camera is --camera if given, else a label file beside the photo (NAME.npy or NAME.json, as EG3D's
    preprocessing and ``invert3d align`` write them); else the photo is aligned here (``invert3d align``'s crop
    and camera), or with --no-align taken as it is, from the frontal camera.
    """
    size = G.img_resolution
    label_file = camera or next((p for p in (path.with_suffix(".npy"), path.with_suffix(".json")) if p.is_file()),
                                None)
    if label_file is not None:
        return load_photo(path, size, notice=notice), load_label(label_file, path.name), None
    if no_align:
        warn(f"{path.name}: no --camera given and no {path.stem}.npy/.json beside it; using the frontal camera")
        r = G.cfg.rendering
        frontal = pose_label(0.0, 0.0, r.avg_camera_radius, r.avg_camera_pivot)
        return load_photo(path, size, notice=notice), frontal, None
    try:
        alignment = align_photo(read_rgb(path), max(ALIGNED_SIZE, size))
    except NoFaceError as exc:
        raise Invert3dError(f"{path.name}: {exc}; give its camera with --camera, or --no-align to use the photo "
                            "as it is from the frontal camera") from None
    notice(f"{path.name}: no camera label beside it, so it was aligned here (face score {alignment.face.score:.3f}"
           f"{f', the largest of {alignment.faces} faces' if alignment.faces > 1 else ''})")
    crop = Image.fromarray(alignment.crop)
    if crop.size[0] != size:
        crop = crop.resize((size, size), Image.LANCZOS)
    return from_uint8(np.asarray(crop)), alignment.label, alignment


def invert(
    image: Path = typer.Argument(..., help="Photo (PNG/JPEG/...), or a folder of them: a raw photo is aligned "
                                 "first (as invert3d align does); one with a camera label beside it is taken as "
                                 "it is."),
    out: Path = typer.Option(..., "--out", help="Result folder (for a folder of photos: one subfolder each)."),
    camera: Optional[Path] = typer.Option(None, help="25-float camera label: .json, .npy, or an EG3D "
                                          "dataset.json with this image's entry (default: IMAGE.npy/.json beside "
                                          "the image, else the photo is aligned and its camera estimated)."),
    no_align: bool = typer.Option(False, "--no-align", help="Take a photo without a camera label as it is (an "
                                  "aligned crop), from the frontal camera, instead of aligning it."),
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
    warn = lambda msg: typer.echo(f"warning: {msg}", err=True)  # noqa: E731
    notice = lambda msg: typer.echo(f"note: {msg}", err=True)  # noqa: E731
    jobs = []
    for path in images:  # read (and align) every input first: a bad one fails before any work is done
        target = out / path.stem if image.is_dir() else out
        jobs.append((path, target, *_input(path, camera, G0, no_align, warn, notice)))
    ck = str(checkpoint) if checkpoint is not None else "embedded"
    for k, (path, target, photo, label, alignment) in enumerate(jobs):
        if image.is_dir() and is_finished(target):
            typer.echo(f"[{k + 1}/{len(jobs)}] {path.name}: already done ({target}/), skipping")
            continue
        G = open_generator(checkpoint, None, device) if k else G0
        keep_alignment = (partial(write_aligned_input, alignment=alignment, photo=path, camera=label)
                          if alignment is not None else None)
        summary = invert_photo(G, photo, label, cfg, target, run_config(cfg, path, label, ck, G), quiet=quiet,
                               more_outputs=keep_alignment)
        m = summary["input_view"]
        typer.echo(f"[{k + 1}/{len(jobs)}] {path.name}: {target}/  input view PSNR {m['psnr']:.2f} dB, "
                   f"SSIM {m['ssim']:.3f}, LPIPS {m['lpips_alex']:.3f}; {summary['seconds_total']:.0f} s")
    if len(jobs) == 1:
        typer.echo(f"novel views: {out}/novel_views.png, orbit: {out}/orbit.mp4, mesh: {out}/mesh.ply; "
                   f"settings: {out}/config.json" + (f"; pasted into the photo: {out}/composite.png"
                                                      if jobs[0][4] is not None else ""))
