"""``invert3d convert``: an EG3D ``.pkl`` into invert3d's pickle-free checkpoint folder."""

from __future__ import annotations

from pathlib import Path

import typer

from invert3d.checkpoints import load_nvidia_pickle, save_generator


def convert(
    source: Path = typer.Argument(..., help="NVIDIA EG3D checkpoint (.pkl)."),
    out: Path = typer.Argument(..., help="Output folder (config.json + weights.safetensors)."),
) -> None:
    """Read G_ema from an EG3D pickle without executing it and save it as safetensors + JSON config."""
    G = load_nvidia_pickle(source)
    save_generator(G, out, extra={"converted_from": source.name})
    n = sum(p.numel() for p in G.state_dict().values())
    typer.echo(f"wrote {out}/ ({n / 1e6:.1f}M values, {G.cfg.img_resolution}px, {G.cfg.superresolution})")
