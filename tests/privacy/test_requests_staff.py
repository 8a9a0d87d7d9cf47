"""Each right end to end through the staff pages: an office records a walk-in subject's request
(found by NIK, identity card checked), a handler decides, a second member of staff approves what
changes data, and the registry changes through its own services, with history."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import json

import pytest

from tepat.core.models import AuditEvent
from tepat.privacy.models import DataSubjectRequest
from tepat.registry.models import Person
from tepat.registry.selectors import household_history
from tests.privacy.rights_cast import (  # noqa: F401 (fixtures)
    _clear_cache,
    act,
    open_at_office,
    request_id_from,
    subject,
)

pytestmark = pytest.mark.django_db


def test_an_office_answers_a_walk_in_access_request_with_the_export(
    subject, bandung_operator, login
):
    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, subject["nik"], "access", details="Minta salinan"))
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert dsr.channel == "office"
    assert dsr.opened_by == bandung_operator
    page = op.get(f"/privasi/permintaan/{pid}/").content.decode()
    assert "Unduh salinan data" in page
    # Answering before anything was handed over is refused.
    r = act(op, pid, "decide", outcome="answered", outcome_text="Salinan diserahkan")
    assert r.status_code == 400
    assert "Unduh dan serahkan salinan data dulu" in r.content.decode()
    r = act(op, pid, "export", format="json")
    assert r.status_code == 200
    assert r["Content-Disposition"] == f'attachment; filename="data-pribadi-{pid}.json"'
    data = json.loads(r.content)
    assert subject["nik"] in r.content.decode()  # the subject's own NIK, in their own copy
    assert data["requested_by"] == "op_bandung"
    pdf = act(op, pid, "export", format="pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    r = act(op, pid, "decide", outcome="answered", outcome_text="Salinan PDF diserahkan")
    assert r.status_code == 302
    dsr.refresh_from_db()
    assert dsr.status == "answered"
    assert dsr.export_format == "pdf"
    assert dsr.outcome_recorded_at is not None
    assert dsr.outcome_recorded_at <= dsr.due_at
    exports = AuditEvent.objects.filter(action="privacy.request_export", target_id=pid)
    assert exports.count() == 2
    assert exports.first().actor == bandung_operator
    assert exports.first().detail["read"] is True


def test_a_walk_in_request_needs_the_identity_card_checked(subject, bandung_operator, login):
    op = login(bandung_operator)
    page = op.post("/privasi/permintaan/baru/", {"step": "find", "nik": subject["nik"]})
    person = subject["head"].public_id
    assert f'value="{person}"' in page.content.decode()
    r = op.post(
        "/privasi/permintaan/baru/",
        {"step": "open", "person": person, "kind": "access", "details": "x"},
    )
    assert r.status_code == 400
    assert "Periksa KTP asli warga" in r.content.decode()
    assert not DataSubjectRequest.objects.exists()
    lookup = AuditEvent.objects.get(action="privacy.subject_lookup")
    assert lookup.detail["nik"] == "3273**********01"
    assert subject["nik"] not in json.dumps(lookup.detail)


def test_an_upheld_correction_changes_the_registry_only_after_a_second_approval(
    subject, bandung_operator, supervisor, login
):
    op = login(bandung_operator)
    pid = request_id_from(
        open_at_office(
            op,
            subject["nik"],
            "correction",
            change_field_0="person.birth_place",
            change_value_0="Cimahi",
            details="Tempat lahir saya Cimahi, bukan Bandung",
        )
    )
    assert act(op, pid, "assign").status_code == 302
    r = act(
        op,
        pid,
        "decide",
        outcome="upheld",
        outcome_text="Sesuai akta kelahiran",
        change_field_0="person.birth_place",
        change_value_0="Cimahi",
        change_field_1="household.rt",
        change_value_1="004",
    )
    assert r.status_code == 302
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert dsr.status == "awaiting_approval"
    head = Person.objects.get(pk=subject["head"].pk)
    assert head.birth_place == "Bandung"  # nothing applied yet
    # The maker sees no approve button, and posting it anyway is a clear 403.
    assert 'value="approve"' not in op.get(f"/privasi/permintaan/{pid}/").content.decode()
    r = act(op, pid, "approve")
    assert r.status_code == 403
    spv = login(supervisor)
    assert 'value="approve"' in spv.get(f"/privasi/permintaan/{pid}/").content.decode()
    assert act(spv, pid, "approve").status_code == 302
    dsr.refresh_from_db()
    assert dsr.status == "upheld"
    assert dsr.approved_by == supervisor
    head.refresh_from_db()
    assert head.birth_place == "Cimahi"
    assert head.household.rt == "004"
    # Through the registry's services: the history names the request as the source.
    history = household_history(household=head.household)
    person_change = next(h for h in history if h.entity_type == "person" and h.action == "update")
    assert person_change.source == f"privacy:{pid}"
    assert person_change.changes["birth_place"] == ("Bandung", "Cimahi")
    assert person_change.actor_label == "spv_jabar"
    household_change = next(h for h in history if h.entity_type == "household")
    assert household_change.source == f"privacy:{pid}"
    assert household_change.changes["rt"] == ("003", "004")


def test_a_correction_the_registry_would_refuse_is_refused_at_the_decision(
    subject, bandung_operator, login
):
    op = login(bandung_operator)
    pid = request_id_from(
        open_at_office(op, subject["nik"], "correction", details="Tanggal lahir saya salah tulis")
    )
    r = act(
        op,
        pid,
        "decide",
        outcome="upheld",
        outcome_text="Sesuai KTP",
        change_field_0="person.birth_date",
        change_value_0="31-02-1980",
    )
    assert r.status_code == 400
    assert DataSubjectRequest.objects.get(public_id=pid).status == "received"


def test_the_checker_can_return_a_decision_and_nothing_is_applied(
    subject, bandung_operator, supervisor, login
):
    op, spv = login(bandung_operator), login(supervisor)
    pid = request_id_from(
        open_at_office(
            op,
            subject["nik"],
            "correction",
            change_field_0="person.full_name",
            change_value_0="Asep Sunandar Saputra",
        )
    )
    act(
        op,
        pid,
        "decide",
        outcome="upheld",
        outcome_text="Sesuai KK",
        change_field_0="person.full_name",
        change_value_0="Asep Sunandar Saputra",
    )
    r = act(spv, pid, "return", reason="Lampirkan salinan KK terbaru")
    assert r.status_code == 302
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert dsr.status == "in_review"
    assert dsr.outcome == ""
    assert Person.objects.get(pk=subject["head"].pk).full_name == "Asep Sunandar"


def test_an_objection_gets_a_human_review_and_a_targeting_follow_up(
    subject, bandung_operator, supervisor, login
):
    op = login(bandung_operator)
    pid = request_id_from(
        open_at_office(
            op,
            subject["nik"],
            "objection",
            objection_target="desil",
            details="Rumah kami sewa, motor milik saudara",
        )
    )
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert dsr.decision_snapshot["desil_national"] == subject["desil"]
    assert dsr.decision_snapshot["scored"] is True
    # The reviewer sees targeting's own explanation of the score.
    page = op.get(f"/privasi/permintaan/{pid}/").content.decode()
    assert "Penjelasan skor untuk peninjau" in page
    assert f"Desil nasional {subject['desil']}" in page
    assert "floor_material" in page
    r = act(
        op,
        pid,
        "decide",
        outcome="upheld",
        outcome_text="Motor bukan milik rumah tangga; perlu skor ulang",
    )
    assert r.status_code == 302
    dsr.refresh_from_db()
    # No second approval: an objection's outcome changes no data by itself...
    assert dsr.status == "upheld"
    assert dsr.outcome_recorded_at is not None
    # ...and targeting has no manual override, so the targeting operator gets it to do.
    assert dsr.followup_needed
    assert dsr.followup_done_at is None
    assert AuditEvent.objects.filter(action="privacy.request_followup_flag").exists()
    queue = op.get("/privasi/permintaan/?status=followup").content.decode()
    assert pid in queue
    # The operator cannot close it (targeting is run by supervisors and admins).
    assert act(op, pid, "followup_done", note="Sudah").status_code == 403
    spv = login(supervisor)
    r = act(spv, pid, "followup_done", note="Data aset dibetulkan; skor ulang tahap berikut")
    assert r.status_code == 302
    dsr.refresh_from_db()
    assert dsr.followup_done_at is not None
    assert dsr.followup_done_by == supervisor


def test_read_only_roles_see_no_buttons_and_get_a_clear_403(
    subject, bandung_operator, auditor, login
):
    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, subject["nik"], "access", details="Salinan"))
    aud = login(auditor)
    page = aud.get(f"/privasi/permintaan/{pid}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="action"' not in html
    assert "Tindakan" not in html
    for action in ("assign", "decide", "approve", "close", "export"):
        r = act(
            aud, pid, action, outcome="rejected", outcome_text="tidak", reason="tidak", format="pdf"
        )
        assert r.status_code == 403, action
        assert "Peran Anda tidak boleh" in r.content.decode()
    assert DataSubjectRequest.objects.get(public_id=pid).status == "received"
    assert aud.get("/privasi/permintaan/baru/").status_code == 403


def test_a_closed_request_stops_the_clock(subject, bandung_operator, login):
    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, subject["nik"], "deletion"))
    assert act(op, pid, "close", reason="Warga mencabut permintaannya").status_code == 302
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert dsr.status == "closed"
    assert not dsr.is_open
    assert pid not in op.get("/privasi/permintaan/").content.decode()
    assert pid in op.get("/privasi/permintaan/?status=decided").content.decode()
