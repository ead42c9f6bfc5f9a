"""Real photos in: face detection, EG3D's crop and the camera pose, offline (``invert3d align``)."""

from invert3d.align.photo import Alignment, NoFaceError, align_photo, write_alignment

__all__ = ["Alignment", "NoFaceError", "align_photo", "write_alignment"]
