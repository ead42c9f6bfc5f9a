"""Quality during the final optimization: the texture-geometry trade-off of the paper's Figures 2 and 7.

A ``QualityCurve`` observes ``tune`` and, every N steps, renders the input view and the true novel views of a
synthetic subject and scores them; each call appends one JSON line to ``curve.jsonl`` in the run folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from invert3d.cameras import load_labels
from invert3d.media import from_uint8, load_photo
from invert3d.metrics import image_scores
from invert3d.scene import Scene

CURVE_FILE = "curve.jsonl"


class QualityCurve:
    """Snapshot for ``tune``: input-view PSNR and novel-view PSNR / LPIPS (AlexNet) vs. the truth every ``every``
    steps. photo [1, 3, H, W] in [-1, 1] at camera [25]; ``truth_dir`` as ``invert3d synth`` writes it."""

    def __init__(self, path: Path, photo: torch.Tensor, camera: torch.Tensor, truth_dir: Path, every: int):
        self.path, self.every = path, every
        entries = load_labels(truth_dir / "cameras.json")
        size = photo.shape[-1]
        self.labels = torch.stack([camera.reshape(-1).cpu(), *(label for _, label in entries)])
        self.truth = torch.cat([photo.cpu(), *(load_photo(truth_dir / name, size) for name, _ in entries)])

    def __call__(self, step: int, scene: Scene) -> None:
        started = time.monotonic()
        renders = torch.cat([from_uint8(image) for image in scene.views(self.labels)])
        scores = image_scores(renders, self.truth, ("psnr", "lpips_alex"))
        p, lp = scores["psnr"], scores["lpips_alex"]
        record = {"step": step, "input_psnr": round(float(p[0]), 3), "novel_psnr": round(float(p[1:].mean()), 3),
                  "input_lpips_alex": round(float(lp[0]), 4), "novel_lpips_alex": round(float(lp[1:].mean()), 4),
                  "seconds": round(time.monotonic() - started, 2)}
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


def read_curve(path: Path) -> list[dict]:
    """The records of a curve.jsonl by step (a resumed run may have logged a step twice: the last one wins)."""
    if not path.is_file():
        return []
    records = {}
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            records[record["step"]] = record
    return [records[k] for k in sorted(records)]
