"""``invert3d convert``: an EG3D ``.pkl`` into invert3d's pickle-free checkpoint folder."""

from __future__ import annotations

from pathlib import Path

import typer

from invert3d.cli.common import claim_out, force_option


def convert(
    source: Path = typer.Argument(..., metavar="PKL", help="NVIDIA EG3D checkpoint (.pkl)."),
    out: Path = typer.Argument(..., metavar="OUT", help="Output folder (config.json + weights.safetensors)."),
    force: bool = force_option(),
) -> None:
    """Read G_ema from an EG3D pickle without executing it and save it as safetensors + JSON config."""
    from invert3d.checkpoints import load_nvidia_pickle, save_generator
    from invert3d.errors import CheckpointError

    if source.is_dir():
        raise CheckpointError(f"{source} is a folder (an invert3d checkpoint needs no converting); give an EG3D .pkl")
    if not source.is_file():
        raise CheckpointError(f"checkpoint not found: {source}")
    G = load_nvidia_pickle(source)
    claim_out(out, force, inputs=[source])
    save_generator(G, out, extra={"converted_from": source.name})
    n = sum(p.numel() for p in G.state_dict().values())
    typer.echo(f"wrote {out}/ ({n / 1e6:.1f}M values, {G.cfg.img_resolution}px, {G.cfg.superresolution})")
