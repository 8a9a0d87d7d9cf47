"""Face descriptors with dlib (optional extra `face`: dlib-bin + face-recognition-models, whose
wheel/sdist ship the model files, so nothing is downloaded at run time).

A descriptor is dlib's 128-dimensional ResNet embedding; two photos of the same person are usually
closer than 0.6 (Euclidean), dlib's published operating point; Tepat defaults to a stricter 0.5
(TEPAT_FACE_THRESHOLD), measured in benchmarks/bench_verification_face.py. Raw images are never
stored.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from tepat.core.errors import TepatError


class FaceUnavailable(TepatError):
    http_status = 501

    def __init__(self) -> None:
        super().__init__(
            "Verifikasi wajah tidak terpasang / face verification is not installed "
            "(pip install 'tepat[face]')",
            code="face_unavailable",
        )


def available() -> bool:
    try:
        import dlib  # noqa: F401
        import face_recognition_models  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _models() -> tuple[Any, Any, Any]:
    if not available():
        raise FaceUnavailable()
    import dlib
    import face_recognition_models as frm

    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
        dlib.face_recognition_model_v1(frm.face_recognition_model_location()),
    )


def descriptor(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any] | None:
    """The descriptor of the largest face in an RGB uint8 image, or None when none is found."""
    detector, predictor, encoder = _models()
    img = np.ascontiguousarray(image[..., :3] if image.ndim == 3 else np.stack([image] * 3, -1))
    img = img.astype(np.uint8)
    faces = detector(img, 1)
    if not faces:
        return None
    face = max(faces, key=lambda r: r.width() * r.height())
    shape = predictor(img, face)
    return np.asarray(encoder.compute_face_descriptor(img, shape), dtype=np.float32)


def distance(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))
