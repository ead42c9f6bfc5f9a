"""Reading NVIDIA's EG3D ``.pkl`` checkpoints without executing anything from the file.

A released checkpoint is a pickled dict (``G``, ``D``, ``G_ema``, ``augment_pipe``, ``training_set_kwargs``)
whose networks were saved through ``torch_utils.persistence``: each is a call of
``_reconstruct_persistent_obj(meta)`` with the class's *source code* embedded in ``meta``, which NVIDIA's loader
``exec``s. Unpickling is code execution, so this module never lets ``pickle`` resolve a real global. Every global
the file names is looked up in a fixed table of harmless stand-ins:

- persistent objects and plain module classes (``training.*``, ``torch.nn.modules.*``) become inert records of
  their class name and state; the embedded source is never looked at;
- tensors become lazy records; their bytes (a nested legacy ``torch.save`` of one storage) are decoded only for
  the network that is used, by torch's own ``weights_only`` loader, which refuses code in its turn;
- containers and numpy scalars map to plain Python/numpy constructors.

Any other global (``os.system``, ``builtins.eval``, ``subprocess.Popen``, ...) raises ``CheckpointError`` before
anything is called. ``D``, ``augment_pipe`` and training metadata stay inert records and are never decoded.
"""

from __future__ import annotations

import collections
import io
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from invert3d.errors import CheckpointError


class ObjectRecord:
    """Stand-in for an instance of a class named in the pickle: its qualified name and pickled state."""

    qualname = "?"

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<record {self.qualname}>"


_RECORD_CLASSES: dict[str, type[ObjectRecord]] = {}


def _record_class(qualname: str) -> type[ObjectRecord]:
    if qualname not in _RECORD_CLASSES:
        _RECORD_CLASSES[qualname] = type(qualname.rsplit(".", 1)[-1], (ObjectRecord,), {"qualname": qualname})
    return _RECORD_CLASSES[qualname]


@dataclass
class PersistentRecord:
    """A ``torch_utils.persistence`` object: class name and ``__dict__`` state (the embedded source is dropped)."""

    class_name: str
    state: dict[str, Any]


@dataclass
class StorageBytes:
    """A storage pickled as the bytes of a nested legacy ``torch.save``; decoded on demand."""

    payload: bytes
    _storage: Any = field(default=None, repr=False)

    def load(self) -> Any:
        if self._storage is None:
            try:
                self._storage = torch.load(io.BytesIO(self.payload), weights_only=True, map_location="cpu")
            except Exception as exc:  # torch raises several types for corrupt or unsafe payloads
                raise CheckpointError(f"a tensor in the checkpoint cannot be decoded safely: {exc}") from None
        return self._storage


@dataclass
class TensorRecord:
    """Arguments of ``torch._utils._rebuild_tensor_v2``; ``materialize`` builds the tensor."""

    storage: Any
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def materialize(self) -> torch.Tensor:
        storage = self.storage.load() if isinstance(self.storage, StorageBytes) else self.storage
        if isinstance(storage, torch.TypedStorage):
            with warnings.catch_warnings():  # torch deprecates TypedStorage, which legacy files contain
                warnings.simplefilter("ignore")
                dtype, untyped = storage.dtype, storage.untyped()
        elif isinstance(storage, torch.Tensor):
            dtype, untyped = storage.dtype, storage.untyped_storage()
        else:
            raise CheckpointError(f"unexpected tensor storage of type {type(storage).__name__}")
        t = torch.empty(0, dtype=dtype)
        t.set_(untyped, self.offset, torch.Size(self.size), self.stride)
        return t.clone()


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return TensorRecord(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    return data


def _reconstruct_persistent(meta: Any) -> PersistentRecord:
    if not isinstance(meta, dict) or meta.get("type") != "class" or "class_name" not in meta:
        raise CheckpointError("malformed persistent object in the checkpoint")
    return PersistentRecord(str(meta["class_name"]), meta.get("state") or {})


def _numpy_scalar(dtype: np.dtype, data: bytes | None = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise CheckpointError("unsupported numpy scalar in the checkpoint")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _numpy_dtype(obj: Any, align: bool = False, copy: bool = False) -> np.dtype:
    dtype = np.dtype(obj, align, copy)
    if dtype.hasobject:
        raise CheckpointError("numpy object arrays are not allowed in a checkpoint")
    return dtype


class EasyDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict``: a plain dict."""


_SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("dnnlib", "EasyDict"): EasyDict,
    ("numpy", "dtype"): _numpy_dtype,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): StorageBytes,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent,
}

# Classes whose instances are recorded, never created: EG3D's own modules and torch's standard layers.
_RECORDED_MODULE_PREFIXES = ("training.", "torch.nn.modules.", "torch_utils.ops.")


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        if module.startswith(_RECORDED_MODULE_PREFIXES) and name.isidentifier() and name[:1].isupper():
            return _record_class(f"{module}.{name}")
        raise CheckpointError(f"refusing to load: the checkpoint references {module}.{name}, which is not part "
                              "of an EG3D network (a pickle can run code; this one is not trusted)")

    def persistent_load(self, pid: Any) -> Any:
        raise CheckpointError("refusing to load: unexpected persistent id (not an EG3D .pkl?)")


def read_nvidia_pickle(path: str | Path) -> Any:
    """Unpickle an EG3D checkpoint into inert records (see module docstring). Raises ``CheckpointError``."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return _RestrictedUnpickler(f).load()
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint not found: {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path} is a folder, not a .pkl file") from None
    except EOFError:
        raise CheckpointError(f"{path}: the file ends early (truncated download?)") from None
    except (pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            UnicodeDecodeError, MemoryError, OverflowError) as exc:
        raise CheckpointError(f"{path}: not a readable EG3D pickle ({type(exc).__name__}: {exc})") from None


def module_state_dict(record: PersistentRecord | ObjectRecord, prefix: str = "") -> dict[str, torch.Tensor]:
    """The ``state_dict()`` a recorded ``torch.nn.Module`` would have: parameters and persistent buffers,
    recursively through ``_modules``, materialized as tensors."""
    state = record.state if isinstance(record.state, dict) else {}
    skip = set(state.get("_non_persistent_buffers_set") or ())
    out: dict[str, torch.Tensor] = {}
    for kind in ("_parameters", "_buffers"):
        for name, value in (state.get(kind) or {}).items():
            if value is None or (kind == "_buffers" and name in skip):
                continue
            if not isinstance(value, TensorRecord):
                raise CheckpointError(f"{prefix}{name} is not a tensor")
            out[prefix + name] = value.materialize()
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            out.update(module_state_dict(child, f"{prefix}{name}."))
    return out


def generator_record(obj: Any, path: str | Path) -> PersistentRecord:
    """Pick ``G_ema`` out of an unpickled checkpoint and check that it is EG3D's ``TriPlaneGenerator``."""
    if not isinstance(obj, dict) or "G_ema" not in obj:
        keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(f"{path}: no 'G_ema' network in the checkpoint (found {keys})")
    g = obj["G_ema"]
    if not isinstance(g, PersistentRecord):
        raise CheckpointError(f"{path}: 'G_ema' is not an EG3D network")
    if g.class_name != "TriPlaneGenerator":
        raise CheckpointError(f"{path}: 'G_ema' is a {g.class_name}; only EG3D's TriPlaneGenerator is supported")
    return g
