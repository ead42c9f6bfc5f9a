"""Inversion jobs: a photo (its camera given, found beside it, or estimated by aligning it) -> a result folder.

The one path the CLI takes, and the aligner, the app and a cluster runner will: ``plan_jobs`` reads every input
first (a bad one fails before any work starts), ``run_jobs`` inverts them in turn, each into a fresh copy of the
pretrained generator, skipping folders that already hold the same finished run.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from invert3d import console
from invert3d.align import Alignment, NoFaceError, align_photo
from invert3d.cameras import CameraRig, load_label
from invert3d.config import InversionConfig
from invert3d.errors import Invert3dError
from invert3d.generator import TriPlaneGenerator
from invert3d.media import from_uint8, load_photo, photos_in, read_rgb
from invert3d.pipeline.composite import write_aligned_input
from invert3d.pipeline.invert import invert_photo, prepare_folder, run_config
from invert3d.pipeline.layout import ResultFolder

ALIGNED_SIZE = 512  # a raw photo's crop is kept at least this large (aligned.png), whatever the model's size

Echo = Callable[[str], None]


@dataclass
class Job:
    source: Path  # the photo file
    out: Path  # its result folder
    photo: torch.Tensor  # [1, 3, S, S] in [-1, 1] at the generator's resolution
    camera: torch.Tensor  # [25]
    alignment: Alignment | None = None  # how it was aligned, when it was aligned here


def label_files_beside(photo: Path) -> tuple[Path, ...]:
    """Where a photo's camera label may lie: NAME.npy or NAME.json (EG3D's preprocessing, ``invert3d align``),
    NAME_camera.json (``invert3d synth``)."""
    return photo.with_suffix(".npy"), photo.with_suffix(".json"), photo.with_name(f"{photo.stem}_camera.json")


def read_input(path: Path, out: Path, G: TriPlaneGenerator, camera: Path | None = None, no_align: bool = False,
               warn: Echo = console.warn, notice: Echo = console.note) -> Job:
    """The job of one photo: the photo as the generator sees it and its camera.

    The camera is ``camera`` if given, else a label file beside the photo (``label_files_beside``); else the
    photo is aligned here (``invert3d align``'s crop and camera), or with ``no_align`` taken as it is, from the
    frontal camera.
    """
    size = G.img_resolution
    label_file = camera or next((p for p in label_files_beside(path) if p.is_file()), None)
    if label_file is not None:
        return Job(path, out, load_photo(path, size, notice=notice), load_label(label_file, path.name))
    if no_align:
        beside = "/".join(p.name for p in label_files_beside(path))
        warn(f"{path.name}: no --camera given and no {beside} beside it; using the frontal camera")
        frontal = CameraRig.of(G.cfg.rendering).pose(0.0, 0.0)
        return Job(path, out, load_photo(path, size, notice=notice), frontal)
    try:
        alignment = align_photo(read_rgb(path), max(ALIGNED_SIZE, size))
    except NoFaceError as exc:
        raise Invert3dError(f"{path.name}: {exc}; give its camera with --camera, or --no-align to use the photo "
                            "as it is from the frontal camera") from None
    notice(f"{path.name}: no camera label beside it, so it was aligned here (face score {alignment.face.score:.3f}"
           f"{f', the largest of {alignment.faces} faces' if alignment.faces > 1 else ''})")
    return aligned_job(path, out, G, alignment)


def aligned_job(path: Path, out: Path, G: TriPlaneGenerator, alignment: Alignment) -> Job:
    """The job of a photo aligned by ``align_photo``: its crop at the generator's resolution and its camera."""
    crop = Image.fromarray(alignment.crop)
    if crop.size[0] != G.img_resolution:
        crop = crop.resize((G.img_resolution, G.img_resolution), Image.LANCZOS)
    return Job(path, out, from_uint8(np.asarray(crop)), alignment.label, alignment)


def plan_jobs(image: Path, out: Path, G: TriPlaneGenerator, camera: Path | None = None, no_align: bool = False,
              warn: Echo = console.warn, notice: Echo = console.note) -> list[Job]:
    """One job per photo of ``image`` (a file, or a folder: one subfolder of ``out`` per photo), every input read
    (and aligned) now."""
    return [read_input(p, out / p.stem if image.is_dir() else out, G, camera, no_align, warn, notice)
            for p in job_photos(image)]


def job_photos(image: Path) -> list[Path]:
    """The photos of ``image`` (a file, or a folder's images), refused when two would share a result folder."""
    paths = photos_in(image)
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise Invert3dError(f"{image} holds photos with the same name and different extensions (their results would "
                            "share a folder); rename them")
    return paths


def run_job(job: Job, G: TriPlaneGenerator, cfg: InversionConfig, checkpoint: dict[str, str], quiet: bool = False,
            config: dict | None = None) -> dict:
    """Invert one job into its folder with a fresh copy of G (G itself is left as it is); returns the summary.
    ``config``: its ``run_config``, if already made."""
    config = config or run_config(cfg, job.source, job.camera, checkpoint, G)
    keep_alignment = (partial(write_aligned_input, alignment=job.alignment, photo=job.source, camera=job.camera)
                      if job.alignment is not None else None)
    return invert_photo(copy.deepcopy(G), job.photo, job.camera, cfg, job.out, config, quiet=quiet,
                        more_outputs=keep_alignment)


def run_jobs(jobs: list[Job], G: TriPlaneGenerator, cfg: InversionConfig, checkpoint: dict[str, str],
             quiet: bool = False, echo: Echo = print) -> list[dict]:
    """Run the jobs in turn: a folder holding the same finished run is skipped, and one holding another run is
    an error raised before any job starts; one line per photo through ``echo``. Returns their summaries."""
    configs = [run_config(cfg, job.source, job.camera, checkpoint, G) for job in jobs]
    console.debug(f"checkpoint {checkpoint}; settings {json.dumps(configs[0]['inversion'])}" if jobs else "no jobs")
    done = [ResultFolder(job.out).config.exists() and prepare_folder(ResultFolder(job.out), config)
            for job, config in zip(jobs, configs)]  # reads only: a folder is written when its job starts
    summaries = []
    for k, (job, config) in enumerate(zip(jobs, configs)):
        head = f"[{k + 1}/{len(jobs)}] {job.source.name}"
        if done[k]:
            echo(f"{head}: already done ({job.out}/), skipping")
            summaries.append(ResultFolder(job.out).read_summary())
            continue
        summary = run_job(job, G, cfg, checkpoint, quiet, config)
        m = summary["input_view"]
        echo(f"{head}: {job.out}/  input view PSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.3f}, "
             f"LPIPS {m['lpips_alex']:.3f}; {summary['seconds_total']:.0f} s")
        summaries.append(summary)
    return summaries
