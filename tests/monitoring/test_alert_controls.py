"""Alert buttons (acknowledge, resolve) are shown only to roles that act on alerts; an auditor
reads the alerts, and a post anyway is the 403 page with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.monitoring.models import Alert
from tepat.monitoring.services import alert_rule_create, alerts_check
from tepat.programs.models import Cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(supervisor: Any, published: Cycle) -> Alert:
    alert_rule_create(
        acting_user=supervisor, name="Gagal", metric="failure_rate", threshold=1, region_code="3273"
    )
    alerts_check()
    return Alert.objects.get()


def test_an_auditor_reads_the_alert_without_its_buttons(
    staff_client: Any, auditor: Any, alert: Alert
):
    html = staff_client(auditor).get("/pemantauan/langsung/", HTTP_HX_REQUEST="true")
    text = html.content.decode()
    assert f'data-alert="{alert.public_id}"' in text
    assert f"/pemantauan/peringatan/{alert.public_id}/" not in text


def test_an_operator_sees_the_buttons(staff_client: Any, bandung_operator: Any, alert: Alert):
    text = staff_client(bandung_operator).get("/pemantauan/").content.decode()
    assert f"/pemantauan/peringatan/{alert.public_id}/akui/" in text
    assert f"/pemantauan/peringatan/{alert.public_id}/selesai/" in text


def test_an_auditors_post_is_the_403_page_and_changes_nothing(
    staff_client: Any, auditor: Any, alert: Alert
):
    response = staff_client(auditor).post(f"/pemantauan/peringatan/{alert.public_id}/selesai/")
    assert response.status_code == 403
    assert "your role may read alerts, not acknowledge or resolve them" in (
        response.content.decode()
    )
    alert.refresh_from_db()
    assert alert.state == "open"
