"""The audit log page /pemantauan/audit/ (and /api/monitoring/audit-events) for auditors, admins
and the DPO, and supervisors within their regions: filters, pages, scope; reading it is itself
an audited access."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tepat.accounts.models import User
from tepat.core.models import AuditEvent
from tepat.monitoring import selectors
from tests.monitoring.breach_cast import *  # noqa: F403 (fixtures: dpo, field_agent, banten_operator)
from tests.monitoring.breach_cast import WIB, inject

pytestmark = pytest.mark.django_db
PAGE = "/pemantauan/audit/"


@pytest.fixture
def trail(bandung_operator: User, bogor_operator: User, auditor: User) -> None:
    """Reads in Bandung and Bogor on two days, failed log-ins, and an auditor's read."""
    inject(bandung_operator, dt.datetime(2026, 12, 1, 9, 0, tzinfo=WIB),
           action="household.view", region_code="3273011001")  # fmt: skip
    inject(bandung_operator, dt.datetime(2026, 12, 2, 23, 30, tzinfo=WIB),
           action="person.view_full", region_code="3273011001")  # fmt: skip
    inject(bogor_operator, dt.datetime(2026, 12, 2, 9, 0, tzinfo=WIB),
           action="household.view", region_code="3201011001")  # fmt: skip
    inject(None, dt.datetime(2026, 12, 2, 10, 0, tzinfo=WIB), action="login.failed",
           records=None, ip="203.0.113.9", detail={"username": "admin"})  # fmt: skip
    inject(auditor, dt.datetime(2026, 12, 2, 11, 0, tzinfo=WIB),
           action="household.view", region_code="3273011001")  # fmt: skip


def _actions(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-action="([\w.]+)">', html)


def test_the_dpo_reads_the_whole_log_and_the_reading_is_audited(
    staff_client: Any, dpo: User, trail: None
) -> None:
    response = staff_client(dpo).get(PAGE)
    assert response.status_code == 200
    assert _actions(response.content.decode()) == [
        "person.view_full", "household.view", "login.failed", "household.view", "household.view",
    ]  # fmt: skip
    event = AuditEvent.objects.get(action="monitoring.audit_view")
    assert event.actor == dpo
    assert event.detail["read"] is True
    assert event.detail["records"] == 5
    # The next reader sees the reading.
    assert "monitoring.audit_view" in _actions(staff_client(dpo).get(PAGE).content.decode())


def test_the_filters_narrow_by_actor_action_dates_and_region(
    staff_client: Any, auditor: User, trail: None
) -> None:
    client = staff_client(auditor)

    def rows(**query: str) -> list[str]:
        response = client.get(PAGE, query)
        assert response.status_code == 200
        return [a for a in _actions(response.content.decode()) if a != "monitoring.audit_view"]

    assert rows(actor="OP_BANDUNG") == ["person.view_full", "household.view"]
    assert rows(action="login.") == ["login.failed"]
    assert rows(region="3201") == ["household.view"]
    # Local dates, inclusive: 2 Dec 23:30 WIB is still 2 Dec.
    assert rows(date_from="2026-12-02", date_to="2026-12-02", actor="op_bandung") == [
        "person.view_full"
    ]
    assert rows(date_to="2026-12-01") == ["household.view"]
    event = AuditEvent.objects.filter(action="monitoring.audit_view").order_by("-id").first()
    assert event is not None
    assert event.detail["filters"]["date_to"] == "2026-12-01"


def test_a_bad_filter_is_named_and_nothing_is_listed(
    staff_client: Any, auditor: User, trail: None
) -> None:
    response = staff_client(auditor).get(PAGE, {"date_from": "kemarin", "region": "Bandung"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Tanggal YYYY-MM-DD" in html
    assert "Kode wilayah berupa angka" in html
    assert _actions(html) == []


def test_the_log_is_paged_without_counting_the_whole_table(
    staff_client: Any, auditor: User, bandung_operator: User
) -> None:
    inject(bandung_operator, dt.datetime(2026, 12, 1, 9, 0, tzinfo=WIB), n=51,
           action="household.view")  # fmt: skip
    client = staff_client(auditor)
    first = client.get(PAGE, {"action": "household."}).content.decode()
    assert len(_actions(first)) == 50
    assert 'rel="next" href="?action=household.&amp;page=2"' in first
    second = client.get(PAGE, {"action": "household.", "page": "2"}).content.decode()
    assert len(_actions(second)) == 1
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second


def test_a_supervisor_reads_their_regions_without_the_oversight_trail(
    staff_client: Any, supervisor: User, dpo: User, trail: None
) -> None:
    staff_client(dpo).get(PAGE, {"region": "3273"})  # the DPO looks at Bandung
    page = selectors.audit_events(user=supervisor, filters=selectors.AuditFilters())
    seen = [(e.actor_label, e.action) for e in page.rows]
    # Bandung and Bogor reads by operators; no log-in noise without a region, no auditor, no
    # trace of the DPO's looking.
    assert seen == [
        ("op_bandung", "person.view_full"),
        ("op_bogor", "household.view"),
        ("op_bandung", "household.view"),
    ]


def test_roles_outside_oversight_are_refused(
    staff_client: Any, bandung_operator: User, field_agent: User
) -> None:
    for user in (bandung_operator, field_agent):
        response = staff_client(user).get(PAGE)
        assert response.status_code == 403
        assert "Log audit hanya untuk" in response.content.decode()
    assert staff_client(bandung_operator).get("/api/monitoring/audit-events").status_code == 403


def test_the_api_pages_the_log_and_audits_its_reading(
    staff_client: Any, dpo: User, trail: None
) -> None:
    body = staff_client(dpo).get("/api/monitoring/audit-events", {"action": "household."}).json()
    assert body["page"] == 1
    assert body["has_next"] is False
    assert [e["actor"] for e in body["events"]] == ["auditor", "op_bogor", "op_bandung"]
    assert AuditEvent.objects.filter(action="monitoring.audit_view", actor=dpo).count() == 1
    bad = staff_client(dpo).get("/api/monitoring/audit-events", {"date_from": "x"})
    assert bad.status_code == 422
