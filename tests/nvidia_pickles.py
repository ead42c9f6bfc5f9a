"""Test helper: write pickles in NVIDIA's ``torch_utils.persistence`` format without NVIDIA's code.

Each network is pickled as ``torch_utils.persistence._reconstruct_persistent_obj(meta)`` where ``meta`` carries the
class's source code, exactly as EG3D's training loop saves checkpoints. The source we embed writes a marker file
and raises, so a loader that executes it is caught twice over.
"""

from __future__ import annotations

import collections
import pickle
import sys
import types
from pathlib import Path

from torch import nn


def _install_fake_module(name: str, attrs: dict) -> None:
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        mod_name = ".".join(parts[:i])
        if mod_name not in sys.modules:
            sys.modules[mod_name] = types.ModuleType(mod_name)
    for key, value in attrs.items():
        value.__module__ = name
        value.__qualname__ = key
        setattr(sys.modules[name], key, value)


def _reconstruct_persistent_obj(meta):  # stand-in so pickle can name the global; never called by the loader
    raise AssertionError("the loader must not call NVIDIA's reconstruct function")


_install_fake_module("torch_utils.persistence", {"_reconstruct_persistent_obj": _reconstruct_persistent_obj})


def evil_source(marker: Path) -> str:
    return (f"import pathlib\npathlib.Path({str(marker)!r}).write_text('embedded source was executed')\n"
            "raise RuntimeError('checkpoint source code must never be executed')\n")


class Persistent:
    """Pickles as NVIDIA's persistent object with the given class name, source and state."""

    def __init__(self, class_name: str, state: dict, module_src: str):
        self.meta = dict(type="class", version=6, module_src=module_src, class_name=class_name, state=state)

    def __reduce__(self):
        return (_reconstruct_persistent_obj, (self.meta,))


def _module_state(module: nn.Module, module_src: str) -> dict:
    children = collections.OrderedDict(
        (name, Persistent(type(child).__name__, _module_state(child, module_src), module_src))
        for name, child in module._modules.items())
    return {"training": False, "_parameters": collections.OrderedDict(module._parameters),
            "_buffers": collections.OrderedDict(module._buffers), "_non_persistent_buffers_set": set(),
            "_modules": children}


def write_eg3d_pickle(path: Path, G: nn.Module, init_kwargs: dict, neural_rendering_resolution: int,
                      marker: Path) -> None:
    """A checkpoint dict like EG3D's: G, D, G_ema, augment_pipe, training_set_kwargs."""
    src = evil_source(marker)
    state = _module_state(G, src)
    state.update(_init_args=(), _init_kwargs=init_kwargs, neural_rendering_resolution=neural_rendering_resolution,
                 rendering_kwargs=init_kwargs["rendering_kwargs"])
    g_ema = Persistent("TriPlaneGenerator", state, src)
    disc = Persistent("DualDiscriminator", {"_parameters": {}, "_modules": {}, "_init_kwargs": {}}, src)
    data = {"training_set_kwargs": {"resolution": 128}, "G": g_ema, "D": disc, "G_ema": g_ema,
            "augment_pipe": Persistent("AugmentPipe", {}, src)}
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=4)
