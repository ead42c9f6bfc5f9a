"""``invert3d sample``: images, a view grid and orbit videos of random latents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import torch
import typer
from tqdm import tqdm

from invert3d.cameras import CameraRig
from invert3d.cli.common import open_generator, parse_seeds
from invert3d.media import image_grid, save_png, write_video
from invert3d.runtime import seeded_latent
from invert3d.scene import Scene


def sample(
    out: Path = typer.Option(..., "--out", help="Output folder."),
    seeds: str = typer.Option("0-3", help="Seeds, e.g. 0-3 or 1,5,7-9."),
    checkpoint: Optional[Path] = typer.Option(None, help="EG3D .pkl or invert3d checkpoint folder "
                                               "(default: the embedded model)."),
    random_init: Optional[str] = typer.Option(None, help="Untrained generator of a preset instead: "
                                              "ffhq512, afhq512, shapenet128 or small."),
    truncation: float = typer.Option(0.7, help="Truncation psi (1 = none)."),
    frames: int = typer.Option(120, min=1, help="Frames of each orbit video."),
    grid_views: int = typer.Option(8, min=1, help="Views per seed in grid.png."),
    fps: int = typer.Option(30, min=1),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
) -> None:
    """Render seeds at the canonical view (seedNNNN.png), a grid of views along the orbit (grid.png, one row
    per seed) and an orbit video per seed (seedNNNN.mp4)."""
    seed_list = parse_seeds(seeds)
    G = open_generator(checkpoint, random_init, device)
    rig = CameraRig.of(G.cfg.rendering)
    front, orbit, grid_cams = rig.pose(0.0, 0.0)[None], rig.orbit(frames), rig.orbit(grid_views)
    out.mkdir(parents=True, exist_ok=True)
    device_ = next(G.parameters()).device
    rows = []
    for seed in tqdm(seed_list, desc="seeds", unit="seed"):
        z = seeded_latent(seed, G.z_dim).to(device_)
        ws = G.mapping(z, front.to(device_), truncation_psi=truncation)
        # One pass per seed: the backbone runs once, then the front view, the grid views and the orbit frames.
        views = Scene(G, ws).views(torch.cat([front, grid_cams, orbit]))
        save_png(out / f"seed{seed:04d}.png", next(views))
        rows.extend(next(views) for _ in range(grid_views))
        frames_iter = tqdm(views, total=frames, desc=f"seed {seed} orbit", unit="frame", leave=False)
        write_video(out / f"seed{seed:04d}.mp4", frames_iter, fps=fps)
    save_png(out / "grid.png", image_grid(rows, grid_views))
    settings = {"command": "sample", "seeds": seed_list, "truncation": truncation, "frames": frames, "fps": fps,
                "checkpoint": str(checkpoint) if checkpoint else None, "random_init": random_init,
                "generator": G.cfg.to_dict()}
    (out / "sample.json").write_text(json.dumps(settings, indent=2))
    typer.echo(f"wrote {len(seed_list)} seeds to {out}/ (seedNNNN.png, seedNNNN.mp4, grid.png)")
