"""EG3D's crop of an in-the-wild photo, as one affine warp.

EG3D's FFHQ preprocessing (Deep3DFaceRecon's ``align_img`` with its own constants) fits the five landmarks to
the BFM mean face's five points by an orthographic least-squares fit (translation t, scale s), resizes the photo
by 300 / s, cuts a 1024² window centred on t and resizes its central 700² to the output size. Net: a square of
side 7/3 s input pixels centred on t (here moved by ``FFHQ_CENTRE_SHIFT`` to where the FFHQ crops sit). Here that is one warp of the photo (no full-size resize, whatever its
size), optionally turned about the crop's centre so the eye line is level, as FFHQ's own alignment does.
"""

from __future__ import annotations

import cv2
import numpy as np

# The BFM mean face's five landmarks (Deep3DFaceRecon's standard ones: eye centres, nose tip, mouth corners,
# image-left first), BFM units, x right, y up, z toward a frontal camera.
BFM_POINTS = np.array([
    [-0.31148657, 0.29036078, 0.13377953],
    [0.30979887, 0.28972036, 0.13179526],
    [0.0032535, -0.04617932, 0.55244243],
    [-0.25216928, -0.38133916, 0.22405732],
    [0.2484662, -0.38128236, 0.22235769],
])
RESCALE = 300.0  # EG3D: the photo is resized by RESCALE / s ...
CENTRE_CROP = 700.0  # ... and the central 700² of the window around t becomes the output
# Where the crops EG3D's FFHQ model was trained on sit against this fit of MTCNN's points: their centre is
# (-0.018 s, -0.004 s) from t (image axes of an upright face, y down; s as below), i.e. 3.5 / 4.5 px left and
# 1.2 / 0.5 px up in the two labelled 512² crops of ../shared/fixtures/photos (one frontal, one turned 26°).
# Fitted on one crop, the other lands within 1 px. (An earlier copy of those fixtures sat 8 px further up and
# left and gave (-0.054 s, -0.039 s); the crops there now are the reference.) It turns with a levelled crop, so
# a turned photo gives the upright photo's crop: on scikit-image's astronaut turned by 15 / -20 degrees the
# levelled crop lands 0.8 / 0.7 px (mean, of 256) from the upright photo's, against 1.0 / 1.1 px with the shift
# kept in the photo's axes.
FFHQ_CENTRE_SHIFT = np.array([-0.0180, -0.0037])


def fit_scale_translation(points: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    """EG3D's fit of five landmarks [5, 2] (x, y px, y down) to ``BFM_POINTS``: (t [2], s).

    As in Deep3DFaceRecon: y is flipped (height - 1 - y), an affine camera is solved by least squares and s is
    the mean norm of its two rows; t is where the BFM origin lands, in the flipped coordinates.
    """
    xy = np.stack([points[:, 0], height - 1 - points[:, 1]], axis=1)
    design = np.concatenate([BFM_POINTS, np.ones((5, 1))], axis=1)  # [5, 4]
    rows, *_ = np.linalg.lstsq(design, xy, rcond=None)  # [4, 2]: the affine camera's two rows and offsets
    s = float(np.linalg.norm(rows[:3, 0]) + np.linalg.norm(rows[:3, 1])) / 2
    return rows[3].copy(), s


def crop_transform(points: np.ndarray, height: int, size: int, roll: float = 0.0) -> np.ndarray:
    """2x3 affine from photo pixels to the pixels of EG3D's ``size``² crop (pixel centres at integers).

    points: [5, 2] landmarks (``Face.points``); height: the photo's height (px); roll: the crop is turned by
    this angle (rad, clockwise in the image, e.g. the eye line's slope) about its centre.
    """
    t, s = fit_scale_translation(points, height)
    scale = RESCALE * size / (CENTRE_CROP * s)  # output px per input px
    centre = np.array([t[0] - 0.5, height - t[1] - 0.5])  # EG3D's window centre in pixel-centre coordinates
    c, si = np.cos(roll), np.sin(roll)
    centre = centre + np.array([[c, -si], [si, c]]) @ FFHQ_CENTRE_SHIFT * s  # the shift turns with the crop
    linear = scale * np.array([[c, si], [-si, c]])
    offset = (size - 1) / 2 - linear @ centre
    return np.concatenate([linear, offset[:, None]], axis=1)


def warp_crop(image: np.ndarray, transform: np.ndarray, size: int) -> np.ndarray:
    """The ``size``² crop of an [H, W, 3] uint8 photo under ``transform`` (Lanczos).

    Only the window the crop covers is read; when it shrinks more than 2x, that window is area-averaged first
    so Lanczos does not alias. Outside the photo its edge pixels are repeated (EG3D's crop is black there).
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = covered_window(transform, size, (h, w), margin=4)
    x0, y0 = min(x0, w - 1), min(y0, h - 1)  # never empty: a crop wholly outside repeats the nearest edge
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    window = image[y0:y1, x0:x1]
    to_window = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], float)  # window px -> photo px
    scale = scale_of(transform)
    if scale < 0.5:
        factor = 2 * scale
        shrunk = (max(1, round(window.shape[1] * factor)), max(1, round(window.shape[0] * factor)))
        fx, fy = shrunk[0] / window.shape[1], shrunk[1] / window.shape[0]
        window = cv2.resize(window, shrunk, interpolation=cv2.INTER_AREA)
        to_window = to_window @ np.array([[1 / fx, 0, 0.5 / fx - 0.5], [0, 1 / fy, 0.5 / fy - 0.5], [0, 0, 1]])
    matrix = transform @ to_window
    return cv2.warpAffine(window, matrix, (size, size), flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REPLICATE)


def covered_window(transform: np.ndarray, size: int, shape: tuple[int, int], margin: int
                   ) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the photo pixels (of a photo of ``shape`` (h, w)) that the ``size``² crop under
    ``transform`` covers, ``margin`` px wider, clipped to the photo (possibly empty)."""
    back = cv2.invertAffineTransform(transform)
    corners = apply(back, np.array([[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]], float))
    h, w = shape
    x0, y0 = np.clip(np.floor(corners.min(0)).astype(int) - margin, 0, [w, h])
    x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + margin + 1, 0, [w, h])
    return int(x0), int(y0), int(x1), int(y1)


def scale_of(transform: np.ndarray) -> float:
    """The isotropic scale of a 2x3 similarity (output px per input px)."""
    return float(np.sqrt(abs(np.linalg.det(transform[:, :2]))))


def apply(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points [N, 2] through a 2x3 affine."""
    return points @ transform[:, :2].T + transform[:, 2]
