"""Identity of face photos: dlib's face-recognition ResNet (128-D descriptors, CC0 weights shipped by the PyPI
package ``face-recognition-models``; run through ``dlib-bin``).

``IdentityModel().distance(a, b)`` is the Euclidean distance of two faces' descriptors: dlib's own threshold for
"the same person" is 0.6 (99.38 % on LFW). Both packages are optional; ``identity_model()`` raises
``IdentityUnavailable`` with the reason when they cannot load, and callers skip the score with a notice.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SAME_PERSON = 0.6  # dlib's decision threshold on the descriptor distance


class IdentityUnavailable(RuntimeError):
    pass


def _models_dir() -> Path:
    # The package's own __init__ imports pkg_resources (gone from recent setuptools): find its files without it.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise IdentityUnavailable("face-recognition-models is not installed (pip install face-recognition-models)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class IdentityModel:
    """Face descriptors of uint8 RGB images [H, W, 3], for the largest face dlib's HOG detector finds."""

    def __init__(self):
        try:
            import dlib
        except ImportError:
            raise IdentityUnavailable("dlib is not installed (pip install dlib-bin)") from None
        models = _models_dir()
        try:
            self._detector = dlib.get_frontal_face_detector()
            self._landmarks = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
            self._net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
        except RuntimeError as exc:
            raise IdentityUnavailable(f"could not load dlib's face models from {models}: {exc}") from None

    def descriptor(self, image: np.ndarray) -> np.ndarray | None:
        """uint8 [H, W, 3] -> [128] float descriptor of its largest face, or None when no face is found (the
        image is searched once more at twice the size before giving up)."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        faces = self._detector(image, 1) or self._detector(image, 2)
        if not faces:
            return None
        box = max(faces, key=lambda r: r.width() * r.height())
        shape = self._landmarks(image, box)
        return np.asarray(self._net.compute_face_descriptor(image, shape), dtype=np.float64)

    def distance(self, a: np.ndarray, b: np.ndarray) -> float | None:
        """Descriptor distance of two uint8 [H, W, 3] face images (< 0.6: the same person, by dlib's threshold);
        None when either image shows no face."""
        da, db = self.descriptor(a), self.descriptor(b)
        return None if da is None or db is None else float(np.linalg.norm(da - db))


_model: IdentityModel | None = None


def identity_model() -> IdentityModel:
    """The process's shared IdentityModel (loaded once); raises IdentityUnavailable."""
    global _model
    if _model is None:
        _model = IdentityModel()
    return _model
