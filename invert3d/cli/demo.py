"""``invert3d demo``: the whole tool on a decorated synthetic subject, scored against its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer

from invert3d.cli.common import (claim_out, config_option, device_option, force_option, inversion_settings,
                                 open_generator, set_option, settings_list)
from invert3d.cli.views import check_view
from invert3d.config import PRESETS
from invert3d.synthetic.kinds import PROCEDURAL_KINDS

DecalKind = Literal[PROCEDURAL_KINDS]
Preset = Literal[PRESETS]


def demo(
    out: Path = typer.Option(..., "--out", help="Output folder (resumes: a demo folder is continued)."),
    seed: int = typer.Option(3, min=0, help="Synthetic subject seed."),
    decal_kind: DecalKind = typer.Option("tattoo", help="The decal on the subject."),
    yaw: float = typer.Option(0.25, help="Input view yaw (rad)."),
    preset_name: Preset = typer.Option("fast", "--preset", help="The budget: fast (minutes) or paper (hours)."),
    checkpoint: Optional[Path] = typer.Option(None, help="Generator (default: the embedded model)."),
    config_file: Optional[Path] = config_option(),
    set_: list[str] = set_option(),
    device: str = device_option(),
    force: bool = force_option(),
) -> None:
    """Make a decorated synthetic subject, invert its photo, and put the novel views beside the truth."""
    from invert3d.cameras import load_label
    from invert3d.checkpoints import checkpoint_identity
    from invert3d.media import image_grid, load_photo, save_png
    from invert3d.pipeline.evaluate import mean_scores, score_subject, truth_geometry
    from invert3d.pipeline.jobs import Job, run_job
    from invert3d.pipeline.layout import ResultFolder
    from invert3d.synthetic.subject import make_subject, write_subject

    check_view(yaw, 0.0)
    cfg = inversion_settings(preset_name, "hfgi3d", settings_list(config_file, set_))
    G = open_generator(checkpoint, None, device)
    claim_out(out, force, own=lambda folder: (folder / "subject" / "subject.json").is_file(),
              inputs=[checkpoint] if checkpoint else [])
    subject_dir = out / "subject"
    subject = make_subject(seed, decal_kind)
    if not (subject_dir / "subject.json").exists():
        write_subject(subject, subject_dir, yaw, 0.0, G.img_resolution)
    image = subject_dir / "input.png"
    result = ResultFolder(out / "result")
    job = Job(image, result.root, load_photo(image, G.img_resolution), load_label(subject_dir / "input_camera.json"))
    summary = run_job(job, G, cfg, checkpoint_identity(checkpoint))
    truth = truth_geometry(subject.field, subject_dir, G.img_resolution, subject.decals)
    scores = score_subject(result.open(), subject_dir, truth).novel
    save_png(out / "novel_vs_truth.png", image_grid([s.truth for s in scores] + [s.image for s in scores],
                                                    len(scores)))
    m, iv = mean_scores(scores), summary["input_view"]
    decal = (f"; the {decal_kind} where they show it: PSNR {m['decal_psnr']:.2f} dB, LPIPS {m['decal_lpips']:.3f}"
             if "decal_psnr" in m else "")
    typer.echo(f"input view: PSNR {iv['psnr']:.2f} dB, LPIPS {iv['lpips_alex']:.3f}; "
               f"{len(scores)} novel views vs truth: PSNR {m['psnr']:.2f} dB, LPIPS {m['lpips_alex']:.3f}{decal}")
    typer.echo(f"look at {out}/novel_vs_truth.png (top: truth, bottom: inverted), {result.pseudo_views}, "
               f"{result.orbit}; took {summary['seconds_total']:.0f} s")
