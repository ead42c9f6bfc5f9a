"""468 3D face landmarks: MediaPipe's Face Mesh model (``models/face_landmark.tflite``) run by ``ai-edge-litert``.

The model sees a 192x192 crop of the face, upright (rotated so the eyes are level) and 1.5x the face's extent,
as MediaPipe crops it. The first crop comes from the detector's five points; it is then redrawn twice from the
landmarks themselves (MediaPipe's tracking step), so the result does not depend on the detector's box.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from invert3d.align.detect import Face
from invert3d.tflite import run

MODEL = Path(__file__).parent / "models" / "face_landmark.tflite"
INPUT_SIDE = 192  # the model's input (px)
CROP_SCALE = 1.5  # crop side / face extent (MediaPipe's)
ROUNDS = 3  # crops: one from the detector, then two from the landmarks

# Mesh indices (MediaPipe's topology): eye corners, nose tip and mouth corners, image-left then image-right.
EYE_LEFT = (33, 133)  # outer, inner corner of the eye on the image's left (the subject's right eye)
EYE_RIGHT = (362, 263)  # inner, outer corner of the eye on the image's right
NOSE_TIP = 1
MOUTH = (61, 291)


def _crop_transform(centre: np.ndarray, side: float, angle: float) -> np.ndarray:
    """2x3 affine from photo pixels to the model's input: the square of ``side`` px about ``centre``, turned
    by ``angle`` (rad, the eye line's slope) so that it comes out level."""
    c, s = np.cos(angle), np.sin(angle)
    scale = INPUT_SIDE / side
    rotation = scale * np.array([[c, s], [-s, c]])
    return np.concatenate([rotation, (INPUT_SIDE / 2 - rotation @ centre)[:, None]], axis=1)


def _crop_from_landmarks(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(centre, side, angle) of MediaPipe's crop around landmarks [468, 2+]."""
    left, right = points[EYE_LEFT[0], :2], points[EYE_RIGHT[1], :2]
    angle = float(np.arctan2(right[1] - left[1], right[0] - left[0]))
    c, s = np.cos(angle), np.sin(angle)
    level = points[:, :2] @ np.array([[c, -s], [s, c]])  # rotated by -angle: the eyes level
    lo, hi = level.min(0), level.max(0)
    centre = np.array([[c, -s], [s, c]]) @ ((lo + hi) / 2)
    return centre, CROP_SCALE * float((hi - lo).max()), angle


def eye_line_angle(points: np.ndarray) -> float:
    """Slope (rad, clockwise in the image) of the line through the eye centres of landmarks [468, 2+]."""
    left, right = points[list(EYE_LEFT), :2].mean(0), points[list(EYE_RIGHT), :2].mean(0)
    return float(np.arctan2(right[1] - left[1], right[0] - left[0]))


def _crop_from_face(face: Face) -> tuple[np.ndarray, float, float]:
    """(centre, side, angle) of a first crop from the detector: its box's centre and size, its eye line."""
    (lx, ly), (rx, ry) = face.points[0], face.points[1]
    return face.box.reshape(2, 2).mean(0), 1.2 * face.size, float(np.arctan2(ry - ly, rx - lx))


def face_landmarks(image: np.ndarray, face: Face) -> tuple[np.ndarray, float]:
    """Landmarks [468, 3] of ``face`` in an [H, W, 3] uint8 RGB photo, and the model's face score (logit).

    x, y are photo pixels; z is depth in the same pixel units, relative to the face, smaller toward the camera.
    """
    crop = _crop_from_face(face)
    for _ in range(ROUNDS):
        forward = _crop_transform(*crop)
        patch = cv2.warpAffine(image, forward, (INPUT_SIDE, INPUT_SIDE), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT)
        outputs = run(MODEL, (patch.astype(np.float32) / 255)[None])
        raw = outputs["conv2d_21"].reshape(468, 3)
        score = float(outputs["conv2d_31"].reshape(-1)[0])
        back = cv2.invertAffineTransform(forward)
        scale = crop[1] / INPUT_SIDE
        points = np.concatenate([raw[:, :2] @ back[:, :2].T + back[:, 2], raw[:, 2:] * scale], axis=1)
        crop = _crop_from_landmarks(points)
    return points, score
