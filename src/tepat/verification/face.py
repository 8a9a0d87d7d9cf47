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


class BadImage(TepatError):
    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            "Berkas bukan gambar yang dapat dibaca (gunakan foto JPEG atau PNG) / "
            "the file is not a readable image (use a JPEG or PNG photo)",
            code="not_an_image",
            field="image",
        )


class ImageTooLarge(TepatError):
    http_status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Gambar terlalu besar (maksimum {limit // 1_000_000} MB atau {MAX_PIXELS // 1_000_000}"
            f" megapiksel) / the image is too large",
            code="image_too_large",
            field="image",
        )


# A phone photo is a few megapixels; a decompression bomb claims far more than that.
MAX_PIXELS = 40_000_000
# Faces are found reliably well below a phone camera's resolution, and dlib's detector time grows
# with the pixel count, so photos are scaled down to this longest side before the search.
WORK_SIDE = 1280


def image_from_upload(data: bytes, *, max_bytes: int) -> np.ndarray[Any, Any]:
    """An RGB uint8 array from an uploaded JPEG/PNG (or anything Pillow reads), or a clear error.

    Needs the `face` extra (Pillow comes with scikit-image); callers check `available()` first.
    """
    import io

    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise ImageTooLarge(max_bytes)
    if not data:
        raise BadImage()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            w, h = probe.size
            if w * h > MAX_PIXELS:
                raise ImageTooLarge(max_bytes)
            probe.draft("RGB", (WORK_SIDE, WORK_SIDE))  # JPEG: decode at a reduced scale
            img = probe.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadImage() from exc
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(max_bytes) from exc
    img.thumbnail((WORK_SIDE, WORK_SIDE))
    return np.asarray(img, dtype=np.uint8)


def image_from_uploaded_file(upload: Any) -> np.ndarray[Any, Any]:
    """An uploaded photo (a Django UploadedFile) as an RGB array; oversized files are refused
    before they are read whole, and a clear 501 says when the face extra is not installed."""
    from django.conf import settings

    limit = int(getattr(settings, "TEPAT_FACE_MAX_UPLOAD_BYTES", 5_000_000))
    if (getattr(upload, "size", 0) or 0) > limit:
        raise ImageTooLarge(limit)
    if not available():
        raise FaceUnavailable()
    return image_from_upload(upload.read(limit + 1), max_bytes=limit)


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
