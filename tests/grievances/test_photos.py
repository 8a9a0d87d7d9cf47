"""Evidence photos lose every piece of metadata (EXIF GPS above all) before they are stored,
stay upright, and anything that only looks like an image is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from tepat.core.errors import ValidationFailed
from tepat.grievances import photos, services
from tests.conftest import BANDUNG_VILLAGE
from tests.grievances.conftest import JPEG, image_bytes

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0131] = "Camera 1.0"  # Software
    exif[ORIENTATION] = orientation
    # Monas, Jakarta: 6 deg 10' 31" S, 106 deg 49' 37" E
    exif.get_ifd(GPS_IFD).update({1: "S", 2: (6.0, 10.0, 31.0), 3: "E", 4: (106.0, 49.0, 37.0)})
    return exif


def _jpeg_with_gps(orientation: int = 1, size: tuple[int, int] = (24, 16)) -> bytes:
    data = image_bytes("JPEG", size, exif=_exif_with_gps(orientation).tobytes())
    with Image.open(io.BytesIO(data)) as img:  # the fixture really carries GPS
        assert img.getexif().get_ifd(GPS_IFD)[2] == (6.0, 10.0, 31.0)
    return data


def _report(key: str, photo: bytes) -> object:
    report, _ = services.report_submit(
        submission_key=key,
        kind="usul",
        village_code=BANDUNG_VILLAGE,
        subject_name="Ibu Sumarni",
        reason="Janda lansia, rumah bilik, belum terdaftar.",
        latitude="-6.8712",
        longitude="107.5891",
        photo=photo,
    )
    return report


def test_a_jpeg_with_exif_gps_is_stored_with_no_exif_at_all(regions, key, evidence_root):
    report = _report(key(), _jpeg_with_gps())
    stored = (evidence_root / "evidence" / report.photo_path).read_bytes()  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format == "JPEG"
        assert dict(img.getexif()) == {}
        assert img.getexif().get_ifd(GPS_IFD) == {}
        assert "exif" not in img.info
    assert b"Exif\x00\x00" not in stored
    assert b"PhoneMaker" not in stored
    assert b"Model X" not in stored


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    # Orientation 6: the camera held sideways; viewers rotate the 24x16 picture to 16x24.
    clean = photos.photo_clean(_jpeg_with_gps(orientation=6))
    assert (clean.width, clean.height) == (16, 24)
    with Image.open(io.BytesIO(clean.data)) as img:
        assert img.size == (16, 24)
        assert ORIENTATION not in img.getexif()
        # The blue half (the left of the original) is now on top.
        blue = img.convert("RGB").getpixel((8, 2))
        assert isinstance(blue, tuple)
        assert blue[2] > 150 > blue[0]


def test_a_png_loses_its_text_chunks_and_exif():
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "-6.1754,106.8272")
    data = image_bytes("PNG", pnginfo=info, exif=_exif_with_gps().tobytes())
    assert b"106.8272" in data
    clean = photos.photo_clean(data)
    assert clean.kind == "png"
    assert b"106.8272" not in clean.data
    assert b"eXIf" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as img:
        assert dict(img.getexif()) == {}


def test_a_webp_with_exif_is_cleaned_too():
    data = image_bytes("WEBP", exif=_exif_with_gps().tobytes())
    assert b"EXIF" in data
    clean = photos.photo_clean(data)
    assert clean.kind == "webp"
    assert b"EXIF" not in clean.data
    assert b"PhoneMaker" not in clean.data


def test_bytes_appended_after_the_image_are_not_kept():
    clean = photos.photo_clean(JPEG + b"hidden message after the end of the image")
    assert b"hidden message" not in clean.data


def test_a_file_that_only_starts_like_a_jpeg_is_refused(regions, key, evidence_root):
    with pytest.raises(ValidationFailed) as exc:
        _report(key(), b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    assert exc.value.problems[0].field == "photo"
    assert exc.value.problems[0].code == "not_image"
    assert "bukan foto" in exc.value.message
    assert not (evidence_root / "evidence").exists()


def test_a_picture_with_too_many_pixels_is_refused_before_decoding(
    regions, key, evidence_root, settings
):
    settings.TEPAT_EVIDENCE_MAX_PIXELS = 100
    with pytest.raises(ValidationFailed) as exc:
        _report(key(), _jpeg_with_gps())
    assert exc.value.problems[0].code == "too_many_pixels"


def test_the_same_photo_sent_twice_is_stored_once(regions, key, evidence_root):
    photo = _jpeg_with_gps()
    first = _report(key(), photo)
    second = _report(key(), photo)
    assert first.photo_path == second.photo_path  # type: ignore[attr-defined]
    assert len(list((evidence_root / "evidence").rglob("*.jpg"))) == 1


def test_a_photo_uploaded_through_the_form_is_stored_without_its_gps(
    client, regions, key, evidence_root
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tepat.grievances.models import CommunityReport

    response = client.post(
        "/pengaduan/usul-sanggah/",
        {
            "submission_key": key(),
            "kind": "sanggah",
            "village_code": BANDUNG_VILLAGE,
            "subject_name": "Pak Budi",
            "reason": "Punya mobil baru dan toko besar.",
            "latitude": "-6.87",
            "longitude": "107.58",
            "photo": SimpleUploadedFile("IMG_0001.jpg", _jpeg_with_gps(), "image/jpeg"),
        },
    )
    assert response.status_code == 302
    report = CommunityReport.objects.get()
    # The location the citizen gave is kept; the one hidden in the file is not.
    assert str(report.latitude) == "-6.870000"
    stored = (evidence_root / "evidence" / report.photo_path).read_bytes()
    with Image.open(io.BytesIO(stored)) as img:
        assert img.getexif().get_ifd(GPS_IFD) == {}
    assert b"PhoneMaker" not in stored
