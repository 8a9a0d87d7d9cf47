"""The incident pages under /pemantauan/insiden/ and their API: the clock on the list, overdue
highlighted and on top; "open an incident from this alert"; the detail page's timeline, notice
drafts and forms; scoping; reads audited."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.utils import timezone

from tepat.accounts.models import User
from tepat.core.models import AuditEvent
from tepat.monitoring import services
from tepat.monitoring.models import Alert, Incident, IncidentStatus, Metric
from tests.monitoring.breach_cast import *  # noqa: F403 (fixtures: dpo, field_agent, banten_operator)
from tests.monitoring.breach_cast import inject

pytestmark = pytest.mark.django_db
LIST = "/pemantauan/insiden/"


@pytest.fixture
def alert(bandung_operator: User) -> Alert:
    inject(bandung_operator, timezone.now() - dt.timedelta(minutes=10), records=700)
    services.detectors_run(now=timezone.now())
    return Alert.objects.get(rule__metric=Metric.READ_SPIKE)


def _open(user: User, title: str, hours_ago: float, region: str = "") -> Incident:
    return services.incident_open(
        acting_user=user, title=title, region_code=region,
        detected_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )  # fmt: skip


def test_the_list_shows_the_clock_with_overdue_incidents_highlighted_on_top(
    staff_client: Any, dpo: User
) -> None:
    _open(dpo, "Baru", 2)
    _open(dpo, "Lewat", 80)
    html = staff_client(dpo).get(LIST).content.decode()
    rows = re.findall(
        r'<tr data-incident="\w+" data-overdue="(\w+)"( class="bg-error-lighter")?', html
    )
    assert rows == [("true", ' class="bg-error-lighter"'), ("false", "")]
    assert html.index("Lewat") < html.index("Baru")
    assert "lewat 8 jam" in html
    assert "2 hari 21 jam" in html  # 70 hours less the moments since


def test_an_alert_opens_an_incident_from_the_incident_page(
    staff_client: Any, dpo: User, alert: Alert
) -> None:
    client = staff_client(dpo)
    page = client.get(LIST).content.decode()
    button = f'action="/pemantauan/insiden/dari-peringatan/{alert.public_id}/"'
    assert button in page
    response = client.post(f"/pemantauan/insiden/dari-peringatan/{alert.public_id}/")
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/pemantauan/insiden/{incident.public_id}/"
    assert incident.notice_due_at == alert.opened_at + dt.timedelta(hours=72)
    assert button not in client.get(LIST).content.decode()  # now part of the incident


def test_the_dashboard_offers_to_open_an_incident_from_an_alert(
    staff_client: Any, auditor: User, admin_user: User, alert: Alert
) -> None:
    button = f"/pemantauan/insiden/dari-peringatan/{alert.public_id}/"
    assert button in staff_client(admin_user).get("/pemantauan/").content.decode()
    assert button not in staff_client(auditor).get("/pemantauan/").content.decode()


def test_the_detail_page_shows_timeline_drafts_and_forms_and_its_reading_is_audited(
    staff_client: Any, dpo: User, alert: Alert
) -> None:
    incident, _ = services.incident_open_from_alert(
        acting_user=dpo, alert_public_id=alert.public_id
    )
    client = staff_client(dpo)
    html = client.get(f"{LIST}{incident.public_id}/").content.decode()
    for part in ('id="timeline"', 'data-kind="detected"', 'data-kind="opened"',
                 'data-draft="subjects-id"', 'data-draft="authority-en"', 'id="notice-form"',
                 'id="status-form"', f'data-alert="{alert.public_id}"'):  # fmt: skip
        assert part in html
    event = AuditEvent.objects.get(action="monitoring.incident_view")
    assert (event.actor, event.target_id) == (dpo, incident.public_id)


def test_notices_and_status_go_through_the_page_forms(staff_client: Any, dpo: User) -> None:
    incident = _open(dpo, "Kebocoran", 3)
    client = staff_client(dpo)
    url = f"{LIST}{incident.public_id}/"
    for audience in ("subjects", "authority"):
        response = client.post(f"{url}pemberitahuan/", {
            "audience": audience, "language": "id", "channel": "letter", "body": "Isi surat",
            "recipients": "3", "reference": "01/PPDP",
        })  # fmt: skip
        assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NOTIFIED
    assert incident.notices.count() == 2
    response = client.post(f"{url}status/", {"status": "closed", "note": ""})
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.CLOSED
    html = client.get(url).content.decode()
    assert 'data-audience="authority"' in html
    assert "01/PPDP" in html


def test_a_refused_status_move_is_shown_not_applied(staff_client: Any, dpo: User) -> None:
    incident = _open(dpo, "Kebocoran", 3)
    client = staff_client(dpo)
    response = client.post(f"{LIST}{incident.public_id}/status/", {"status": "notified"},
                           follow=True)  # fmt: skip
    assert "Catat dahulu pemberitahuan" in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.OPEN


def test_the_new_incident_form_opens_one_in_local_time(staff_client: Any, supervisor: User) -> None:
    client = staff_client(supervisor)
    assert client.get(f"{LIST}baru/").status_code == 200
    response = client.post(f"{LIST}baru/", {
        "title": "Laptop hilang", "severity": "high", "detected_at": "2026-12-01T08:00",
        "region_code": "32.73", "data_categories": ["identity", "children"],
        "affected_estimate": "250", "description": "Laptop operator hilang di angkot.",
    })  # fmt: skip
    incident = Incident.objects.get()
    assert response["Location"] == f"{LIST}{incident.public_id}/"
    assert incident.detected_at == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # 08:00 WIB
    assert incident.region_code == "3273"
    assert incident.data_categories == ["identity", "children"]
    refused = client.post(f"{LIST}baru/", {"title": "Nasional", "severity": "low"})
    assert refused.status_code == 400  # a supervisor of Jawa Barat cannot open a national one
    assert "cakupan" in refused.content.decode()


def test_the_edit_form_changes_the_incident(staff_client: Any, dpo: User) -> None:
    incident = _open(dpo, "Awal", 3)
    client = staff_client(dpo)
    assert client.get(f"{LIST}{incident.public_id}/ubah/").status_code == 200
    response = client.post(f"{LIST}{incident.public_id}/ubah/", {
        "title": "Diubah", "severity": "critical", "detected_at": "2026-12-01T08:00",
        "measures": "Sandi semua operator diganti",
    })  # fmt: skip
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.severity) == ("Diubah", "critical")
    assert AuditEvent.objects.filter(action="monitoring.incident_update").exists()


def test_the_pages_are_scoped(
    staff_client: Any, bandung_operator: User, bogor_operator: User, field_agent: User,
    auditor: User, supervisor: User,
) -> None:  # fmt: skip
    bandung = _open(supervisor, "Bandung", 1, region="3273")
    html = staff_client(bogor_operator).get(LIST).content.decode()
    assert bandung.public_id not in html
    assert staff_client(bogor_operator).get(f"{LIST}{bandung.public_id}/").status_code == 404
    assert staff_client(bandung_operator).get(f"{LIST}{bandung.public_id}/").status_code == 200
    forbidden = staff_client(field_agent).get(LIST)
    assert forbidden.status_code == 403
    assert "register insiden" in forbidden.content.decode()
    # An auditor reads, but the page offers no forms and posting one is refused.
    page = staff_client(auditor).get(f"{LIST}{bandung.public_id}/").content.decode()
    assert 'id="status-form"' not in page
    response = staff_client(auditor).post(f"{LIST}{bandung.public_id}/catatan/", {"note": "x"})
    assert response.status_code == 403
    assert staff_client(auditor).get(f"{LIST}{bandung.public_id}/ubah/").status_code == 403


def test_the_api_opens_from_an_alert_lists_with_the_clock_and_records_a_notice(
    staff_client: Any, dpo: User, alert: Alert
) -> None:
    client = staff_client(dpo)
    opened = client.post(f"/api/monitoring/incidents/from-alert/{alert.public_id}").json()
    assert opened["created"] is True
    public_id = opened["incident"]["public_id"]
    listed = client.get("/api/monitoring/incidents").json()
    assert [i["public_id"] for i in listed] == [public_id]
    assert listed[0]["clock"]["overdue"] is False
    assert 0 < listed[0]["clock"]["seconds_left"] <= 72 * 3600
    draft = client.get(f"/api/monitoring/incidents/{public_id}/notice-draft",
                       {"audience": "authority", "language": "en"}).json()  # fmt: skip
    assert "Article 46" in draft["text"]
    response = client.post(
        f"/api/monitoring/incidents/{public_id}/notices",
        json.dumps({"audience": "subjects", "language": "id", "channel": "sms",
                    "body": draft["text"], "recipients": 1}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201
    detail = client.get(f"/api/monitoring/incidents/{public_id}").json()
    assert [n["audience"] for n in detail["notices"]] == ["subjects"]
    assert detail["timeline"][0]["kind"] == "detected"
    refused = client.post(
        f"/api/monitoring/incidents/{public_id}/status",
        json.dumps({"status": "notified"}), content_type="application/json",
    )  # fmt: skip
    assert refused.status_code == 400
    assert refused.json()["code"] == "notices_missing"


def test_the_api_opens_changes_and_refuses_by_role(
    staff_client: Any, dpo: User, auditor: User
) -> None:
    client = staff_client(dpo)
    created = client.post(
        "/api/monitoring/incidents",
        json.dumps({"title": "Surel salah kirim", "severity": "low",
                    "data_categories": ["contact"]}),
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201
    public_id = created.json()["public_id"]
    patched = client.patch(f"/api/monitoring/incidents/{public_id}",
                           json.dumps({"affected_estimate": 12}),
                           content_type="application/json")  # fmt: skip
    assert patched.json()["affected_estimate"] == 12
    denied = staff_client(auditor).post(
        f"/api/monitoring/incidents/{public_id}/notes", json.dumps({"note": "x"}),
        content_type="application/json",
    )  # fmt: skip
    assert denied.status_code == 403
