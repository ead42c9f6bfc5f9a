"""Atomic outputs (a file or folder appears under its final name only once it is complete) and the user cache."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _ordinary_mode(path: Path) -> None:
    """mkstemp/mkdtemp create 0600/0700; give results the permissions a plain open() would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _ordinary_mode(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        for p in [tmp, *tmp.rglob("*")]:
            _ordinary_mode(p)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def cache_dir() -> Path:
    """Where invert3d keeps what it derives once per machine (LPIPS weights, checkpoint digests):
    ``$INVERT3D_CACHE``, else ``~/.cache/invert3d``."""
    return Path(os.environ.get("INVERT3D_CACHE", Path.home() / ".cache" / "invert3d"))
