"""Loading generators: NVIDIA's ``.pkl`` files (safely), invert3d's own folders, and the embedded model."""

from __future__ import annotations

from pathlib import Path

import torch

from invert3d.checkpoints.digest import checkpoint_digest
from invert3d.checkpoints.native import is_native_checkpoint, load_native, load_state, save_generator
from invert3d.checkpoints.nvidia_pickle import generator_record, module_state_dict, read_nvidia_pickle
from invert3d.errors import CheckpointError
from invert3d.generator import GeneratorConfig, TriPlaneGenerator

EMBEDDED_DIR = Path(__file__).resolve().parent.parent / "models" / "synthhead"


def load_nvidia_pickle(path: str | Path) -> TriPlaneGenerator:
    """``G_ema`` of an EG3D ``.pkl`` as our generator; nothing from the file is executed."""
    record = generator_record(read_nvidia_pickle(path), path)
    init_kwargs = record.state.get("_init_kwargs")
    if not isinstance(init_kwargs, dict):
        raise CheckpointError(f"{path}: the generator's constructor arguments are missing")
    try:
        cfg = GeneratorConfig.from_nvidia(init_kwargs, record.state.get("neural_rendering_resolution", 64))
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: unsupported generator configuration ({exc})") from None
    G = TriPlaneGenerator(cfg)
    load_state(G, module_state_dict(record), str(path))
    return G


def load_generator(path: str | Path | None = None, device: str | torch.device = "cpu") -> TriPlaneGenerator:
    """A generator from an EG3D ``.pkl``, an invert3d checkpoint folder, or (``path=None``) the embedded model.

    Raises ``CheckpointError`` with a one-line reason when the file cannot be used.
    """
    if path is None:
        if not is_native_checkpoint(EMBEDDED_DIR):
            raise CheckpointError("this install has no embedded model; pass a checkpoint path")
        G = load_native(EMBEDDED_DIR)
    else:
        p = Path(path)
        if not p.exists():
            raise CheckpointError(f"checkpoint not found: {p}")
        if p.is_dir():
            if not is_native_checkpoint(p):
                raise CheckpointError(f"{p}: a checkpoint folder needs config.json and weights.safetensors")
            G = load_native(p)
        else:
            G = load_nvidia_pickle(p)
    return G.to(device).eval().requires_grad_(False)


def checkpoint_identity(path: str | Path | None = None) -> dict[str, str]:
    """What names a generator in a result's config.json: its path ('embedded' for the embedded model) and the
    SHA-256 of its weights (``checkpoint_digest``)."""
    source = EMBEDDED_DIR if path is None else Path(path)
    return {"path": "embedded" if path is None else str(path), "sha256": checkpoint_digest(source)}


__all__ = ["EMBEDDED_DIR", "checkpoint_identity", "load_generator", "load_nvidia_pickle", "save_generator"]
