from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tepat.core.errors import PermissionDenied, TepatError, ValidationFailed
from tepat.grievances import selectors, services
from tepat.grievances.models import Complaint, ComplaintStatus
from tests.conftest import BANDUNG_VILLAGE, BOGOR_VILLAGE

pytestmark = pytest.mark.django_db


def _file(key: str, **kw: str) -> Complaint:
    data = {
        "submission_key": key,
        "category": "not_received",
        "village_code": BANDUNG_VILLAGE,
        "description": "Bantuan tahap 4 belum saya terima sampai sekarang.",
    }
    data.update(kw)
    complaint, _ = services.complaint_submit(**data)
    return complaint


def test_a_complaint_gets_a_tracking_code_and_a_deadline_by_category(regions, key):
    c = _file(key(), category="fraud")
    assert c.tracking_code.startswith("ADU-")
    assert len(c.tracking_code) == 18  # ADU-XXXX-XXXX-XXXX: 12 random characters (issue 16)
    assert c.status == ComplaintStatus.RECEIVED
    days = (c.due_at - timezone.now()).total_seconds() / 86400
    assert 2.9 < days <= 3.0
    assert [e.action for e in c.events.all()] == ["received"]


def test_the_same_submission_key_twice_files_one_complaint(regions, key):
    k = key()
    first = _file(k)
    again, created = services.complaint_submit(
        submission_key=k, category="other", village_code=BANDUNG_VILLAGE, description="x" * 20
    )
    assert not created
    assert again.pk == first.pk
    assert Complaint.objects.count() == 1


def test_bad_input_names_every_field_in_indonesian(regions, key):
    with pytest.raises(ValidationFailed) as exc:
        services.complaint_submit(
            submission_key=key(),
            category="nope",
            village_code="9999",
            description="short",
            contact_phone="12345",
        )
    fields = {p.field for p in exc.value.problems}
    assert fields == {"category", "village_code", "description", "contact_phone"}
    assert "Pilih kategori" in exc.value.message
    assert Complaint.objects.count() == 0


def test_the_contact_phone_is_stored_encrypted(regions, key):
    c = _file(key(), contact_phone="081234567890")
    assert c.contact_phone_enc
    assert "081234567890" not in c.contact_phone_enc


def test_tracking_codes_are_found_however_they_are_typed(regions, key):
    c = _file(key())
    typed = c.tracking_code.lower().replace("-", " ")
    assert selectors.complaint_track(code=typed).pk == c.pk


def test_an_operator_assigns_and_decides_within_their_region(regions, key, bandung_operator):
    c = _file(key())
    c = services.complaint_assign(
        acting_user=bandung_operator, complaint=c, assignee=bandung_operator
    )
    assert c.status == ComplaintStatus.IN_REVIEW
    c = services.complaint_decide(
        acting_user=bandung_operator, complaint=c, decision="upheld", note="Sudah dibayar ulang."
    )
    assert c.status == ComplaintStatus.UPHELD
    assert c.decided_at
    assert [e.action for e in c.events.all()] == ["received", "assigned", "decided"]


def test_an_operator_of_another_region_cannot_touch_it(regions, key, bogor_operator):
    c = _file(key())
    with pytest.raises(PermissionDenied):
        services.complaint_decide(
            acting_user=bogor_operator, complaint=c, decision="rejected", note="x"
        )


def test_a_decision_needs_a_reason_and_happens_once(regions, key, bandung_operator):
    c = _file(key())
    with pytest.raises(TepatError):
        services.complaint_decide(
            acting_user=bandung_operator, complaint=c, decision="upheld", note=" "
        )
    services.complaint_decide(
        acting_user=bandung_operator, complaint=c, decision="referred", note="Ke Dukcapil."
    )
    with pytest.raises(TepatError):
        services.complaint_decide(
            acting_user=bandung_operator, complaint=c, decision="upheld", note="lagi"
        )


def test_a_rejected_complaint_can_be_appealed_once_and_goes_up_a_level(
    regions, key, bandung_operator
):
    c = _file(key())
    services.complaint_decide(
        acting_user=bandung_operator, complaint=c, decision="rejected", note="Tidak terbukti."
    )
    c = services.complaint_appeal(
        complaint=Complaint.objects.get(pk=c.pk), reason="Saya punya bukti baru dari bank."
    )
    assert c.status == ComplaintStatus.APPEALED
    assert c.escalation_level == 1
    assert c.is_open
    with pytest.raises(TepatError):
        services.complaint_appeal(complaint=c, reason="Sekali lagi mohon ditinjau.")


def test_overdue_complaints_escalate_and_the_command_reports_it(regions, key, capsys):
    c = _file(key())
    Complaint.objects.filter(pk=c.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    call_command("grievances", "escalate")
    assert "escalated 1 complaint(s)" in capsys.readouterr().out
    c.refresh_from_db()
    assert c.escalation_level == 1
    assert c.due_at > timezone.now()
    assert services.complaints_escalate() == 0


def test_the_deadline_table_is_a_setting(regions, key, settings):
    settings.TEPAT_GRIEVANCE_DEADLINE_DAYS = {"not_received": 2}
    c = _file(key())
    assert (c.due_at - timezone.now()) < dt.timedelta(days=2, minutes=1)


def test_the_backlog_summary_counts_open_and_overdue_by_category_and_region(
    regions, key, bandung_operator, bogor_operator
):
    a = _file(key())
    _file(key(), category="fraud")
    _file(key(), village_code=BOGOR_VILLAGE)
    Complaint.objects.filter(pk=a.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    summary = selectors.backlog_summary()
    assert summary["open"] == 3
    assert summary["overdue"] == 1
    assert summary["by_category"]["not_received"] == {"open": 2, "overdue": 1}
    bandung = selectors.backlog_summary(user=bandung_operator)
    assert bandung["open"] == 2
    assert set(bandung) == {
        "open",
        "overdue",
        "escalated",
        "by_category",
        "tasks_open",
        "tasks_overdue",
    }
    assert selectors.backlog_summary(user=bogor_operator)["open"] == 1
