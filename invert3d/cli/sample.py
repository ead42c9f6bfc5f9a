"""``invert3d sample``: images, a view grid, orbit videos and shapes of random latents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional

import typer

from invert3d.cli.common import claim_out, device_option, force_option, open_generator, parse_seeds
from invert3d.cli.views import ImageMode, ViewOptions, view_options

VIEW = view_options("EG3D's 18.8 deg")
RandomInit = Literal["ffhq512", "afhq512", "shapenet128", "small", "synthhead"]
ShapeFormat = Literal["ply", "obj"]


def sample(
    out: Path = typer.Option(..., "--out", help="Output folder."),
    seeds: str = typer.Option("0-3", help="Seeds, e.g. 0-3 or 1,5,7-9."),
    checkpoint: Optional[Path] = typer.Option(None, help="EG3D .pkl or invert3d checkpoint folder "
                                               "(default: the embedded model)."),
    random_init: Optional[RandomInit] = typer.Option(None, help="Untrained generator of a preset instead."),
    truncation: float = typer.Option(0.7, min=0.0, max=1.0, help="Truncation psi (1 = none)."),
    frames: int = typer.Option(120, min=1, help="Frames of each orbit video."),
    no_video: bool = typer.Option(False, "--no-video", help="No orbit videos."),
    grid_views: int = typer.Option(8, min=1, help="Views per seed in grid.png."),
    fps: int = typer.Option(30, min=1, max=240, help="Frames per second of the videos."),
    image_mode: ImageMode = VIEW["image_mode"],
    resolution: Optional[int] = VIEW["resolution"],
    fov_deg: Optional[float] = VIEW["fov_deg"],
    nrr: Optional[int] = VIEW["nrr"],
    sample_mult: Optional[float] = VIEW["sample_mult"],
    shapes: bool = typer.Option(False, "--shapes", help="Also each seed's density mesh (seedNNNN.ply/.obj, "
                                "coloured by its renders)."),
    shape_res: int = typer.Option(256, min=16, max=1024, help="Grid points per axis of --shapes."),
    shape_format: ShapeFormat = typer.Option("ply", help="File format of --shapes."),
    device: str = device_option(),
    force: bool = force_option(),
) -> None:
    """Render seeds at the canonical view (seedNNNN.png), a grid of views along the orbit (grid.png, one row
    per seed), an orbit video per seed (seedNNNN.mp4) and, with --shapes, their meshes."""
    import torch

    from invert3d import console
    from invert3d.cameras import CameraRig
    from invert3d.geometry import write_obj, write_ply
    from invert3d.media import image_grid, save_png, write_video
    from invert3d.pipeline.mesh_colours import render_colours
    from invert3d.runtime import seeded_latent
    from invert3d.scene import Scene, density_mesh

    seed_list = parse_seeds(seeds)
    options = ViewOptions(image_mode, resolution, fov_deg, nrr, sample_mult)
    G = open_generator(checkpoint, random_init, device)
    options.apply(G)
    claim_out(out, force, inputs=[checkpoint] if checkpoint else [])
    rig = CameraRig.of(G.cfg.rendering, options.lens())
    front, grid_cams = rig.pose(0.0, 0.0)[None], rig.orbit(grid_views)
    orbit = rig.orbit(frames) if not no_video else front[:0]
    out.mkdir(parents=True, exist_ok=True)
    device_ = next(G.parameters()).device
    rows = []
    for seed in console.progress(seed_list, desc="seeds", unit="seed"):
        z = seeded_latent(seed, G.z_dim).to(device_)
        scene = Scene(G, G.mapping(z, front.to(device_), truncation_psi=truncation), options.lens())
        # One pass per seed: the backbone runs once, then the front view, the grid views and the orbit frames.
        views = (options.picture(v) for v in scene.renders(torch.cat([front, grid_cams, orbit])))
        save_png(out / f"seed{seed:04d}.png", next(views))
        rows.extend(next(views) for _ in range(grid_views))
        if not no_video:
            write_video(out / f"seed{seed:04d}.mp4", views, fps=fps)
        if shapes:
            mesh, _ = density_mesh(scene, front[0], shape_res)
            labels = torch.cat([front, grid_cams])
            mesh.colors = render_colours(mesh, labels, torch.cat([o["image"] for o in scene.renders(labels)]), 0.01)
            (write_obj if shape_format == "obj" else write_ply)(out / f"seed{seed:04d}.{shape_format}", mesh)
    save_png(out / "grid.png", image_grid(rows, grid_views))
    settings = {"command": "sample", "seeds": seed_list, "truncation": truncation, "frames": frames, "fps": fps,
                "checkpoint": str(checkpoint) if checkpoint else None, "random_init": random_init,
                "views": vars(options), "shapes": {"resolution": shape_res, "format": shape_format} if shapes else None,
                "generator": G.cfg.to_dict()}
    (out / "sample.json").write_text(json.dumps(settings, indent=2))
    typer.echo(f"wrote {len(seed_list)} seed{'s' if len(seed_list) > 1 else ''} to {out}/ (seedNNNN.png{', seedNNNN.mp4' if not no_video else ''}"
               f"{f', seedNNNN.{shape_format}' if shapes else ''}, grid.png)")
