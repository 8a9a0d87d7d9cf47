"""Evidence photos: decoded and re-encoded before they are stored, so that only pixels remain.

A phone photo carries EXIF: where it was taken (GPS), when, and the phone's make, model and
sometimes serial number. A report's location is asked for separately, as a form field the
citizen sees and can correct, so the stored file keeps none of it. Re-encoding (with the EXIF
orientation applied first, so the picture stays upright) also drops comments, thumbnails, ICC
profiles and anything appended after the image data, and refuses files that only start like an
image. Decoding is limited to JPEG, PNG and WebP and to a pixel count, against decompression bombs.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

_MAGIC = (
    (b"\xff\xd8\xff", "jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "png", ".png"),
)
_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_JPEG_MODES = ("L", "RGB", "CMYK")


class PhotoRejected(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    kind: str  # jpeg, png or webp
    ext: str
    width: int
    height: int


def photo_type(data: bytes) -> tuple[str, str] | None:
    """(type, extension) by content, never by the file name: JPEG, PNG or WebP."""
    for magic, kind, ext in _MAGIC:
        if data.startswith(magic):
            return kind, ext
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", ".webp"
    return None


def max_pixels() -> int:
    return int(getattr(settings, "TEPAT_EVIDENCE_MAX_PIXELS", 40_000_000))


def photo_clean(data: bytes) -> CleanPhoto:
    """The photo re-encoded in its own format without any metadata, upright.

    Raises PhotoRejected("not_image") for anything that does not decode as JPEG, PNG or WebP,
    and PhotoRejected("too_many_pixels") above TEPAT_EVIDENCE_MAX_PIXELS."""
    kind_ext = photo_type(data)
    if kind_ext is None:
        raise PhotoRejected("not_image")
    kind, ext = kind_ext
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[kind]]) as img:
            # The header gives the size before any pixel is decoded.
            if img.width * img.height > max_pixels():
                raise PhotoRejected("too_many_pixels")
            img.load()
            upright = ImageOps.exif_transpose(img)  # a new image, orientation applied
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise PhotoRejected("not_image") from exc
    # Saving writes only what is passed to save(); clearing info makes sure no encoder falls
    # back to the source's metadata (EXIF, ICC profile, text chunks, XMP).
    upright.info = {}
    out = io.BytesIO()
    if kind == "jpeg":
        if upright.mode not in _JPEG_MODES:
            upright = upright.convert("RGB")
        upright.save(out, format="JPEG", quality=90, optimize=True)
    elif kind == "png":
        upright.save(out, format="PNG", optimize=False)
    else:
        upright.save(out, format="WEBP", quality=90)
    return CleanPhoto(
        data=out.getvalue(), kind=kind, ext=ext, width=upright.width, height=upright.height
    )
