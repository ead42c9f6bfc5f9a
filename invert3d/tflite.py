"""TensorFlow Lite models (MediaPipe's face mesh, fer's emotion model) run by ``ai-edge-litert``, quietly."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np


@contextmanager
def _native_stderr_silenced():
    """Silence what native code writes to the process's stderr (LiteRT's "Created TensorFlow Lite XNNPACK
    delegate" line), then restore it."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=None)
def interpreter(model: Path):
    """The model's LiteRT interpreter, tensors allocated, one thread; one per model file and process."""
    from ai_edge_litert.interpreter import Interpreter

    with _native_stderr_silenced():
        loaded = Interpreter(model_path=str(model), num_threads=1)
        loaded.allocate_tensors()
    return loaded


def run(model: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    """The model's outputs by name for its one input x (float32, the input's shape)."""
    it = interpreter(model)
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return {out["name"]: it.get_tensor(out["index"]) for out in it.get_output_details()}
