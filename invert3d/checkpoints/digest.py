"""Which weights a result was made with: a SHA-256 of the checkpoint's files, cached per file.

A result folder records the digest, so a checkpoint whose weights change under the same path is another run. The
cache (``digests.json`` in the user cache) maps a file's path, inode, size and modification and change times to
its digest (a copy that keeps the mtime still changes the ctime), so a multi-GB pickle is hashed once, not on
every run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from invert3d.checkpoints.native import CONFIG_NAME, WEIGHTS_NAME
from invert3d.files import atomic_file, cache_dir

CACHE_FILE = "digests.json"
CHUNK = 1 << 22


def _file_key(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ctime_ns}"


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file, from the cache when its path, size and mtime are unchanged."""
    cache_path = cache_dir() / CACHE_FILE
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    if not isinstance(cache, dict):
        cache = {}
    key = _file_key(path)
    known = cache.get(key)
    if isinstance(known, str) and len(known) == 64:
        return known
    digest = _hash_file(path)
    cache[key] = digest
    try:
        with atomic_file(cache_path) as tmp:
            tmp.write_text(json.dumps(cache, indent=0))
    except OSError:
        pass  # an unwritable cache costs time, not correctness
    return digest


def checkpoint_digest(path: Path) -> str:
    """SHA-256 (hex) of a checkpoint: an EG3D ``.pkl`` file, or an invert3d folder (its weights and its
    architecture; the config's other notes, such as who tuned it, do not count)."""
    if path.is_dir():
        architecture = json.loads((path / CONFIG_NAME).read_text()).get("generator")
        h = hashlib.sha256(file_digest(path / WEIGHTS_NAME).encode())
        h.update(json.dumps(architecture, sort_keys=True).encode())
        return h.hexdigest()
    return file_digest(path)
