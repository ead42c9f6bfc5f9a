"""Photos per hour: ``invert3d invert PHOTOS/`` sequential (torch on every core) against ``--ray`` on a local
cluster (one task per core, one thread each), the same photos and settings, each in a fresh process; and whether
the two give the same bytes. Prints one JSON line.

    python bench/cluster_throughput.py [--photos 4] [--preset fast] [--work DIR] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import emit

DATA_FILES = ("latent.safetensors", "generator/weights.safetensors", "reconstruction.png")


def _invert(photos: Path, out: Path, preset: str, *extra: str, env: dict | None = None) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "invert3d", "invert", str(photos), "--out", str(out), "--preset", preset,
                    "-q", *extra], check=True, env={**os.environ, **(env or {})}, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cluster_bench."))
    photos = work / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for seed in range(1, args.photos + 1):
        subject = work / f"s{seed}"
        subprocess.run([sys.executable, "-m", "invert3d", "synth", "--seed", str(seed), "--decal-kind", "tattoo", "--out",
                        str(subject), "-q"], check=True, capture_output=True)
        shutil.copyfile(subject / "input.png", photos / f"p{seed}.png")
        shutil.copyfile(subject / "input_camera.json", photos / f"p{seed}_camera.json")
    cores = os.cpu_count()
    for name in ("sequential", "ray", "sequential_1_thread"):
        shutil.rmtree(work / name, ignore_errors=True)
    seconds = {"sequential": _invert(photos, work / "sequential", args.preset),
               "ray": _invert(photos, work / "ray", args.preset, "--ray")}
    seconds["sequential_1_thread"] = _invert(photos, work / "sequential_1_thread", args.preset,
                                             env={"OMP_NUM_THREADS": "1"})
    same = all((work / "ray" / f"p{s}" / f).read_bytes() == (work / "sequential_1_thread" / f"p{s}" / f).read_bytes()
               for s in range(1, args.photos + 1) for f in DATA_FILES)
    emit({"bench": "cluster_throughput", "cores": cores, "photos": args.photos, "preset": args.preset,
          "seconds": {k: round(v, 1) for k, v in seconds.items()},
          "photos_per_hour": {k: round(3600 * args.photos / v, 1) for k, v in seconds.items()},
          "ray_same_bytes_as_sequential_at_1_thread": same}, args.out)


if __name__ == "__main__":
    main()
