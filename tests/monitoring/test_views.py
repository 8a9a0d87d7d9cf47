"""Monitoring pages: log-in required, htmx polling fragment, acknowledge and resolve buttons."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.accounts.models import User
from tepat.monitoring.models import Alert
from tepat.monitoring.services import alert_rule_create, alerts_check
from tepat.programs.models import Cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(supervisor: User, published: Cycle) -> Alert:
    alert_rule_create(
        acting_user=supervisor, name="Gagal", metric="failure_rate", threshold=1, region_code="3273"
    )
    alerts_check()
    return Alert.objects.get()


def test_the_page_needs_a_log_in(client: Any, regions: None) -> None:
    response = client.get("/pemantauan/")
    assert response.status_code == 302
    assert "/login" in response["Location"] or "masuk" in response["Location"]


def test_the_page_polls_its_live_fragment(
    staff_client: Any, bandung_operator: User, published: Cycle
) -> None:
    html = staff_client(bandung_operator).get("/pemantauan/").content.decode()
    assert 'hx-get="/pemantauan/langsung/"' in html
    assert 'hx-trigger="every 10s"' in html
    assert 'data-figure="paid">24<' in html  # Bandung only: Sukarasa 20 + Gegerkalong 4
    assert 'data-figure="grievances-open">0<' in html


def test_the_fragment_renders_alone(
    staff_client: Any, bandung_operator: User, alert: Alert
) -> None:
    response = staff_client(bandung_operator).get("/pemantauan/langsung/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert f'data-alert="{alert.public_id}"' in html


def test_buttons_acknowledge_and_resolve(
    staff_client: Any, bandung_operator: User, alert: Alert
) -> None:
    client = staff_client(bandung_operator)
    response = client.post(f"/pemantauan/peringatan/{alert.public_id}/akui/", {"note": "dicek"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == "acknowledged"
    client.post(f"/pemantauan/peringatan/{alert.public_id}/selesai/")
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_another_region_gets_not_found(
    staff_client: Any, bogor_operator: User, alert: Alert
) -> None:
    response = staff_client(bogor_operator).post(f"/pemantauan/peringatan/{alert.public_id}/akui/")
    assert response.status_code == 404


def test_the_api_lists_progress_and_alerts(
    staff_client: Any, bandung_operator: User, alert: Alert
) -> None:
    client = staff_client(bandung_operator)
    progress = client.get("/api/monitoring/progress").json()
    assert progress[0]["overall"]["total"] == 29
    alerts = client.get("/api/monitoring/alerts").json()
    assert [a["public_id"] for a in alerts] == [alert.public_id]
    response = client.post(
        f"/api/monitoring/alerts/{alert.public_id}/acknowledge",
        data={"note": "ok"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["state"] == "acknowledged"


def test_the_api_refuses_anonymous_callers(client: Any, regions: None) -> None:
    assert client.get("/api/monitoring/progress").status_code == 401
