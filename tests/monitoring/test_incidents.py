"""The incident register (UU 27/2022 Art. 46): opened by staff or from an alert, the 3 x 24-hour
clock from detection to notice, status moves, notices recorded, scoping, every change audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tepat.accounts.models import User
from tepat.core.errors import NotFound, PermissionDenied, TepatError, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.monitoring import selectors, services
from tepat.monitoring.models import Alert, Incident, IncidentEvent, IncidentStatus, Metric
from tests.monitoring.breach_cast import *  # noqa: F403 (fixtures: dpo, field_agent, banten_operator)
from tests.monitoring.breach_cast import inject

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@pytest.fixture
def alert(bandung_operator: User) -> Alert:
    """A read-spike alert raised by the detectors an hour and a half ago."""
    inject(bandung_operator, timezone.now() - 90 * dt.timedelta(minutes=1), records=600)
    services.detectors_run(now=timezone.now() - H)
    return Alert.objects.get(rule__metric=Metric.READ_SPIKE)


def _open(user: User, *, hours_ago: float = 0, region: str = "", **kw: object) -> Incident:
    return services.incident_open(
        acting_user=user,
        title=kw.pop("title", f"Insiden {hours_ago} jam"),  # type: ignore[arg-type]
        detected_at=timezone.now() - dt.timedelta(hours=hours_ago),
        region_code=region,
        **kw,  # type: ignore[arg-type]
    )


# --- opening, and the clock ---------------------------------------------------------------------


def test_an_alert_opens_an_incident_whose_deadline_is_72_hours_after_the_alert(
    alert: Alert, dpo: User
) -> None:
    incident, created = services.incident_open_from_alert(
        acting_user=dpo, alert_public_id=alert.public_id
    )
    assert created
    assert incident.detected_at == alert.opened_at
    assert incident.notice_due_at - incident.detected_at == dt.timedelta(hours=72)
    assert list(incident.alerts.all()) == [alert]
    assert incident.title.endswith("op_bandung")
    assert incident.status == IncidentStatus.OPEN
    event = AuditEvent.objects.get(action="monitoring.incident_open")
    assert (event.actor, event.target_id) == (dpo, incident.public_id)
    assert event.detail["alerts"] == [alert.public_id]
    clock = selectors.incident_clock(incident)
    assert not clock.stopped
    assert not clock.overdue
    assert 70 <= clock.hours_left < 72


def test_opening_from_the_same_alert_again_gives_the_same_incident(alert: Alert, dpo: User) -> None:
    first, _ = services.incident_open_from_alert(acting_user=dpo, alert_public_id=alert.public_id)
    again, created = services.incident_open_from_alert(
        acting_user=dpo, alert_public_id=alert.public_id
    )
    assert (again, created) == (first, False)
    assert Incident.objects.count() == 1


def test_a_staff_member_opens_an_incident_detected_earlier(supervisor: User) -> None:
    incident = _open(supervisor, hours_ago=10, region="3273", data_categories=["identity"])
    assert incident.notice_due_at == incident.detected_at + dt.timedelta(hours=72)
    assert incident.opened_by == supervisor
    assert IncidentEvent.objects.get(incident=incident).kind == "opened"


def test_bad_incident_fields_are_refused_together(supervisor: User) -> None:
    with pytest.raises(ValidationFailed) as error:
        services.incident_open(
            acting_user=supervisor, title=" ", severity="dahsyat", region_code="9999",
            detected_at=timezone.now() + dt.timedelta(days=1), data_categories=["dna"],
            affected_estimate=-3,
        )  # fmt: skip
    fields = {p.field for p in error.value.problems}
    assert fields == {
        "title", "severity", "region_code", "detected_at", "data_categories", "affected_estimate",
    }  # fmt: skip
    assert Incident.objects.count() == 0


def test_overdue_incidents_come_first_most_overdue_on_top(dpo: User) -> None:
    soon = _open(dpo, hours_ago=70, title="C")
    late = _open(dpo, hours_ago=75, title="B")
    later = _open(dpo, hours_ago=80, title="A")
    fresh = _open(dpo, hours_ago=1, title="D")
    told = _open(dpo, hours_ago=90, title="E")
    for audience in ("subjects", "authority"):
        services.incident_notice_record(
            acting_user=dpo, public_id=told.public_id, audience=audience, language="id",
            channel="letter", body="Pemberitahuan",
        )  # fmt: skip
    rows = selectors.incidents_visible(user=dpo, which="all")
    assert [r.incident.title for r in rows] == ["A", "B", "C", "D", "E"]
    assert [r.clock.overdue for r in rows] == [True, True, False, False, False]
    assert rows[-1].clock.stopped
    assert rows[-1].clock.late
    running = selectors.incidents_visible(user=dpo)
    assert [r.incident for r in running] == [later, late, soon, fresh]


# --- status and notices -------------------------------------------------------------------------


def test_notices_to_the_subjects_and_the_authority_stop_the_clock(dpo: User) -> None:
    incident = _open(dpo, hours_ago=5)
    services.incident_set_status(acting_user=dpo, public_id=incident.public_id, status="assessing")
    services.incident_notice_record(
        acting_user=dpo, public_id=incident.public_id, audience="subjects", language="id",
        channel="sms", body="Pemberitahuan", recipients=120,
    )  # fmt: skip
    incident.refresh_from_db()
    assert incident.notices_done_at is None
    assert incident.status == IncidentStatus.ASSESSING
    sent = timezone.now() - dt.timedelta(minutes=5)
    services.incident_notice_record(
        acting_user=dpo, public_id=incident.public_id, audience="authority", language="id",
        channel="letter", body="Surat", sent_at=sent, reference="001/PDP/2026",
    )  # fmt: skip
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NOTIFIED
    assert incident.notices_done_at is not None
    clock = selectors.incident_clock(incident)
    assert clock.stopped
    assert not clock.late
    notices = AuditEvent.objects.filter(action="monitoring.incident_notice")
    assert notices.count() == 2
    assert notices.get(detail__audience="authority").detail["reference"] == "001/PDP/2026"


def test_notified_needs_both_notices_and_closing_without_them_needs_a_reason(dpo: User) -> None:
    incident = _open(dpo)
    with pytest.raises(TepatError) as error:
        services.incident_set_status(acting_user=dpo, public_id=incident.public_id,
                                     status="notified")  # fmt: skip
    assert error.value.code == "notices_missing"
    with pytest.raises(TepatError) as error:
        services.incident_set_status(acting_user=dpo, public_id=incident.public_id, status="closed")
    assert error.value.code == "reason_required"
    services.incident_set_status(
        acting_user=dpo, public_id=incident.public_id, status="closed",
        note="Bukan kegagalan pelindungan data: uji penetrasi terjadwal",
    )  # fmt: skip
    incident.refresh_from_db()
    assert incident.closed_at is not None
    assert selectors.incident_clock(incident).stopped
    with pytest.raises(TepatError, match="ditutup"):
        services.incident_notice_record(
            acting_user=dpo, public_id=incident.public_id, audience="subjects", language="en",
            channel="email", body="x",
        )  # fmt: skip
    with pytest.raises(TepatError):
        services.incident_set_status(acting_user=dpo, public_id=incident.public_id,
                                     status="contained")  # fmt: skip
    services.incident_set_status(
        acting_user=dpo, public_id=incident.public_id, status="assessing",
        note="Ternyata ada data yang keluar",
    )  # fmt: skip
    assert Incident.objects.get(pk=incident.pk).closed_at is None


def test_moving_the_detection_time_moves_the_deadline_and_is_audited(dpo: User) -> None:
    incident = _open(dpo, hours_ago=2)
    earlier = incident.detected_at - dt.timedelta(hours=30)
    services.incident_update(
        acting_user=dpo, public_id=incident.public_id,
        changes={"detected_at": earlier, "severity": "critical", "affected_estimate": 2500},
    )  # fmt: skip
    incident.refresh_from_db()
    assert incident.notice_due_at == earlier + dt.timedelta(hours=72)
    event = AuditEvent.objects.get(action="monitoring.incident_update")
    assert event.detail["changes"]["severity"] == {"before": "medium", "after": "critical"}
    assert event.detail["changes"]["detected_at"]["after"] == earlier.isoformat()
    with pytest.raises(TepatError, match="tidak dikenal"):
        services.incident_update(acting_user=dpo, public_id=incident.public_id,
                                 changes={"status": "closed"})  # fmt: skip


def test_every_change_is_audited(alert: Alert, dpo: User) -> None:
    incident = _open(dpo)
    services.incident_link_alert(
        acting_user=dpo, public_id=incident.public_id, alert_public_id=alert.public_id
    )
    services.incident_note_add(acting_user=dpo, public_id=incident.public_id, note="Diperiksa")
    services.incident_set_status(acting_user=dpo, public_id=incident.public_id,
                                 status="contained", note="Akun dikunci")  # fmt: skip
    services.incident_update(acting_user=dpo, public_id=incident.public_id,
                             changes={"measures": "Akun dikunci, sandi diganti"})  # fmt: skip
    actions = list(
        AuditEvent.objects.filter(target_type="Incident", target_id=incident.public_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "monitoring.incident_open", "monitoring.incident_link_alert", "monitoring.incident_note",
        "monitoring.incident_status", "monitoring.incident_update",
    ]  # fmt: skip
    kinds = [t.kind for t in selectors.incident_timeline(incident=incident)]
    assert kinds[:2] == ["detected", "opened"]
    assert kinds[2:] == ["alert", "note", "status", "updated", "deadline"]


# --- notice templates ---------------------------------------------------------------------------


def test_notice_drafts_are_pre_filled_in_both_languages(dpo: User) -> None:
    incident = _open(
        dpo, title="Unduhan karantina massal", data_categories=["identity", "health"],
        description="Seorang operator mengunduh 4.000 baris.", consequences="Risiko penipuan.",
        measures="Akun dibekukan.", contact="ppdp@tepat.example, 021-555-0100",
        affected_estimate=4000,
    )  # fmt: skip
    subjects_id = selectors.notice_draft(incident=incident, audience="subjects", language="id")
    assert "Pasal 46" in subjects_id
    assert "kesehatan (disabilitas, kehamilan), data spesifik" in subjects_id
    assert "Seorang operator mengunduh 4.000 baris." in subjects_id
    assert "Akun dibekukan." in subjects_id
    assert "ppdp@tepat.example" in subjects_id
    subjects_en = selectors.notice_draft(incident=incident, audience="subjects", language="en")
    assert "health (disability, pregnancy), specific data" in subjects_en
    assert "kesehatan" not in subjects_en
    authority_en = selectors.notice_draft(incident=incident, audience="authority", language="en")
    assert "Estimated number of data subjects affected: 4000" in authority_en
    assert incident.public_id in authority_en
    month = timezone.localtime(incident.detected_at).strftime("%B")
    assert month in authority_en  # English month names in the English notice
    authority_id = selectors.notice_draft(incident=incident, audience="authority", language="id")
    assert "Lembaga Penyelenggara Pelindungan Data Pribadi" in authority_id
    assert len(selectors.notice_drafts(incident=incident)) == 4


def test_an_empty_incident_leaves_visible_placeholders_in_its_notices(dpo: User) -> None:
    incident = _open(dpo, contact="")
    text = selectors.notice_draft(incident=incident, audience="subjects", language="id")
    assert "[sebutkan jenis data]" in text
    assert "[kontak Pejabat Pelindungan Data Pribadi]" in text


# --- who may do what, where ---------------------------------------------------------------------


def test_incidents_are_scoped_to_the_readers_regions(
    supervisor: User, bandung_operator: User, bogor_operator: User, banten_operator: User,
    auditor: User, dpo: User,
) -> None:  # fmt: skip
    bandung = _open(supervisor, region="3273", title="Bandung")
    bogor = _open(supervisor, region="3201", title="Bogor")
    banten = _open(banten_operator, region="3671", title="Banten")
    national = _open(dpo, title="Nasional")

    def seen(user: User) -> set[str]:
        return {r.incident.title for r in selectors.incidents_visible(user=user, which="all")}

    assert seen(bandung_operator) == {"Bandung"}
    assert seen(supervisor) == {"Bandung", "Bogor"}
    assert seen(banten_operator) == {"Banten"}
    assert seen(auditor) == seen(dpo) == {"Bandung", "Bogor", "Banten", "Nasional"}
    with pytest.raises(NotFound):
        selectors.incident_get(user=bandung_operator, public_id=bogor.public_id)
    with pytest.raises(NotFound):
        selectors.incident_get(user=supervisor, public_id=national.public_id)
    assert selectors.incident_get(user=dpo, public_id=banten.public_id) == banten
    assert selectors.incident_get(user=bandung_operator, public_id=bandung.public_id) == bandung


def test_who_may_open_and_manage(
    bandung_operator: User, supervisor: User, auditor: User, field_agent: User, dpo: User
) -> None:
    with pytest.raises(ValidationFailed):  # an operator reports within their regions only
        _open(bandung_operator, region="")
    reported = _open(bandung_operator, region="3273011001")
    with pytest.raises(PermissionDenied):  # ... and does not manage
        services.incident_set_status(acting_user=bandung_operator,
                                     public_id=reported.public_id, status="assessing")  # fmt: skip
    services.incident_set_status(acting_user=supervisor, public_id=reported.public_id,
                                 status="assessing")  # fmt: skip
    with pytest.raises(PermissionDenied):
        _open(auditor)
    with pytest.raises(PermissionDenied):
        services.incident_note_add(acting_user=auditor, public_id=reported.public_id, note="x")
    with pytest.raises(PermissionDenied):
        _open(field_agent, region="3273011001")
    with pytest.raises(PermissionDenied):
        selectors.incidents_visible(user=field_agent)
    national = _open(dpo)
    with pytest.raises(NotFound):  # a supervisor does not even see a national incident
        services.incident_note_add(acting_user=supervisor, public_id=national.public_id,
                                   note="x")  # fmt: skip
    services.incident_note_add(acting_user=dpo, public_id=reported.public_id, note="Dicek PPDP")


def test_the_dpo_opens_incidents_from_breach_alerts_only(dpo: User, supervisor: User) -> None:
    services.alert_rule_create(acting_user=supervisor, name="Gagal", metric="failure_rate",
                               threshold=1, region_code="3273")  # fmt: skip
    rule = services.AlertRule.objects.get(metric="failure_rate")
    payment_alert = Alert.objects.create(
        rule=rule, region_code="3273", value=5, opened_at=timezone.now(),
        last_seen_at=timezone.now(),
    )  # fmt: skip
    with pytest.raises(NotFound):
        services.incident_open_from_alert(acting_user=dpo, alert_public_id=payment_alert.public_id)
    incident, _ = services.incident_open_from_alert(
        acting_user=supervisor, alert_public_id=payment_alert.public_id
    )
    assert incident.region_code == "3273"


def test_the_clock_reads_as_days_hours_and_minutes(dpo: User) -> None:
    incident = _open(dpo, hours_ago=0)
    clock = selectors.incident_clock(incident, now=incident.detected_at + dt.timedelta(hours=1))
    assert clock.text == "2 hari 23 jam"
    overdue = selectors.incident_clock(
        incident, now=incident.notice_due_at + 3 * H + 7 * dt.timedelta(minutes=1)
    )
    assert overdue.overdue
    assert overdue.text == "3 jam 7 menit"
