"""Every change of state of a request writes an audit event (and a history event), and every
read of a request or of the subject's record is an audited read."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import pytest

from tepat.core.models import AuditEvent
from tepat.privacy.models import DataSubjectRequest
from tests.privacy.rights_cast import (  # noqa: F401 (fixtures)
    _clear_cache,
    act,
    open_at_office,
    request_id_from,
    subject,
)

pytestmark = pytest.mark.django_db


def _changes(pid: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=pid, action__startswith="privacy.request_")
        .exclude(action="privacy.request_view")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )


def test_every_change_of_state_is_audited_with_who_and_where(
    subject, bandung_operator, supervisor, login
):
    op, spv = login(bandung_operator), login(supervisor)
    pid = request_id_from(
        open_at_office(
            op,
            subject["nik"],
            "correction",
            change_field_0="person.birth_place",
            change_value_0="Cimahi",
        )
    )
    act(op, pid, "assign")
    act(
        op,
        pid,
        "decide",
        outcome="upheld",
        outcome_text="Sesuai akta",
        change_field_0="person.birth_place",
        change_value_0="Cimahi",
    )
    act(spv, pid, "return", reason="Lampirkan akta")
    act(
        op,
        pid,
        "decide",
        outcome="upheld",
        outcome_text="Akta terlampir",
        change_field_0="person.birth_place",
        change_value_0="Cimahi",
    )
    act(spv, pid, "approve")
    assert _changes(pid) == [
        "privacy.request_open",
        "privacy.request_assign",
        "privacy.request_decide",
        "privacy.request_return",
        "privacy.request_decide",
        "privacy.request_approve",
    ]
    events = AuditEvent.objects.filter(target_id=pid, action__startswith="privacy.request_")
    assert {e.region_code for e in events} == {subject["household"].village_id}
    assert {e.actor_label for e in events.exclude(action="privacy.request_view")} == {
        "op_bandung",
        "spv_jabar",
    }
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert [e.action for e in dsr.events.all()] == [
        "received",
        "assigned",
        "decide",
        "return",
        "decide",
        "approve",
    ]
    # The registry change carries its own audit event, by the checker.
    assert AuditEvent.objects.get(action="person.update").actor == supervisor


def test_an_objection_and_its_follow_up_are_audited(subject, bandung_operator, supervisor, login):
    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, subject["nik"], "objection", objection_target="desil"))
    act(op, pid, "decide", outcome="partially_upheld", outcome_text="Sebagian data aset keliru")
    act(login(supervisor), pid, "followup_done", note="Skor ulang dijadwalkan")
    assert _changes(pid) == [
        "privacy.request_open",
        "privacy.request_decide",
        "privacy.request_followup_flag",
        "privacy.request_followup_done",
    ]


def test_reads_of_the_queue_a_case_and_the_subject_lookup_are_audited(
    subject, bandung_operator, login
):
    op = login(bandung_operator)
    pid = request_id_from(open_at_office(op, subject["nik"], "deletion", details="Hapus"))
    op.get("/privasi/permintaan/")
    op.get(f"/privasi/permintaan/{pid}/")
    lookup = AuditEvent.objects.get(action="privacy.subject_lookup")
    assert lookup.target_id == subject["head"].public_id
    assert lookup.detail["read"] is True
    queue = AuditEvent.objects.get(action="privacy.queue_view")
    assert queue.detail["records"] == 1
    assert queue.region_code == subject["household"].village_id
    view = AuditEvent.objects.get(action="privacy.request_view", target_id=pid)
    assert view.actor == bandung_operator
    assert view.detail["read"] is True


def test_a_request_filed_in_the_portal_is_audited_without_a_staff_actor(subject):
    from tepat.privacy.services import request_open

    dsr, created = request_open(
        kind="deletion", person=subject["head"], channel="portal", details="Hapus"
    )
    assert created
    event = AuditEvent.objects.get(action="privacy.request_open", target_id=dsr.public_id)
    assert event.actor is None
    assert event.detail["channel"] == "portal"
