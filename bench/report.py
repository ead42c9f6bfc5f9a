"""Shared output of the benchmarks: one JSON line on stdout, and the same line in a file when asked; the CPU's
name for their records."""

from __future__ import annotations

import json
import platform
from pathlib import Path


def emit(result: dict, out: Path | None) -> None:
    line = json.dumps(result)
    print(line)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(line + "\n")


def cpu_name() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()
