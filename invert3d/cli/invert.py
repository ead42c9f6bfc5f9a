"""``invert3d invert``: one photo (or a folder of photos) -> an editable 3D result per photo."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer

from invert3d import console
from invert3d.cli.common import (claim_out, config_option, device_option, force_option, inversion_settings,
                                 open_generator, set_option, settings_list)
from invert3d.config import METHODS, PRESETS, InversionConfig
from invert3d.errors import Invert3dError

Method = Literal[METHODS]
Preset = Literal[PRESETS]


def _holds_results(folder: Path) -> bool:
    """A folder invert wrote: a result (config.json), or one result folder per photo."""
    children = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return (folder / "config.json").is_file() or bool(children) and all((p / "config.json").is_file()
                                                                          for p in children if p.is_dir())

def invert(
    image: Path = typer.Argument(..., metavar="PHOTO", help="Photo (PNG/JPEG/...), or a folder of them: a raw photo is aligned "
                                 "first (as invert3d align does); one with a camera label beside it is taken as "
                                 "it is."),
    out: Path = typer.Option(..., "--out", help="Result folder (for a folder of photos: one subfolder each)."),
    camera: Optional[Path] = typer.Option(None, help="25-float camera label: .json, .npy, or an EG3D "
                                          "dataset.json with this image's entry (default: IMAGE.npy, IMAGE.json or "
                                          "IMAGE_camera.json beside the image, else the photo is aligned and its "
                                          "camera estimated)."),
    no_align: bool = typer.Option(False, "--no-align", help="Take a photo without a camera label as it is (an "
                                  "aligned crop), from the frontal camera, instead of aligning it."),
    checkpoint: Optional[Path] = typer.Option(None, help="EG3D .pkl or invert3d checkpoint folder "
                                               "(default: the embedded model)."),
    method: Method = typer.Option("hfgi3d", help="hfgi3d (pseudo-multi-view optimization) or pti (the "
                                  "single-view baseline)."),
    preset_name: Preset = typer.Option("paper", "--preset", help="paper: the paper's step counts (1000 / 300 / "
                                       "3000); fast: 200 / 60 / 130, for a preview in minutes."),
    seed: int = typer.Option(0, help="Seed of every random choice (results are reproducible from it)."),
    no_occluded: bool = typer.Option(False, "--no-occluded", help="Ablation: bilinear fill instead of generator "
                                     "inpainting for the occluded part."),
    no_visible: bool = typer.Option(False, "--no-visible", help="Ablation: generated texture instead of the "
                                    "photo's in the visible part."),
    density_reg: bool = typer.Option(False, "--density-reg", help="Ablation (appendix D): single-view loss plus a "
                                     "density regularizer toward the coarse geometry."),
    coarse_steps: Optional[int] = typer.Option(None, min=1, help="Override the stage-1 steps."),
    tuning_steps: Optional[int] = typer.Option(None, min=1, help="Override the final-stage steps."),
    mesh_resolution: Optional[int] = typer.Option(None, min=16, max=1024, help="Grid points per axis of the "
                                                  "result's mesh.ply (default 128)."),
    config_file: Optional[Path] = config_option(),
    set_: list[str] = set_option(),
    ray: bool = typer.Option(False, "--ray", help="Spread the photos over a Ray cluster, one task per photo (a "
                             "local one unless --ray-address); pip install 'invert3d[ray]'."),
    ray_address: Optional[str] = typer.Option(None, help="With --ray: the address of an existing cluster "
                                              "(e.g. ray://head:10001, or auto)."),
    cpus_per_task: int = typer.Option(1, min=1, help="With --ray: cores (and torch threads) per photo."),
    device: str = device_option(),
    force: bool = force_option(),
) -> None:
    """Invert a photo into the generator (default: pseudo-multi-view optimization, the paper's method) and
    write its reconstruction, pseudo views, novel views, orbit video, meshes, latent and tuned generator.
    With --ray, a bad photo fails alone: the others finish, then the failures are listed (exit 1)."""
    steps = ([f"coarse.steps={n}" for n in [coarse_steps] if n] + [f"tuning.steps={n}" for n in [tuning_steps] if n]
             + [f"mesh_resolution={n}" for n in [mesh_resolution] if n])
    cfg = inversion_settings(preset_name, method, settings_list(config_file, set_) + steps, seed=seed,
                             no_occluded=no_occluded, no_visible=no_visible, density_reg=density_reg)
    from invert3d.checkpoints import checkpoint_identity
    from invert3d.pipeline.jobs import plan_jobs, run_jobs
    from invert3d.pipeline.layout import ResultFolder

    if ray_address is not None and not ray:
        raise Invert3dError("--ray-address needs --ray")
    if ray:
        _invert_on_ray(image, out, cfg, checkpoint, camera, no_align, device, ray_address, cpus_per_task, force)
        return
    G = open_generator(checkpoint, None, device)
    jobs = plan_jobs(image, out, G, camera, no_align, console.warn, console.note)
    claim_out(out, force, own=_holds_results, inputs=[image])
    run_jobs(jobs, G, cfg, checkpoint_identity(checkpoint), quiet=console.level() == console.QUIET,
             echo=typer.echo)
    if len(jobs) == 1:
        r = ResultFolder(jobs[0].out)
        typer.echo(f"novel views: {r.novel_views}, orbit: {r.orbit}, mesh: {r.mesh}; settings: {r.config}"
                   + (f"; pasted into the photo: {r.composite}" if jobs[0].alignment is not None else ""))


def _invert_on_ray(image: Path, out: Path, cfg: InversionConfig, checkpoint: Path | None, camera: Path | None,
                   no_align: bool, device: str, address: str | None, cpus_per_task: int, force: bool) -> None:
    from invert3d.checkpoints import load_generator
    from invert3d.pipeline.cluster import run_on_ray
    from invert3d.pipeline.jobs import job_photos
    from invert3d.runtime import resolve_device

    photos = [p.resolve() for p in job_photos(image)]  # resolved: workers may run elsewhere
    load_generator(checkpoint)  # a bad checkpoint fails here, not in every task
    claim_out(out, force, own=_holds_results, inputs=[image])
    outs = [(out / p.stem if image.is_dir() else out).resolve() for p in photos]
    results = run_on_ray(photos, outs, cfg, checkpoint.resolve() if checkpoint else None,
                         camera.resolve() if camera else None, no_align, str(resolve_device(device)), address,
                         cpus_per_task, echo=typer.echo)
    failed = [(p, r["error"]) for p, r in zip(photos, results) if "error" in r]
    typer.echo(f"{len(photos) - len(failed)} of {len(photos)} photos inverted into {out}/"
               + (f"; {len(failed)} failed:" if failed else ""))
    for photo, why in failed:
        typer.echo(f"  {photo.name}: {why}")
    if failed:
        raise typer.Exit(1)
