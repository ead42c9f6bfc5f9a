"""invert3d's own checkpoint format: a folder with ``config.json`` (a ``GeneratorConfig``) and
``weights.safetensors`` (the state dict under NVIDIA's names). Loading it involves no pickle at all."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from invert3d.errors import CheckpointError
from invert3d.files import atomic_dir
from invert3d.generator import GeneratorConfig, TriPlaneGenerator

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.safetensors"
FORMAT_TAG = "invert3d-generator"


def is_native_checkpoint(path: Path) -> bool:
    return path.is_dir() and (path / CONFIG_NAME).is_file() and (path / WEIGHTS_NAME).is_file()


def save_generator(G: TriPlaneGenerator, out_dir: str | Path, extra: dict | None = None) -> Path:
    """Write ``G`` to ``out_dir`` atomically (a half-written folder never appears under that name)."""
    with atomic_dir(out_dir) as tmp:
        state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in G.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_NAME), metadata={"format": FORMAT_TAG})
        meta = {"format": FORMAT_TAG, "generator": G.cfg.to_dict(), **(extra or {})}
        (tmp / CONFIG_NAME).write_text(json.dumps(meta, indent=2))
    return Path(out_dir)


def load_native(path: Path) -> TriPlaneGenerator:
    try:
        meta = json.loads((path / CONFIG_NAME).read_text())
        cfg = GeneratorConfig.from_dict(meta["generator"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path / CONFIG_NAME}: not a valid invert3d generator config ({exc})") from None
    try:
        state = load_file(str(path / WEIGHTS_NAME))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path / WEIGHTS_NAME}: unreadable weights ({exc})") from None
    G = TriPlaneGenerator(cfg)
    load_state(G, state, str(path))
    return G


def load_state(G: TriPlaneGenerator, state: dict[str, torch.Tensor], source: str) -> None:
    """Load a state dict with NVIDIA's names into ``G``, with one clear error for any mismatch."""
    expected = G.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {missing[:3]}{' ...' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:3]}{' ...' if len(unexpected) > 3 else ''}")
        if wrong:
            parts.append(f"wrong shape {wrong[:3]}")
        raise CheckpointError(f"{source}: weights do not fit the generator config ({'; '.join(parts)})")
    G.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
