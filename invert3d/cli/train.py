"""``invert3d train``: train a generator on the synthetic world (resumable)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer

from invert3d.cli.common import claim_out, device_option, force_option
from invert3d.errors import CheckpointError, Invert3dError


def train(
    out: Path = typer.Option(..., "--out", help="Run folder (resumes if it holds an unfinished run)."),
    config: Literal["synthhead"] = typer.Option("synthhead", help="Generator preset to train (the synthetic "
                                                "world's)."),
    init: Optional[Path] = typer.Option(None, help="Start from this generator folder (e.g. a run's model/ or "
                                        "the shipped one): its weights and architecture, a fresh optimizer and "
                                        "learning-rate schedule."),
    seed: int = typer.Option(0, help="Seed of everything random in the run."),
    minutes: float = typer.Option(80.0, min=0.1, help="Wall-clock budget, data rendering included."),
    max_steps: int = typer.Option(1_000_000, min=1, help="Step budget; with a generous --minutes it makes the "
                                  "run exactly reproducible from --seed."),
    batch: int = typer.Option(4, min=1, help="Subjects per step."),
    refresh: int = typer.Option(1, min=1, help="New training views rendered per step."),
    pool: int = typer.Option(768, min=1, help="Training views kept in the pool."),
    set_: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="Any training setting, KEY=VALUE (repeatable), e.g. "
                                   "--set lr=3e-3 --set generator.plane_offset=true; see train_config.json."),
    device: str = device_option(),
    workers: int = typer.Option(0, min=0, help="Processes rendering the data ahead of the steps (0: inline; "
                                "useful on a GPU machine with many cores). Does not change the data."),
    force: bool = force_option(),
) -> None:
    """Distil the procedural world into an EG3D generator; writes OUT/model/ (safetensors + config).
    Run it again with the same --out to resume after an interruption, or with a larger budget to extend it."""
    from invert3d.checkpoints import load_generator
    from invert3d.runtime import resolve_device
    from invert3d.settings import with_assignments
    from invert3d.training import TrainConfig, train as run_training

    cfg = TrainConfig(seed=seed, minutes=minutes, max_steps=max_steps, batch=batch, refresh_per_step=refresh,
                      pool_size=pool)
    if init is not None:
        try:
            init_arch = load_generator(init).cfg
        except CheckpointError as exc:
            raise Invert3dError(f"--init: {exc}") from None
        cfg = TrainConfig(**{**vars(cfg), "generator": init_arch, "init": str(init)})
    try:
        cfg = with_assignments(cfg, set_)
    except ValueError as exc:
        raise Invert3dError(f"--set: {exc}") from None
    if init is not None and cfg.generator != init_arch:
        raise Invert3dError("--init keeps the architecture of the model it starts from; drop the --set "
                            "generator.* settings")
    claim_out(out, force, own=lambda folder: (folder / "train_config.json").is_file(), inputs=[init] if init else [])
    model = run_training(cfg, out, resolve_device(device), workers)
    typer.echo(f"wrote {model}/ ; log in {out / 'log.jsonl'}")
