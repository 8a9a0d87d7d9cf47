"""The citizen side: a citizen signed in with the SMS code files correction, objection,
restriction and deletion requests about themselves (never another member), and follows each
with its status and deadline, through to the outcome staff record."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import re

import pytest

from tepat.core.models import AuditEvent
from tepat.privacy.models import DataSubjectRequest
from tests.privacy.rights_cast import (  # noqa: F401 (fixtures)
    _clear_cache,
    act,
    open_at_office,
    outbox,
    sign_in,
    subject,
)

pytestmark = pytest.mark.django_db


def _form(client, kind: str) -> dict[str, str]:
    html = client.get(f"/akun/hak/ajukan/?jenis={kind}").content.decode()
    key = re.search(r'name="submission_key" value="([^"]+)"', html)
    assert key, html[:500]
    return {"submission_key": key.group(1), "jenis": kind}


def _file(client, kind: str, **fields: str):
    return client.post("/akun/hak/ajukan/", {**_form(client, kind), **fields})


def test_the_account_page_links_to_the_rights_page(client, subject, outbox):
    sign_in(client, subject["nik"], outbox)
    assert 'href="/akun/hak/"' in client.get("/akun/").content.decode()
    page = client.get("/akun/hak/").content.decode()
    for kind in ("correction", "objection", "restriction", "deletion"):
        assert f"/akun/hak/ajukan/?jenis={kind}" in page
    assert "jenis=access" not in page


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("correction", {"field": "person.birth_place", "value": "Cimahi", "details": ""}),
        ("objection", {"objection_target": "desil", "details": "Rumah kami menumpang"}),
        ("restriction", {"details": "Jangan dipakai untuk program baru dulu"}),
        ("deletion", {"details": ""}),
    ],
)
def test_a_citizen_files_a_request_about_themselves_and_sees_its_deadline(
    client, subject, outbox, kind, fields
):
    sign_in(client, subject["nik"], outbox)
    r = _file(client, kind, **fields)
    assert r.status_code == 302, r.content.decode()[:800]
    dsr = DataSubjectRequest.objects.get()
    assert r["Location"] == f"/akun/hak/{dsr.public_id}/"
    assert dsr.kind == kind
    assert dsr.channel == "portal"
    assert dsr.subject == subject["head"]
    assert dsr.opened_by is None
    detail = client.get(r["Location"]).content.decode()
    assert "Diterima" in detail
    assert "jam" in detail
    assert "lagi" in detail
    listed = client.get("/akun/hak/").content.decode()
    row = listed[listed.index(f'data-request="{dsr.public_id}"') :].split("</tr>")[0]
    assert "Diterima" in row
    assert "71 jam" in row
    event = AuditEvent.objects.get(action="privacy.request_open", target_id=dsr.public_id)
    assert event.detail["channel"] == "portal"
    assert event.detail["subject"] == subject["head"].public_id


def test_a_citizen_cannot_file_for_another_member(client, subject, outbox):
    sign_in(client, subject["nik"], outbox)
    child = subject["child"].public_id
    r = _file(
        client,
        "deletion",
        person=child,
        subject=child,
        member=child,
        subject_person_ref=child,
        details="Hapus data anak saya",
    )
    assert r.status_code == 302
    assert DataSubjectRequest.objects.get().subject == subject["head"]
    form = client.get("/akun/hak/ajukan/?jenis=deletion").content.decode()
    assert child not in form


def test_a_citizen_sees_only_their_own_requests(client, subject, outbox, bandung_operator, login):
    op = login(bandung_operator)
    r = open_at_office(op, subject["child_nik"], "deletion", details="Hapus")
    theirs = DataSubjectRequest.objects.get().public_id
    assert r.status_code == 302
    sign_in(client, subject["nik"], outbox)
    assert theirs not in client.get("/akun/hak/").content.decode()
    assert client.get(f"/akun/hak/{theirs}/").status_code == 404


def test_access_needs_no_request_in_the_portal(client, subject, outbox):
    sign_in(client, subject["nik"], outbox)
    r = client.get("/akun/hak/ajukan/?jenis=access")
    assert r.status_code == 302
    assert r["Location"] == "/akun/hak/"
    r = client.post("/akun/hak/ajukan/", {"jenis": "access", "submission_key": "a" * 24})
    assert r.status_code == 302
    assert r["Location"] == "/akun/hak/"
    assert not DataSubjectRequest.objects.exists()


def test_a_double_submit_and_a_repeat_of_an_open_request_make_one_request(client, subject, outbox):
    sign_in(client, subject["nik"], outbox)
    form = {**_form(client, "restriction"), "details": "Batasi"}
    first = client.post("/akun/hak/ajukan/", form)
    again = client.post("/akun/hak/ajukan/", form)
    assert first["Location"] == again["Location"]
    third = _file(client, "restriction", details="Batasi lagi")
    assert third["Location"] == first["Location"]
    assert DataSubjectRequest.objects.count() == 1


def test_a_form_with_a_missing_choice_says_what_to_fix(client, subject, outbox):
    sign_in(client, subject["nik"], outbox)
    r = _file(client, "objection", details="Saya keberatan")
    assert r.status_code == 400
    assert "Pilih keputusan yang Anda keberatan" in r.content.decode()
    r = _file(client, "correction", field="person.birth_date", value="bukan tanggal")
    assert r.status_code == 400
    assert 'id="value-error"' in r.content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_the_pages_need_a_signed_in_citizen(client, subject):
    for path in ("/akun/hak/", "/akun/hak/ajukan/?jenis=deletion", "/akun/hak/abc/"):
        assert client.get(path)["Location"] == "/akun/masuk/"


def test_a_correction_filed_in_the_portal_ends_with_the_outcome_on_the_citizens_page(
    client, subject, outbox, bandung_operator, supervisor, login
):
    sign_in(client, subject["nik"], outbox)
    r = _file(
        client,
        "correction",
        field="person.birth_place",
        value="Cimahi",
        details="Tempat lahir di KTP saya Cimahi",
    )
    pid = DataSubjectRequest.objects.get().public_id
    op = login(bandung_operator)
    queue = op.get("/privasi/permintaan/").content.decode()
    assert pid in queue
    assert "Portal warga" in queue
    act(op, pid, "assign")
    assert "Sedang ditinjau" in client.get(r["Location"]).content.decode()
    act(
        op,
        pid,
        "decide",
        outcome="upheld",
        outcome_text="Sesuai KTP, sudah dibetulkan",
        change_field_0="person.birth_place",
        change_value_0="Cimahi",
    )
    assert "Menunggu persetujuan" in client.get(r["Location"]).content.decode()
    act(login(supervisor), pid, "approve")
    page = client.get(r["Location"]).content.decode()
    assert "Dikabulkan" in page
    assert "Sesuai KTP, sudah dibetulkan" in page
    assert "dijawab tepat waktu" in page
    assert "spv_jabar" not in page
    assert "op_bandung" not in page
    subject["head"].refresh_from_db()
    assert subject["head"].birth_place == "Cimahi"
