"""Restriction and deletion through the staff pages and the registry's rights services: a
restriction is applied once approved; an erasure is honoured where no legal retention applies,
the case page shows the retentions that block it, and a blocked deletion can be upheld in part
by restricting processing instead."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import json

import pytest

from tepat.core.models import AuditEvent
from tepat.privacy.models import DataSubjectRequest, RequestEvent
from tepat.registry.models import Person
from tests.portal.conftest import citizen  # noqa: F401 (fixture: a household paid this year)
from tests.privacy.rights_cast import (  # noqa: F401 (fixtures)
    _clear_cache,
    act,
    open_at_office,
    request_id_from,
    subject,
)

pytestmark = pytest.mark.django_db


def test_an_upheld_restriction_restricts_processing_once_approved(
    subject, bandung_operator, supervisor, login
):
    op = login(bandung_operator)
    pid = request_id_from(
        open_at_office(op, subject["nik"], "restriction", details="Jangan dipakai dulu")
    )
    act(op, pid, "decide", outcome="upheld", outcome_text="Pemrosesan dibatasi")
    assert Person.objects.get(pk=subject["head"].pk).processing_restricted_at is None
    assert act(login(supervisor), pid, "approve").status_code == 302
    head = Person.objects.get(pk=subject["head"].pk)
    assert head.processing_restricted_at is not None
    assert DataSubjectRequest.objects.get(public_id=pid).status == "upheld"
    restrict = AuditEvent.objects.get(action="person.restrict", target_id=head.public_id)
    assert restrict.actor == supervisor
    assert pid in restrict.detail["reason"]


def test_an_erasure_without_retention_is_honoured_and_the_requests_keep_no_words(
    subject, bandung_operator, supervisor, login
):
    op = login(bandung_operator)
    pid = request_id_from(
        open_at_office(
            op, subject["nik"], "deletion", details="Saya Asep Sunandar minta data saya dihapus"
        )
    )
    page = op.get(f"/privasi/permintaan/{pid}/").content.decode()
    assert 'id="blockers-none"' in page
    act(
        op,
        pid,
        "decide",
        outcome="upheld",
        outcome_text="Data Asep Sunandar dihapus: tidak ada masa retensi",
    )
    assert act(login(supervisor), pid, "approve").status_code == 302
    head = Person.objects.get(pk=subject["head"].pk)
    assert head.erased_at is not None
    assert head.full_name == ""
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert dsr.status == "upheld"
    assert dsr.outcome_recorded_at is not None
    stored = json.dumps(
        [list(DataSubjectRequest.objects.values()), list(RequestEvent.objects.values())],
        default=str,
    )
    for value in ("Asep", "Sunandar", subject["nik"]):
        assert value not in stored
    assert "[dihapus / erased]" in dsr.details
    # The case itself stays: kind, dates and outcome are the record that it was honoured.
    assert dsr.kind == "deletion"
    assert dsr.approved_by == supervisor
    # An erased person cannot be the subject of a new request.
    r = op.post("/privasi/permintaan/baru/", {"step": "find", "nik": subject["nik"]})
    assert r.status_code == 404


def test_the_case_page_shows_the_retentions_and_refuses_an_erasure_they_block(
    citizen, bandung_operator, supervisor, login
):
    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, citizen["nik"], "deletion", details="Hapus data"))
    page = op.get(f"/privasi/permintaan/{pid}/").content.decode()
    assert 'id="blockers"' in page
    assert "catatan keuangan negara wajib disimpan" in page
    r = act(op, pid, "decide", outcome="upheld", outcome_text="Hapus semua")
    assert r.status_code == 400
    assert "masa retensi menurut hukum" in r.content.decode()
    assert DataSubjectRequest.objects.get(public_id=pid).status == "received"
    # Upheld in part: the data stays under the retention, its processing is restricted.
    r = act(
        op,
        pid,
        "decide",
        outcome="partially_upheld",
        outcome_text="Catatan pembayaran wajib disimpan 10 tahun; pemrosesan dibatasi",
    )
    assert r.status_code == 302
    assert act(login(supervisor), pid, "approve").status_code == 302
    head = Person.objects.get(pk=citizen["head"].pk)
    assert head.erased_at is None
    assert head.processing_restricted_at is not None
    assert DataSubjectRequest.objects.get(public_id=pid).status == "partially_upheld"


def test_a_retention_that_appears_before_approval_stops_the_erasure(
    subject, bandung_operator, supervisor, login
):
    from tepat.grievances.services import complaint_submit

    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, subject["nik"], "deletion", details="Hapus"))
    act(op, pid, "decide", outcome="upheld", outcome_text="Tidak ada masa retensi")
    # Meanwhile the citizen files a complaint: its handling needs the data.
    complaint_submit(
        submission_key="complaint0after0decision",
        category="not_received",
        village_code=subject["household"].village_id,
        description="Bantuan tahap ini belum saya terima sama sekali",
        filed_by_ref=subject["head"].public_id,
    )
    r = act(login(supervisor), pid, "approve")
    assert r.status_code == 400
    assert "tidak bisa dihapus" in r.content.decode()
    assert Person.objects.get(pk=subject["head"].pk).erased_at is None
    assert DataSubjectRequest.objects.get(public_id=pid).status == "awaiting_approval"
