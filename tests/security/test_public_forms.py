"""The public grievance forms, tracking codes, CSV exports and uploads.

Attacks tried:
- flooding the HTML complaint and usul/sanggah forms, which had no limit while the API had one;
- guessing tracking codes (8 random characters, unlimited lookups) from one address, and one
  guessed code from many addresses;
- a quarantined agency row whose name is a spreadsheet formula (`=CMD|...`, `@SUM(...)`), exported
  as CSV and opened in Excel (CSV injection);
- an agency delivery larger than Django keeps in memory, spooled to a temporary file in clear;
- a request body far over the limit, which the server read before refusing it.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from tepat.core import csvsafe
from tepat.grievances.models import CommunityReport, Complaint
from tests.grievances.conftest import JPEG
from tests.integration.conftest import *  # noqa: F403  (regions, staff, sources, staff_client)
from tests.integration.test_importing import BAD_DATE, GOOD, HEADER, _csv

NEW_CODE = re.compile(r"^(ADU|USL|SGH)-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def _complaint(client: Any, key: str, **extra: Any) -> Any:
    return client.post(
        "/pengaduan/",
        {
            "submission_key": key,
            "category": "not_received",
            "village_code": "3273011001",
            "description": "Bantuan belum diterima sejak bulan lalu.",
        },
        **extra,
    )


def _usul(client: Any, key: str) -> Any:
    return client.post(
        "/pengaduan/usul-sanggah/",
        {
            "submission_key": key,
            "kind": "usul",
            "village_code": "3273011001",
            "subject_name": "Ibu Entin",
            "address": "Jl. Setiabudi 5",
            "reason": "Janda lansia tinggal sendiri, belum pernah menerima bantuan apa pun.",
            "latitude": "-6.87",
            "longitude": "107.59",
            "photo": SimpleUploadedFile("rumah.jpg", JPEG, content_type="image/jpeg"),
        },
    )


# --- rate limits on the HTML forms ----------------------------------------------------------------


def test_the_html_complaint_form_is_limited_per_address_like_the_api(
    client: Any, regions: None, settings: Any
) -> None:
    settings.TEPAT_COMPLAINT_LIMIT_PER_IP_HOUR = 2
    assert _complaint(client, "k" * 20 + "01").status_code == 302
    assert _complaint(client, "k" * 20 + "02").status_code == 302
    refused = _complaint(client, "k" * 20 + "03")
    assert refused.status_code == 429
    assert "Terlalu banyak" in refused.content.decode()
    assert Complaint.objects.count() == 2


def test_the_api_and_the_html_forms_count_against_one_limit(
    client: Any, regions: None, settings: Any, evidence_root: Any
) -> None:
    settings.TEPAT_COMPLAINT_LIMIT_PER_IP_HOUR = 1
    api = client.post(
        "/api/grievances/complaints",
        {
            "submission_key": "a" * 24,
            "category": "not_received",
            "village_code": "3273011001",
            "description": "Bantuan belum diterima sejak bulan lalu.",
        },
        content_type="application/json",
    )
    assert api.status_code == 201
    assert _usul(client, "b" * 24).status_code == 429
    assert not CommunityReport.objects.exists()


@pytest.fixture
def evidence_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_an_ipv6_client_cannot_escape_the_form_limit_by_changing_address(
    client: Any, regions: None, settings: Any
) -> None:
    settings.TEPAT_COMPLAINT_LIMIT_PER_IP_HOUR = 1
    assert _complaint(client, "c" * 24, REMOTE_ADDR="2001:db8:1:2::1").status_code == 302
    assert _complaint(client, "d" * 24, REMOTE_ADDR="2001:db8:1:2::99").status_code == 429


# --- tracking codes -------------------------------------------------------------------------------


def test_tracking_codes_have_twelve_random_characters(
    client: Any, regions: None, evidence_root: Any
) -> None:
    _complaint(client, "e" * 24)
    _usul(client, "f" * 24)
    assert NEW_CODE.match(Complaint.objects.get().tracking_code)
    assert NEW_CODE.match(CommunityReport.objects.get().tracking_code)


def test_a_code_handed_out_before_still_tracks(client: Any, regions: None) -> None:
    _complaint(client, "g" * 24)
    Complaint.objects.update(tracking_code="ADU-7K2M-9XPQ")
    assert client.get("/pengaduan/lacak/adu-7k2m-9xpq/").status_code == 200
    assert client.get("/api/grievances/complaints/ADU7K2M9XPQ").status_code == 200


def test_guessing_codes_from_one_address_locks_its_lookups(
    client: Any, regions: None, settings: Any
) -> None:
    settings.TEPAT_TRACK_MISSES_PER_IP_HOUR = 3
    _complaint(client, "h" * 24)
    real = Complaint.objects.get().tracking_code
    for guess in ("ADU-AAAA-BBBB-CCCC", "ADU-AAAA-BBBB-CCCD", "ADU-AAAA-BBBB-CCCE"):
        assert client.get(f"/pengaduan/lacak/{guess}/").status_code == 404
    # Locked: even the right code is refused, so the lock tells the guesser nothing.
    assert client.get(f"/pengaduan/lacak/{real}/").status_code == 429
    assert client.get(f"/api/grievances/complaints/{real}").status_code == 429
    assert client.get(f"/pengaduan/usul-sanggah/{real}/").status_code == 429
    # Another address is not locked.
    assert client.get(f"/pengaduan/lacak/{real}/", REMOTE_ADDR="10.1.1.1").status_code == 200


def test_one_code_guessed_from_many_addresses_is_locked(
    client: Any, regions: None, settings: Any
) -> None:
    settings.TEPAT_TRACK_MISSES_PER_CODE_HOUR = 3
    guess = "ADU-ZZZZ-YYYY-XXXX"
    for n in range(3):
        r = client.get(f"/api/grievances/complaints/{guess}", REMOTE_ADDR=f"10.0.0.{n + 1}")
        assert r.status_code == 404
    r = client.get(f"/api/grievances/complaints/{guess}", REMOTE_ADDR="10.0.0.99")
    assert r.status_code == 429


# --- CSV exports ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=CMD|'/C calc'!A0", "'=CMD|'/C calc'!A0"),
        ("+62 812 1234", "'+62 812 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "-5"),  # a plain number stays a number
        ("3.5", "3.5"),
        (-5, -5),
        ("Asep", "Asep"),
        ("", ""),
    ],
)
def test_a_csv_cell_that_a_spreadsheet_would_run_is_quoted(value: Any, written: Any) -> None:
    assert csvsafe.cell(value) == written


def test_the_quarantine_csv_neutralises_a_formula_in_agency_data(
    staff_client: Any, auditor: Any, sources: None
) -> None:
    from tepat.integration.importing import import_file

    formula = BAD_DATE.replace(",DEDI,", ",=CMD|'/C calc'!A0,").replace(
        ",JL. MERDEKA 1,", ",@SUM(A1:A9),"
    )
    run = import_file(
        acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(GOOD, formula)
    ).run
    response = staff_client(auditor).get(f"/integrasi/impor/{run.public_id}/karantina.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=CMD|'/C calc'!A0" in cells
    assert "'@SUM(A1:A9)" in cells
    assert not any(cell.startswith(("=", "@", "+")) for cell in cells)
    assert HEADER.split(",")[0] in rows[0]


# --- uploads and request bodies -------------------------------------------------------------------


def _big_delivery(size: int) -> bytes:
    data = _csv(GOOD)
    pad = b"\n" + b"#" * 1000
    return data + pad * (size // len(pad) + 1)


@pytest.fixture
def no_temporary_files(monkeypatch: Any) -> None:
    """Any upload spooled to a temporary file fails the test."""
    from django.core.files import uploadhandler

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "new_file", refuse)


def test_an_agency_upload_on_the_page_never_sits_in_a_temporary_file(
    staff_client: Any, bandung_operator: Any, sources: None, settings: Any, no_temporary_files: None
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    data = _big_delivery(3 * 1024 * 1024)  # over Django's 2.5 MB in-memory default
    c = staff_client(bandung_operator)
    response = c.post(
        "/integrasi/", {"source": "bpjs", "file": SimpleUploadedFile("bpjs.csv", data)}
    )
    assert response.status_code == 302


def test_an_agency_upload_through_the_api_never_sits_in_a_temporary_file(
    staff_client: Any, bandung_operator: Any, sources: None, settings: Any, no_temporary_files: None
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    data = _big_delivery(3 * 1024 * 1024)
    c = staff_client(bandung_operator)
    response = c.post(
        "/api/integration/import-runs",
        {"source": "bpjs", "file": SimpleUploadedFile("bpjs.csv", data)},
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("url", ["/integrasi/", "/api/integration/import-runs"])
def test_an_upload_over_the_cap_is_refused_before_its_body_is_read(
    url: str, staff_client: Any, bandung_operator: Any, sources: None, settings: Any
) -> None:
    settings.TEPAT_INTEGRATION_MAX_UPLOAD_BYTES = 1024 * 1024
    c = staff_client(bandung_operator)
    # The body is tiny but claims 50 MB: reading it would fail (the test client refuses to read
    # past the real bytes), so a 413 proves the claim alone was refused.
    response = c.post(
        url,
        {"source": "bpjs", "file": SimpleUploadedFile("bpjs.csv", _csv(GOOD))},
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "terlalu besar" in response.content.decode().lower()


def test_the_public_usul_form_refuses_a_huge_body_unread(
    client: Any, regions: None, settings: Any
) -> None:
    settings.TEPAT_EVIDENCE_MAX_BYTES = 1024 * 1024
    response = client.post(
        "/pengaduan/usul-sanggah/",
        {"submission_key": "i" * 24, "kind": "usul"},
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )
    assert response.status_code == 413


def test_the_public_complaint_form_refuses_a_file_it_never_asked_for(
    client: Any, regions: None
) -> None:
    response = client.post(
        "/pengaduan/",
        {"submission_key": "j" * 24, "junk": SimpleUploadedFile("x.bin", b"x" * 200_000)},
    )
    assert response.status_code == 413
    assert not Complaint.objects.exists()


def test_an_upload_just_over_the_cap_is_refused_while_it_is_read(
    staff_client: Any, bandung_operator: Any, sources: None, settings: Any
) -> None:
    settings.TEPAT_INTEGRATION_MAX_UPLOAD_BYTES = 100 * 1024
    data = _big_delivery(120 * 1024)  # within the form allowance, so past the Content-Length check
    response = staff_client(bandung_operator).post(
        "/integrasi/", {"source": "bpjs", "file": SimpleUploadedFile("bpjs.csv", data)}
    )
    assert response.status_code == 413


def test_the_site_wide_upload_handler_keeps_files_in_memory_and_skips_an_oversized_one(
    rf: Any,
) -> None:
    from django.core.files.uploadedfile import InMemoryUploadedFile

    from tepat.core.uploads import InMemoryUploadHandler, UploadTooLarge

    def request(size: int, *, strict: bool) -> Any:
        r = rf.post("/x/", {"f": SimpleUploadedFile("a.csv", b"x" * size), "n": "1"})
        r.upload_handlers = [InMemoryUploadHandler(r, max_bytes=1024, strict=strict)]
        return r

    small = request(1000, strict=False)
    assert isinstance(small.FILES["f"], InMemoryUploadedFile)
    assert small.FILES["f"].read() == b"x" * 1000
    big = request(5000, strict=False)
    assert "f" not in big.FILES
    assert big.POST["n"] == "1"
    with pytest.raises(UploadTooLarge):
        _ = request(5000, strict=True).FILES


@pytest.mark.parametrize("url", ["/pengaduan/", "/pengaduan/usul-sanggah/", "/integrasi/"])
def test_the_guarded_forms_still_check_the_csrf_token(
    url: str, staff_client: Any, bandung_operator: Any, sources: None
) -> None:
    staff_client(bandung_operator)  # signed in, so /integrasi/ gets as far as the CSRF check
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.cookies = staff_client(bandung_operator).cookies
    response = c.post(url, {"submission_key": "k" * 24})
    assert response.status_code == 403
    assert b"CSRF" in response.content
