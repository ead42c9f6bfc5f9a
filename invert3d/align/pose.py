"""Head pose from 3D landmarks, and EG3D's camera label for it.

EG3D's world is the frame of Deep3DFaceRecon's BFM face: x to the image's right, y up, z toward a frontal
camera, the head at the origin. The face mesh's eye centres and nose tip, flipped into that handedness
(x, -y, -z), are fitted to the BFM mean face's by a similarity (Umeyama); its rotation A takes the world into
the view. The camera then sits at A^T (0, 0, 2.7), looking at the origin, and its cam2world rotation is
A^T diag(1, -1, -1) (OpenCV axes: x right, y down, z forward), roll included.

The mouth corners are left out of the fit: they move with expression (a smile raises them, and a fit that uses
them tips the head forward: 8.4 degrees off the label of the smiling fixture photo, 1.4 without them).
"""

from __future__ import annotations

import numpy as np
import torch

from invert3d.align.crop import BFM_POINTS
from invert3d.align.landmarks import EYE_LEFT, EYE_RIGHT, MOUTH, NOSE_TIP
from invert3d.cameras.label import make_label
from invert3d.cameras.pose import FFHQ_RADIUS

RIGID = (0, 1, 2)  # the BFM points the fit uses: both eye centres and the nose tip
OPENCV_AXES = np.diag([1.0, -1.0, -1.0])
DATASET_FOCAL = 2985.29 / 700  # normalized focal length of EG3D's FFHQ dataset labels (4.2647)


def similarity(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Umeyama's least-squares (s, R, t) with target ≈ s R source + t; source, target [N, 3]."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    a, b = source - mu_s, target - mu_t
    u, sv, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ d @ vt
    scale = float((sv * np.diag(d)).sum() / (a ** 2).sum())
    return scale, rotation, mu_t - scale * rotation @ mu_s


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """The mesh's counterparts [5, 3] of ``BFM_POINTS`` in y-up, z-toward-viewer axes: eye centres (mean of
    the corners), nose tip, mouth corners."""
    q = landmarks * np.array([1.0, -1.0, -1.0])
    return np.stack([q[list(EYE_LEFT)].mean(0), q[list(EYE_RIGHT)].mean(0), q[NOSE_TIP], q[MOUTH[0]], q[MOUTH[1]]])


def head_rotation(landmarks: np.ndarray) -> np.ndarray:
    """World-to-view rotation [3, 3] (view axes: x right, y up, z toward the viewer) from landmarks [468, 3]."""
    idx = list(RIGID)
    _, rotation, _ = similarity(BFM_POINTS[idx], five_points(landmarks)[idx])
    return rotation


def camera_label(rotation: np.ndarray, radius: float = FFHQ_RADIUS) -> torch.Tensor:
    """EG3D's 25-float label [25] of the camera that sees the head under ``rotation`` (``head_rotation``)."""
    cam2world = np.eye(4)
    cam2world[:3, :3] = rotation.T @ OPENCV_AXES
    cam2world[:3, 3] = rotation.T @ np.array([0.0, 0.0, radius])
    intrinsics = torch.tensor([[DATASET_FOCAL, 0.0, 0.5], [0.0, DATASET_FOCAL, 0.5], [0.0, 0.0, 1.0]])
    return make_label(torch.from_numpy(cam2world).float(), intrinsics)


def rotation_error_deg(cam2world_a: np.ndarray, cam2world_b: np.ndarray) -> float:
    """Angle (degrees) of the rotation between two cameras' [3, 3] (or [4, 4]) orientations."""
    a, b = np.asarray(cam2world_a)[:3, :3], np.asarray(cam2world_b)[:3, :3]
    cos = (np.trace(a.T @ b) - 1) / 2
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
