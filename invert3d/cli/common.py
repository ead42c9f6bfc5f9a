"""Shared pieces of the command-line interface: options every command shares, the output-folder rule, argument
parsing and generator selection. Light at import time (no torch), so that ``--help`` is instant."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import typer

from invert3d.errors import Invert3dError

if TYPE_CHECKING:
    from invert3d.config import InversionConfig
    from invert3d.generator import TriPlaneGenerator

SET_HELP = ("Any inversion setting, KEY=VALUE (repeatable), e.g. --set tuning.lr=1e-3 --set loss.lpips=0.1; "
            "the keys are those of a result's config.json under 'inversion'.")
CONFIG_HELP = ("Settings from a JSON file: a result's config.json or any part of its 'inversion' settings "
               "(applied over the preset, before --set).")
DEVICE_HELP = "auto (a GPU if there is one, else the CPU), cpu, cuda or cuda:N (the N-th GPU)."
FORCE_HELP = "Replace the output folder if it holds other files (never the working folder or an input)."


def set_option() -> list[str]:
    return typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP)


def config_option():
    return typer.Option(None, "--config", metavar="FILE", help=CONFIG_HELP)


def device_option():
    return typer.Option("auto", metavar="auto|cpu|cuda[:N]", help=DEVICE_HELP)


def force_option():
    return typer.Option(False, "--force", help=FORCE_HELP)


def claim_out(out: Path, force: bool, own: Callable[[Path], bool] | None = None, inputs: Iterable[Path] = ()
              ) -> None:
    """The rule every command follows for its output folder: a new or empty folder is used; one this command
    continues (``own(out)``: a resumable run, an alignment folder) is continued; any other non-empty folder is
    refused, or with ``force`` emptied first, unless it is or holds the working folder or one of the
    command's ``inputs``. Raises before anything is written."""
    if out.exists() and not out.is_dir():
        raise Invert3dError(f"output folder {out} is a file")
    parent = next(p for p in [out, *out.parents] if p.exists())
    if not parent.is_dir():
        raise Invert3dError(f"output folder {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise Invert3dError(f"cannot create output folder {out}: {parent} is not writable")
    if out.is_dir() and any(out.iterdir()) and not (own is not None and own(out)):
        if not force:
            raise Invert3dError(f"{out} is not empty; choose another output folder, or add --force to replace "
                                "what it holds")
        held = [p for p in [Path.cwd(), *inputs] if p.resolve().is_relative_to(out.resolve())]
        if held:
            raise Invert3dError(f"--force would delete {held[0]}, which is (inside) {out}; choose another output "
                                "folder")
        shutil.rmtree(out)


def settings_list(config_file: Path | None, assignments: list[str]) -> list[str]:
    """--config FILE and --set KEY=VALUE as one list of KEY=VALUE settings, the file's first."""
    from invert3d.settings import as_assignments, read_settings_file

    if config_file is None:
        return list(assignments)
    try:
        return as_assignments(read_settings_file(config_file, "inversion")) + list(assignments)
    except ValueError as exc:
        raise Invert3dError(f"--config: {exc}") from None


def inversion_settings(preset_name: str, method: str, settings: list[str], **fields) -> InversionConfig:
    """The preset's InversionConfig with ``fields`` replaced, then ``settings`` applied (one-line errors)."""
    from invert3d.config import preset as inversion_preset
    from invert3d.settings import with_assignments

    try:
        return with_assignments(inversion_preset(preset_name, method, **fields), settings)
    except ValueError as exc:
        raise Invert3dError(str(exc)) from None


def parse_seeds(text: str) -> list[int]:
    """'0-3' -> [0, 1, 2, 3]; '1,5,7-8' -> [1, 5, 7, 8]."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise Invert3dError(f"bad seed list {text!r}: use numbers and ranges like 0-3,7")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise Invert3dError(f"bad seed range {part!r}: the end is before the start")
        seeds.extend(range(lo, hi + 1))
    if not seeds:
        raise Invert3dError("no seeds given")
    return seeds


def open_generator(checkpoint: Path | None, random_init: str | None, device: str, seed: int = 0
                   ) -> TriPlaneGenerator:
    """The generator a command works with: a checkpoint, an untrained preset, or the embedded model."""
    import torch

    from invert3d.checkpoints import load_generator
    from invert3d.generator import TriPlaneGenerator, preset
    from invert3d.runtime import resolve_device

    dev = resolve_device(device)
    if checkpoint is not None and random_init is not None:
        raise Invert3dError("give either --checkpoint or --random-init, not both")
    if random_init is not None:
        try:
            cfg = preset(random_init)
        except ValueError as exc:
            raise Invert3dError(str(exc)) from None
        torch.manual_seed(seed)
        G = TriPlaneGenerator(cfg).to(dev).eval().requires_grad_(False)
    else:
        G = load_generator(checkpoint, dev)
    from invert3d import console

    console.debug(f"generator: {checkpoint or random_init or 'embedded'} on {dev}, "
                  f"{sum(p.numel() for p in G.parameters()) / 1e6:.2f}M parameters, {G.img_resolution}px")
    return G
