"""``invert3d invert``: one photo (or a folder of photos) -> an editable 3D result per photo."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from invert3d.checkpoints import checkpoint_identity
from invert3d.cli.common import config_option, inversion_settings, open_generator, set_option, settings_list
from invert3d.config import METHODS, PRESETS
from invert3d.pipeline.jobs import plan_jobs, run_jobs
from invert3d.pipeline.layout import ResultFolder

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
    G = open_generator(checkpoint, None, device)
    warn = lambda msg: typer.echo(f"warning: {msg}", err=True)  # noqa: E731
    notice = lambda msg: typer.echo(f"note: {msg}", err=True)  # noqa: E731
    jobs = plan_jobs(image, out, G, camera, no_align, warn, notice)
    run_jobs(jobs, G, cfg, checkpoint_identity(checkpoint), quiet=quiet, echo=typer.echo)
    if len(jobs) == 1:
        r = ResultFolder(out)
        typer.echo(f"novel views: {r.novel_views}, orbit: {r.orbit}, mesh: {r.mesh}; settings: {r.config}"
                   + (f"; pasted into the photo: {r.root / r.COMPOSITE}" if jobs[0].alignment is not None else ""))
