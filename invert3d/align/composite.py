"""Renders pasted back into the original photo, through the inverse of the crop's transform.

The paste covers what the generator drew (its accumulated opacity, at the input view and at the rendered view,
so a turned head leaves no ghost of the photo's), shrunk a little and feathered (so no rim of the render's
background shows), and fades out toward the crop's edges. For a generator that draws its own background
(EG3D's FFHQ models), that is the whole crop.
"""

from __future__ import annotations

import cv2
import numpy as np

from invert3d.align.crop import covered_window

SHRINK = 0.02  # the opacity mask is eroded by this fraction of the crop's side ...
FEATHER = 0.04  # ... and blurred (and the crop's edges faded) over this fraction


def rescaled(transform: np.ndarray, size_from: int, size_to: int) -> np.ndarray:
    """A photo -> crop transform for a crop of ``size_from`` px, for the same crop at ``size_to`` px."""
    k = size_to / size_from
    return np.concatenate([transform[:, :2] * k, (transform[:, 2:] + 0.5) * k - 0.5], axis=1)


def paste_mask(opacities: list[np.ndarray], size: int) -> np.ndarray:
    """[size, size] float mask in [0, 1] from opacity maps [h, w] (any resolution, 0..1) of the views that
    should cover the photo."""
    union = np.max([cv2.resize(o.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
                    for o in opacities], axis=0)
    shrink = max(1, round(SHRINK * size))
    inner = cv2.erode((union > 0.5).astype(np.float32), np.ones((2 * shrink + 1, 2 * shrink + 1), np.uint8))
    soft = cv2.GaussianBlur(inner, (0, 0), max(0.5, FEATHER * size / 2))
    to_edge = np.minimum(np.arange(size) + 0.5, size - 0.5 - np.arange(size))  # px to the nearer edge
    edge = np.minimum(to_edge[:, None], to_edge[None, :])
    return np.clip(soft, 0, 1) * np.clip(edge / (FEATHER * size), 0, 1)


def paste_back(photo: np.ndarray, render: np.ndarray, mask: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """``photo`` [H, W, 3] uint8 with ``render`` [S, S, 3] uint8 blended in under ``mask`` [S, S]; ``transform``
    maps photo px to the px of the S² crop. Only the window the crop covers is touched."""
    x0, y0, x1, y1 = covered_window(transform, render.shape[0], photo.shape[:2], margin=2)
    out = photo.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    to_window = transform @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], float)  # window px -> crop px
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    colour = cv2.warpAffine(render, to_window, (x1 - x0, y1 - y0), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(mask.astype(np.float32), to_window, (x1 - x0, y1 - y0), flags=flags,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)[..., None]
    window = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.clip(window * (1 - alpha) + colour.astype(np.float32) * alpha + 0.5, 0, 255)
    return out
