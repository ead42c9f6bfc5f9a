"""One photo in, EG3D's input out: the face's crop, its camera label, and the record of how they were made."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from invert3d.align.crop import apply, crop_transform, scale_of, warp_crop
from invert3d.align.detect import Face, detect_faces
from invert3d.align.landmarks import eye_line_angle, face_landmarks
from invert3d.align.pose import camera_label, head_rotation
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.media import save_png


class NoFaceError(Invert3dError):
    """A photo with no face (or not the one asked for)."""


@dataclass(frozen=True)
class Alignment:
    """crop: [size, size, 3] uint8; label: [25] camera; transform: [2, 3] photo px -> crop px; face: the
    detection in the photo; landmarks: [468, 3] in crop px; faces: how many faces the photo holds."""

    crop: np.ndarray
    label: torch.Tensor
    transform: np.ndarray
    face: Face
    landmarks: np.ndarray
    faces: int
    photo_size: tuple[int, int]  # (width, height) px

    def record(self) -> dict:
        """What ``<stem>.align.json`` holds: enough to paste a render back into the photo."""
        r = lambda a: np.round(np.asarray(a, float), 3).tolist()  # noqa: E731
        return {
            "photo_size": list(self.photo_size),
            "crop_size": self.crop.shape[0],
            "transform": np.asarray(self.transform, float).tolist(),
            "face_box": r(self.face.box),
            "face_score": round(self.face.score, 4),
            "five_points": r(self.face.points),
            "faces_in_photo": self.faces,
            "landmarks_in_crop": r(self.landmarks[:, :2]),
        }


def align_photo(image: np.ndarray, size: int = 512, face: int = 0, level: bool = True) -> Alignment:
    """Crop and camera of face number ``face`` (0: the largest) of an [H, W, 3] uint8 RGB photo.

    ``level`` turns the crop so the eyes are level (FFHQ's alignment; EG3D's own crop keeps the roll). Raises
    ``NoFaceError`` when the photo holds no such face.
    """
    faces = detect_faces(image)
    if not faces:
        raise NoFaceError("no face found (MTCNN, confidence >= 0.9)")
    if face >= len(faces):
        raise NoFaceError(f"face {face} asked for, but the photo holds {len(faces)} (numbered from 0, largest first)")
    chosen = faces[face]
    marks = face_landmarks(image, chosen)[0]
    roll = eye_line_angle(marks) if level else 0.0
    transform = crop_transform(chosen.points, image.shape[0], size, roll=roll)
    crop = warp_crop(image, transform, size)
    in_crop = np.concatenate([apply(transform, marks[:, :2]), marks[:, 2:] * scale_of(transform)], axis=1)
    return Alignment(crop=crop, label=camera_label(head_rotation(in_crop)), transform=transform, face=chosen,
                     landmarks=in_crop, faces=len(faces), photo_size=(image.shape[1], image.shape[0]))


def write_alignment(alignment: Alignment, folder: Path, stem: str, record_name: str | None = None
                    ) -> dict[str, Path]:
    """``folder/<stem>.png`` (the crop), ``<stem>.json`` (its camera, read by ``invert3d invert``) and
    ``<stem>.align.json`` (or ``record_name``); each appears only complete."""
    paths = {"crop": folder / f"{stem}.png", "camera": folder / f"{stem}.json",
             "record": folder / (record_name or f"{stem}.align.json")}
    save_png(paths["crop"], alignment.crop)
    for key, payload in (("camera", {"camera": alignment.label.tolist()}), ("record", alignment.record())):
        with atomic_file(paths[key]) as tmp:
            tmp.write_text(json.dumps(payload, indent=1) + "\n")
    return paths
