"""Accuracy and speed of ``invert3d align``: camera and crop against labelled crops, the same after pasting them
rescaled and shifted into larger canvases, and seconds and memory per photo up to 12 MP.

Labelled crops: ``../shared/fixtures/photos`` (EG3D 512² crops with their Deep3DFaceRecon camera labels). For
each: the rotation error of our camera against the label (the crop taken as it is: roll kept), and how far our
crop of it is from the crop itself (its centre in px of a 512² crop, its scale). Then each crop is pasted, at
several scales and offsets, into a grey canvas: the rotation error against the label again, and how far the
crop of the canvas lands from the crop of the original (the largest displacement of a 3x3 grid of crop points,
px of a 512² crop, and the scale ratio); the same on held-out canvases, with scikit-image's astronaut as a third
face. Speed: a 12 MP canvas with a large face, in a fresh process each
(median of --repeats), with the process's peak memory, and its peak before the timed alignment (the decoded
photo, the models and torch loaded).

    python bench/align_accuracy.py [--photos ../shared/fixtures/photos] [--out bench/results/align_accuracy.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from report import cpu_name, emit

from invert3d.align import align_photo
from invert3d.align.photo import NoFaceError
from invert3d.align.crop import apply, scale_of
from invert3d.align.pose import rotation_error_deg
from invert3d.media import read_rgb

SIZE = 512
CANVASES = [  # (canvas w, h), scale of the crop, top-left corner
    ((1200, 900), 0.5, (150, 300)),
    ((1600, 1200), 1.0, (900, 100)),
    ((1600, 1200), 1.7, (500, 180)),
    ((4000, 3000), 3.0, (1800, 900)),
    ((3000, 4000), 0.35, (200, 3200)),
]
HELD_OUT_CANVASES = [  # not used to choose any constant of the alignment
    ((1400, 1000), 0.42, (700, 420)),
    ((2000, 1500), 0.75, (100, 700)),
    ((2400, 1800), 1.3, (1500, 300)),
    ((3000, 2400), 2.2, (300, 200)),
    ((5000, 3500), 0.6, (4000, 2800)),
]
GRID = np.array([[x, y] for x in (64, 256, 448) for y in (64, 256, 448)], float)


def cam2world(label) -> np.ndarray:
    return np.asarray(label, dtype=np.float64).reshape(-1)[:16].reshape(4, 4)


def yaw_pitch(c2w: np.ndarray) -> tuple[float, float]:
    """Degrees: the camera's azimuth about the y axis and its elevation, from its position."""
    x, y, z = c2w[:3, 3]
    return float(np.degrees(np.arctan2(x, z))), float(np.degrees(np.arctan2(y, np.hypot(x, z))))


def pasted(photo: np.ndarray, size: tuple[int, int], scale: float, at: tuple[int, int]
           ) -> tuple[np.ndarray, np.ndarray]:
    """The canvas, and the [3, 3] map from photo px to canvas px."""
    w, h = size
    canvas = np.full((h, w, 3), 100, np.uint8)
    small = np.asarray(Image.fromarray(photo).resize((round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                                                     Image.LANCZOS))
    canvas[at[1]:at[1] + small.shape[0], at[0]:at[0] + small.shape[1]] = small[:h - at[1], :w - at[0]]
    offset = 0.5 * scale - 0.5
    return canvas, np.array([[scale, 0, offset + at[0]], [0, scale, offset + at[1]], [0, 0, 1]])


def displacement(photo: np.ndarray, direct, size: tuple[int, int], scale: float, at: tuple[int, int]) -> dict:
    """How far the crop of ``photo`` pasted into a canvas lands from ``direct``, its crop as it is."""
    canvas, to_canvas = pasted(photo, size, scale, at)
    other = align_photo(canvas, SIZE, level=False)
    moved = apply(other.transform @ to_canvas, GRID) - apply(direct.transform, GRID)
    return {"canvas": list(size), "scale": scale, "other": other,
            "crop_displacement_px": round(float(np.abs(moved).max()), 2),
            "crop_scale_ratio": round(scale_of(other.transform) * scale / scale_of(direct.transform), 4)}


def held_out(photos: Path) -> dict:
    """Crop reproduction on canvases no constant was chosen on, for the labelled crops and for scikit-image's
    astronaut (a real unaligned portrait, face about 170 px wide): a face too small to find is counted apart."""
    import skimage.data

    subjects = [(png.name, read_rgb(png)) for png in sorted(photos.glob("*.png"))]
    subjects.append(("astronaut", skimage.data.astronaut()))
    rows, missed = [], []
    for name, photo in subjects:
        direct = align_photo(photo, SIZE, level=False)
        for size, scale, at in HELD_OUT_CANVASES:
            try:
                row = displacement(photo, direct, size, scale, at)
            except NoFaceError:
                missed.append({"photo": name, "canvas": list(size), "scale": scale})
                continue
            del row["other"]
            rows.append({"photo": name, **row})
    shifts = [r["crop_displacement_px"] for r in rows]
    ratios = [abs(r["crop_scale_ratio"] - 1) for r in rows]
    return {"canvases": rows, "no_face_found": missed,
            "crop_displacement_px": {"mean": round(statistics.mean(shifts), 2), "max": round(max(shifts), 2)},
            "crop_scale_error": {"mean": round(statistics.mean(ratios), 4), "max": round(max(ratios), 4)}}


def accuracy(photos: Path) -> dict:
    rows, canvas_rows = [], []
    for png in sorted(photos.glob("*.png")):
        photo, label = read_rgb(png), cam2world(np.load(png.with_suffix(".npy")))
        direct = align_photo(photo, SIZE, level=False)
        ours = cam2world(direct.label)
        back = np.linalg.inv(np.vstack([direct.transform, [0, 0, 1]]))[:2]
        centre = apply(back, np.array([[255.5, 255.5]]))[0] - 255.5
        (y0, p0), (y1, p1) = yaw_pitch(label), yaw_pitch(ours)
        rows.append({"photo": png.name, "rotation_error_deg": round(rotation_error_deg(ours, label), 2),
                     "yaw_label_deg": round(y0, 2), "yaw_error_deg": round(y1 - y0, 2),
                     "elevation_label_deg": round(p0, 2), "elevation_error_deg": round(p1 - p0, 2),
                     "crop_centre_offset_px": np.round(centre, 1).tolist(),
                     "crop_scale": round(scale_of(direct.transform), 4)})
        for size, scale, at in CANVASES:
            row = displacement(photo, direct, size, scale, at)
            other = row.pop("other")
            canvas_rows.append({"photo": png.name, **row,
                                "rotation_error_deg": round(rotation_error_deg(cam2world(other.label), label), 2)})
    errors = [r["rotation_error_deg"] for r in rows + canvas_rows]
    shifts = [r["crop_displacement_px"] for r in canvas_rows]
    ratios = [abs(r["crop_scale_ratio"] - 1) for r in canvas_rows]
    return {"labelled_crops": rows, "canvases": canvas_rows,
            "rotation_error_deg": {"mean": round(statistics.mean(errors), 2), "max": round(max(errors), 2)},
            "crop_displacement_px": {"mean": round(statistics.mean(shifts), 2), "max": round(max(shifts), 2)},
            "crop_scale_error": {"mean": round(statistics.mean(ratios), 4), "max": round(max(ratios), 4)}}


CHILD = """
import json, resource, sys, time
from invert3d.align import align_photo
from invert3d.media import read_rgb
photo = read_rgb(sys.argv[1])
align_photo(read_rgb(sys.argv[2]), 512)  # loads the detector and the face mesh
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
align_photo(photo, 512)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak / 1024, "rss_before_mb": before / 1024}))
"""


def speed(photos: Path, repeats: int, tmp: Path) -> dict:
    reference = sorted(photos.glob("*.png"))[0]
    canvas, _ = pasted(read_rgb(reference), (4000, 3000), 3.0, (1800, 900))
    big = tmp / "canvas_12mp.jpg"
    Image.fromarray(canvas).save(big, quality=92)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}

    def child(*args: str) -> dict:
        out = subprocess.run([sys.executable, "-c", CHILD, str(big), *args], capture_output=True, text=True, env=env,
                             check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    runs = [child(str(reference)) for _ in range(repeats)]
    decode = []
    for _ in range(repeats):
        start = time.perf_counter()
        read_rgb(big)
        decode.append(time.perf_counter() - start)
    return {"photo": "4000x3000 JPEG, face about 900 px wide", "seconds_align_median": round(
                statistics.median(r["seconds"] for r in runs), 3),
            "seconds_decode_jpeg_median": round(statistics.median(decode), 3),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
            "peak_rss_before_aligning_mb": round(max(r["rss_before_mb"] for r in runs), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "photos"
    parser.add_argument("--photos", type=Path, default=default, help="labelled crops: NAME.png + NAME.npy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not sorted(args.photos.glob("*.npy")):
        sys.exit(f"error: no labelled crops (NAME.png + NAME.npy) in {args.photos}")
    with tempfile.TemporaryDirectory() as tmp:
        result = {"bench": "align_accuracy", "cpu": cpu_name(),
                  "threads": os.environ.get("OMP_NUM_THREADS", "default"), **accuracy(args.photos),
                  "held_out": held_out(args.photos),
                  "speed_12mp": speed(args.photos, args.repeats, Path(tmp))}
    emit(result, args.out)


if __name__ == "__main__":
    main()
