from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tepat.grievances.models import CommunityReport, Complaint
from tests.conftest import BANDUNG_VILLAGE
from tests.grievances.conftest import JPEG

pytestmark = pytest.mark.django_db


def _post_complaint(client, key, **kw):
    data = {
        "submission_key": key,
        "category": "amount",
        "village_code": BANDUNG_VILLAGE,
        "description": "Yang diterima hanya Rp400.000, bukan Rp600.000.",
    }
    data.update(kw)
    return client.post("/pengaduan/", data)


def test_a_citizen_files_a_complaint_and_lands_on_its_status_page(client, regions, key):
    response = _post_complaint(client, key())
    assert response.status_code == 302
    c = Complaint.objects.get()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert c.tracking_code in html
    assert "Diterima" in html


def test_a_double_submit_shows_the_same_complaint(client, regions, key):
    k = key()
    first = _post_complaint(client, k)
    second = _post_complaint(client, k)
    assert first["Location"] == second["Location"]
    assert Complaint.objects.count() == 1


def test_errors_keep_what_was_typed(client, regions, key):
    response = _post_complaint(client, key(), category="")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Pilih kategori" in html
    assert "Rp400.000" in html
    assert 'aria-invalid="true"' in html


def test_tracking_redirects_by_prefix_and_unknown_codes_say_so(client, regions, key):
    _post_complaint(client, key())
    c = Complaint.objects.get()
    r = client.get("/pengaduan/lacak/", {"kode": c.tracking_code.lower()})
    assert r.status_code == 302
    assert c.tracking_code in r["Location"]
    assert client.get("/pengaduan/lacak/ADU-AAAA-BBBB/").status_code == 404


def test_a_citizen_appeals_a_rejection_from_the_status_page(client, regions, key, bandung_operator):
    from tepat.grievances.services import complaint_decide

    _post_complaint(client, key())
    c = Complaint.objects.get()
    complaint_decide(
        acting_user=bandung_operator, complaint=c, decision="rejected", note="Sesuai aturan."
    )
    url = f"/pengaduan/lacak/{c.tracking_code}/"
    assert "Ajukan banding" in client.get(url).content.decode()
    r = client.post(url, {"reason": "Nominal tetap kurang, ada kuitansi."})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.status == "appealed"


def test_an_usul_form_with_photo_is_filed_and_a_bad_file_is_explained(
    client, regions, key, evidence_root
):
    data = {
        "submission_key": key(),
        "kind": "usul",
        "village_code": BANDUNG_VILLAGE,
        "subject_name": "Ibu Sumiati",
        "reason": "Janda lansia tinggal sendiri, rumah bilik bambu.",
        "latitude": "-6.87",
        "longitude": "107.58",
    }
    bad = client.post(
        "/pengaduan/usul-sanggah/", {**data, "photo": SimpleUploadedFile("a.jpg", b"GIF89a....")}
    )
    assert bad.status_code == 400
    assert "bukan foto" in bad.content.decode()
    assert "Ibu Sumiati" in bad.content.decode()
    ok = client.post(
        "/pengaduan/usul-sanggah/", {**data, "photo": SimpleUploadedFile("a.jpg", JPEG)}
    )
    assert ok.status_code == 302
    r = CommunityReport.objects.get()
    assert r.tracking_code in client.get(ok["Location"]).content.decode()


def test_the_operator_inbox_is_region_scoped_and_requires_sign_in(
    client, regions, key, bandung_operator, bogor_operator, staff_client
):
    assert client.get("/pengaduan/operator/").status_code == 302
    _post_complaint(client, key())
    c = Complaint.objects.get()
    bogor = staff_client(bogor_operator)
    assert c.tracking_code not in bogor.get("/pengaduan/operator/").content.decode()
    assert bogor.get(f"/pengaduan/operator/aduan/{c.public_id}/").status_code == 404
    bandung = staff_client(bandung_operator)
    assert c.tracking_code in bandung.get("/pengaduan/operator/").content.decode()
    url = f"/pengaduan/operator/aduan/{c.public_id}/"
    assert bandung.post(url, {"action": "assign_me"}).status_code == 302
    r = bandung.post(url, {"action": "decide", "decision": "upheld", "note": "Kekurangan dibayar."})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.status == "upheld"
    assert c.assigned_to == bandung_operator


def test_the_operator_sees_the_evidence_photo_and_verifies(
    client, regions, key, bandung_operator, staff_client, evidence_root
):
    from tepat.grievances.services import report_submit

    r, _ = report_submit(
        submission_key=key(),
        kind="sanggah",
        village_code=BANDUNG_VILLAGE,
        subject_name="Pak Budi",
        reason="Punya toko besar di pasar.",
        latitude="-6.8",
        longitude="107.5",
        photo=JPEG,
    )
    op = staff_client(bandung_operator)
    photo = op.get(f"/pengaduan/operator/tugas/{r.public_id}/foto")
    assert photo["Content-Type"] == "image/jpeg"
    served = b"".join(photo.streaming_content)
    assert served == (evidence_root / "evidence" / r.photo_path).read_bytes()
    assert served.startswith(b"\xff\xd8\xff")
    assert Client().get(f"/pengaduan/operator/tugas/{r.public_id}/foto").status_code == 302
    resp = op.post(
        f"/pengaduan/operator/tugas/{r.public_id}/",
        {"decision": "rejected", "note": "Toko milik saudara."},
    )
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.status == "rejected"


def test_the_task_page_sends_corrections_into_the_registry(
    client, regions, key, bandung_operator, staff_client, evidence_root
):
    from tepat.grievances.services import report_submit
    from tepat.registry.services import household_register
    from tests.conftest import make_household, make_members

    hh = household_register(
        acting_user=bandung_operator, source="t", household=make_household(), members=make_members()
    )
    r, _ = report_submit(
        submission_key=key(),
        kind="sanggah",
        village_code=BANDUNG_VILLAGE,
        subject_name="Asep Sunandar",
        subject_nik=make_members()[0]["nik"],
        reason="Punya mobil dan motor baru.",
        latitude="-6.8",
        longitude="107.5",
        photo=JPEG,
    )
    op = staff_client(bandung_operator)
    page = op.get(f"/pengaduan/operator/tugas/{r.public_id}/").content.decode()
    assert 'id="owns_car"' in page
    resp = op.post(
        f"/pengaduan/operator/tugas/{r.public_id}/",
        {"decision": "upheld", "note": "Terbukti.", "owns_car": "yes", "electricity_va": "2200"},
    )
    assert resp.status_code == 302
    hh.refresh_from_db()
    assert hh.owns_car
    assert hh.electricity_va == 2200
