"""The 25-float camera label of EG3D (``dataset.json``): 16 cam2world values row-major, then 9 intrinsics.

Reading labels from ``.json`` (a bare list of 25 numbers, ``{"camera": [...]}``, or an EG3D ``dataset.json``
``{"labels": [[file, [25 floats]], ...]}``) and ``.npy``, with validation that rejects malformed cameras.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from invert3d.cameras.pose import FFHQ_PIVOT, FFHQ_RADIUS, fov_to_intrinsics, look_at_pose, orbit_angles
from invert3d.errors import CameraError

LABEL_SIZE = 25


def make_label(cam2world: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """cam2world [..., 4, 4] and intrinsics [3, 3] or [..., 3, 3] -> labels [..., 25] (float32)."""
    batch = cam2world.shape[:-2]
    intrinsics = intrinsics.expand(*batch, 3, 3)
    return torch.cat([cam2world.reshape(*batch, 16), intrinsics.reshape(*batch, 9)], dim=-1).float()


def split_label(label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """labels [..., 25] -> (cam2world [..., 4, 4], intrinsics [..., 3, 3])."""
    return label[..., :16].reshape(*label.shape[:-1], 4, 4), label[..., 16:].reshape(*label.shape[:-1], 3, 3)


def pose_label(yaw: float | Sequence[float] | torch.Tensor, pitch: float | Sequence[float] | torch.Tensor,
               radius: float = FFHQ_RADIUS, pivot: Sequence[float] = FFHQ_PIVOT,
               intrinsics: torch.Tensor | None = None) -> torch.Tensor:
    """Labels [25] (or [N, 25]) of look-at cameras; intrinsics default to EG3D's 18.837 deg."""
    k = fov_to_intrinsics() if intrinsics is None else intrinsics
    return make_label(look_at_pose(yaw, pitch, radius, pivot), k)


def grid_labels(yaws: Sequence[float] | torch.Tensor, pitches: Sequence[float] | torch.Tensor,
                radius: float = FFHQ_RADIUS, pivot: Sequence[float] = FFHQ_PIVOT,
                intrinsics: torch.Tensor | None = None) -> torch.Tensor:
    """Labels [P * Y, 25] of a pitch x yaw grid of look-at cameras: rows = pitch, columns = yaw."""
    yaw, pitch = torch.meshgrid(torch.as_tensor(yaws, dtype=torch.float32),
                                torch.as_tensor(pitches, dtype=torch.float32), indexing="xy")
    return pose_label(yaw.reshape(-1), pitch.reshape(-1), radius, pivot, intrinsics)


def orbit_labels(frames: int, radius: float = FFHQ_RADIUS, pivot: Sequence[float] = FFHQ_PIVOT,
                 yaw_range: float = 0.35, pitch_range: float = 0.25, intrinsics: torch.Tensor | None = None
                 ) -> torch.Tensor:
    """Labels [frames, 25] along EG3D's video orbit around ``pivot``."""
    yaw, pitch = orbit_angles(frames, yaw_range, pitch_range)
    return pose_label(yaw, pitch, radius, pivot, intrinsics)


def validate_label(values: object, source: str = "camera") -> torch.Tensor:
    """Check a camera label and return it as float32 [25]; raise ``CameraError`` saying what is wrong."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise CameraError(f"{source}: a camera label must be 25 numbers") from None
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1 or arr.size != LABEL_SIZE:
        raise CameraError(f"{source}: a camera label has 25 numbers (16 cam2world + 9 intrinsics), got shape "
                          f"{list(np.shape(values))}")
    if not np.all(np.isfinite(arr)):
        raise CameraError(f"{source}: the camera label contains NaN or infinity")
    pose = arr[:16].reshape(4, 4)
    k = arr[16:].reshape(3, 3)
    rot = pose[:3, :3]
    if not np.allclose(pose[3], [0, 0, 0, 1], atol=1e-4):
        raise CameraError(f"{source}: the last row of cam2world must be [0, 0, 0, 1], got {pose[3].tolist()}")
    if not np.allclose(rot.T @ rot, np.eye(3), atol=1e-3) or np.linalg.det(rot) < 0:
        raise CameraError(f"{source}: the cam2world rotation is not orthonormal (a proper rotation is required)")
    if k[0, 0] <= 0 or k[1, 1] <= 0 or not np.allclose(k[2], [0, 0, 1], atol=1e-6) or abs(k[1, 0]) > 1e-6:
        raise CameraError(f"{source}: intrinsics must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0")
    if k[0, 0] > 100:
        raise CameraError(f"{source}: intrinsics look unnormalized (fx = {k[0, 0]:g}); EG3D divides them by the "
                          "image size (fx about 4.26 for FFHQ)")
    return torch.from_numpy(arr.astype(np.float32))


def _from_json(data: object, path: Path, image_name: str | None) -> object:
    if isinstance(data, dict) and "labels" in data:
        labels = data["labels"]
        if not isinstance(labels, list) or not all(isinstance(e, list) and len(e) == 2 for e in labels):
            raise CameraError(f"{path}: 'labels' must be a list of [file name, [25 numbers]] entries")
        if image_name is None:
            if len(labels) != 1:
                raise CameraError(f"{path} holds {len(labels)} cameras: say which image the camera is for")
            return labels[0][1]
        wanted = Path(image_name).name
        for name, values in labels:
            if Path(str(name)).name == wanted or Path(str(name)).stem == Path(wanted).stem:
                return values
        raise CameraError(f"{path} has no entry for {wanted!r}")
    if isinstance(data, dict) and "camera" in data:
        return data["camera"]
    return data


def load_label(path: str | Path, image_name: str | None = None) -> torch.Tensor:
    """Read a camera label [25] from ``.json`` or ``.npy``; ``image_name`` picks an entry of a dataset.json."""
    path = Path(path)
    if not path.is_file():
        raise CameraError(f"camera file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            values = np.load(path, allow_pickle=False)
        elif suffix == ".json":
            values = _from_json(json.loads(path.read_text()), path, image_name)
        else:
            raise CameraError(f"{path}: camera files are .json or .npy")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise CameraError(f"{path}: cannot read a camera label ({exc})") from None
    return validate_label(values, str(path))


def save_labels(path: str | Path, entries: Sequence[tuple[str, torch.Tensor]]) -> None:
    """Write an EG3D-style ``{"labels": [[file, [25 floats]], ...]}`` file."""
    data = {"labels": [[name, [float(v) for v in label.reshape(-1)]] for name, label in entries]}
    Path(path).write_text(json.dumps(data, indent=1))


def load_labels(path: str | Path) -> list[tuple[str, torch.Tensor]]:
    """Every (file name, label [25]) entry of an EG3D-style ``{"labels": [[file, [25 floats]], ...]}`` file."""
    path = Path(path)
    if not path.is_file():
        raise CameraError(f"cameras file not found: {path}")
    try:
        data = json.loads(path.read_text())
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise CameraError(f"{path}: not a JSON cameras file ({exc})") from None
    labels = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(labels, list) or not labels or not all(isinstance(e, list) and len(e) == 2 for e in labels):
        raise CameraError(f"{path}: expected {{\"labels\": [[file name, [25 numbers]], ...]}} with at least one entry")
    entries = []
    for name, values in labels:
        name = Path(str(name)).name
        if not name or name in (".", ".."):
            raise CameraError(f"{path}: bad file name {name!r} in 'labels'")
        entries.append((name, validate_label(values, f"{path} entry {name!r}")))
    return entries
