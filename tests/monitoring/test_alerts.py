"""Alert rules, `monitoring check-alerts`, acknowledge and resolve."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tepat.accounts.models import User
from tepat.core.errors import NotFound, PermissionDenied, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.monitoring.models import Alert, AlertRule
from tepat.monitoring.selectors import alerts_visible
from tepat.monitoring.services import (
    alert_acknowledge,
    alert_resolve,
    alert_rule_create,
    alerts_check,
)
from tepat.programs.models import Cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def bandung_rule(supervisor: User) -> AlertRule:
    return alert_rule_create(
        acting_user=supervisor,
        name="Kegagalan Bandung",
        metric="failure_rate",
        threshold=5.0,
        region_code="3273",
    )


def test_a_rule_above_its_threshold_opens_one_alert(
    bandung_rule: AlertRule, published: Cycle
) -> None:
    result = alerts_check()
    assert result.opened == 1
    alert = Alert.objects.get()
    assert alert.cycle == published
    assert alert.region_code == "3273"
    assert alert.value == round(100 * 2 / 26, 1)  # 24 paid and 2 failed in Kota Bandung
    again = alerts_check()
    assert again.opened == 0
    assert again.still_firing == 1
    assert Alert.objects.count() == 1


def test_a_rule_below_its_threshold_stays_quiet(admin_user: User, published: Cycle) -> None:
    alert_rule_create(
        acting_user=admin_user, name="Banten", metric="failure_rate", threshold=5, region_code="36"
    )
    assert alerts_check().opened == 0


def test_the_grievance_rule_stays_quiet_without_overdue_grievances(
    admin_user: User, published: Cycle
) -> None:
    alert_rule_create(
        acting_user=admin_user, name="Tenggat", metric="grievance_overdue", threshold=0
    )
    result = alerts_check()
    assert result.checked == 1
    assert result.opened == 0


def test_acknowledge_then_resolve_records_who_and_why(
    bandung_rule: AlertRule, bandung_operator: User, published: Cycle
) -> None:
    alerts_check()
    alert = Alert.objects.get()
    alert_acknowledge(acting_user=bandung_operator, public_id=alert.public_id, note="cek BRI")
    alert.refresh_from_db()
    assert alert.state == "acknowledged"
    assert alert.acknowledged_by == bandung_operator
    alert_resolve(acting_user=bandung_operator, public_id=alert.public_id, note="sudah dibayar")
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert alert.note == "cek BRI\nsudah dibayar"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"monitoring.alert_acknowledged", "monitoring.alert_resolved"} <= actions
    assert alerts_visible(user=bandung_operator) == []
    # A resolved alert that fires again opens a new one.
    assert alerts_check().opened == 1


def test_a_resolved_alert_cannot_be_acknowledged(
    bandung_rule: AlertRule, bandung_operator: User, published: Cycle
) -> None:
    alerts_check()
    alert = Alert.objects.get()
    alert_resolve(acting_user=bandung_operator, public_id=alert.public_id)
    with pytest.raises(PermissionDenied):
        alert_acknowledge(acting_user=bandung_operator, public_id=alert.public_id)


def test_an_operator_of_another_region_neither_sees_nor_acts(
    bandung_rule: AlertRule, bogor_operator: User, published: Cycle
) -> None:
    alerts_check()
    alert = Alert.objects.get()
    assert alerts_visible(user=bogor_operator) == []
    with pytest.raises(NotFound):
        alert_acknowledge(acting_user=bogor_operator, public_id=alert.public_id)


def test_an_auditor_sees_alerts_but_cannot_act(
    bandung_rule: AlertRule, auditor: User, published: Cycle
) -> None:
    alerts_check()
    alert = Alert.objects.get()
    assert alerts_visible(user=auditor) == [alert]
    with pytest.raises(PermissionDenied):
        alert_resolve(acting_user=auditor, public_id=alert.public_id)


def test_operators_cannot_write_rules_and_bad_rules_are_refused(
    bandung_operator: User, supervisor: User
) -> None:
    with pytest.raises(PermissionDenied):
        alert_rule_create(
            acting_user=bandung_operator, name="x", metric="failure_rate", threshold=1
        )
    with pytest.raises(ValidationFailed) as error:
        alert_rule_create(
            acting_user=supervisor, name="", metric="nope", threshold=-1, region_code="36"
        )
    fields = {p.field for p in error.value.problems}
    assert fields == {"name", "metric", "threshold", "region_code"}


def test_the_commands_add_a_rule_and_check(published: Cycle, capsys) -> None:
    call_command(
        "monitoring", "add-rule", "--name", "Gagal", "--metric", "failure_rate", "--threshold", "1"
    )
    call_command("monitoring", "check-alerts")
    out = capsys.readouterr().out
    assert "failure_rate > 1.0" in out
    assert "opened 1" in out
