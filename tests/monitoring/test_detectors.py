"""Breach detectors (UU 27/2022 Art. 46) with injected access patterns: reads against the
reader's own baseline, exports, reveals, failed log-ins, off-hours access; their settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory
from django.utils import timezone

from tepat.accounts import services as accounts
from tepat.accounts.models import User
from tepat.core.audit import audit_read
from tepat.core.errors import PermissionDenied
from tepat.core.models import AuditEvent
from tepat.monitoring import detectors
from tepat.monitoring.apps import _detector_settings
from tepat.monitoring.models import Alert, AlertState, Detection, Metric
from tepat.monitoring.selectors import alerts_visible
from tepat.monitoring.services import alert_resolve, detectors_run
from tests.monitoring.breach_cast import *  # noqa: F403 (fixtures: dpo, field_agent, banten_operator)
from tests.monitoring.breach_cast import NOW, WIB, inject, steady_history

pytestmark = pytest.mark.django_db


def _alerts(metric: str) -> list[Alert]:
    return list(Alert.objects.filter(rule__metric=metric).order_by("id"))


def _read_now(user: User, *, reads: int, records: int, minutes_ago: int = 20) -> None:
    """`reads` reads of `records` records each, just before NOW."""
    inject(user, NOW - dt.timedelta(minutes=minutes_ago), records=records, n=reads)


# --- reads against the reader's own baseline ----------------------------------------------


def test_a_steady_reader_who_suddenly_reads_twenty_times_their_usual_hour_raises_an_alert(
    bandung_operator: User,
) -> None:
    steady_history(bandung_operator, per_hour=10)
    _read_now(bandung_operator, reads=20, records=10)  # 200 records in one hour: 20 x usual
    result = detectors_run(now=NOW)
    (alert,) = _alerts(Metric.READ_SPIKE)
    assert alert.subject == f"user:{bandung_operator.pk}"
    assert alert.value == 200
    assert alert.region_code == ""  # national: only oversight roles see it
    detection = Detection.objects.get(alert=alert)
    # p95 of 72 active hours of 10 records is 10; 5 x 10 = 50 is below the floor of 100.
    assert detection.threshold == 100
    assert detection.detail["baseline"] == {"active_hours": 72, "median": 10.0, "p95": 10.0}
    assert detection.detail["limit_from"] == "baseline"
    assert "op_bandung: 200 records" in alert.note
    assert result.opened == 1
    assert AuditEvent.objects.filter(action="monitoring.alert_open", target_id=alert.public_id)


def test_a_reader_with_a_high_but_steady_baseline_raises_nothing(
    bandung_operator: User,
) -> None:
    steady_history(bandung_operator, per_hour=1000)
    _read_now(bandung_operator, reads=1, records=1000)
    config = detectors.detector_config()
    # Far above the floor and the new-user limit: only the baseline keeps it quiet.
    assert max(config.reads.floor, config.reads.new_user) < 1000
    detectors_run(now=NOW, config=config)
    assert _alerts(Metric.READ_SPIKE) == []


def test_the_same_reader_at_six_times_their_busy_hour_raises(bandung_operator: User) -> None:
    steady_history(bandung_operator, per_hour=1000)
    _read_now(bandung_operator, reads=6, records=1000)  # 6000 > 5 x p95 1000
    detectors_run(now=NOW)
    (detection,) = Detection.objects.filter(metric=Metric.READ_SPIKE)
    assert (detection.value, detection.threshold) == (6000, 5000)


def test_reads_recorded_by_core_audit_are_what_the_detector_counts(
    bandung_operator: User,
) -> None:
    for _ in range(6):  # the function every page and API answer calls: 600 records now
        audit_read(actor=bandung_operator, what="registry.search", count=100, region_code="3273")
    detectors_run(now=timezone.now())
    (alert,) = _alerts(Metric.READ_SPIKE)
    assert alert.value == 600


def test_a_reader_without_history_is_held_to_the_new_user_limit(
    bandung_operator: User, bogor_operator: User
) -> None:
    _read_now(bandung_operator, reads=4, records=100)  # 400: under 500
    _read_now(bogor_operator, reads=6, records=100)  # 600: over 500
    detectors_run(now=NOW)
    (alert,) = _alerts(Metric.READ_SPIKE)
    assert alert.subject == f"user:{bogor_operator.pk}"
    assert Detection.objects.get(alert=alert).detail["limit_from"] == "new_user"


def test_the_baseline_is_the_active_hours_95th_percentile() -> None:
    hours = [0, 0, 0] + [10] * 19 + [40]  # idle hours do not count; one busy hour in twenty
    base = detectors.baseline_of(hours)
    assert (base.active_hours, base.median, base.p95) == (20, 10.0, 10.0)
    assert detectors.baseline_of([]) == detectors.Baseline(0, None, None)


def test_running_the_detectors_again_adds_nothing_and_a_growing_hour_updates_its_finding(
    bandung_operator: User,
) -> None:
    steady_history(bandung_operator, per_hour=10)
    _read_now(bandung_operator, reads=20, records=10)
    first = detectors_run(now=NOW)
    again = detectors_run(now=NOW)
    assert (first.new, again.new, again.opened) == (1, 0, 0)
    _read_now(bandung_operator, reads=10, records=10, minutes_ago=10)
    grown = detectors_run(now=NOW)
    assert grown.updated == 1
    assert Alert.objects.get(rule__metric=Metric.READ_SPIKE).value == 300
    assert Detection.objects.count() == 1


def test_a_second_spiking_hour_joins_the_open_alert_and_a_resolved_one_starts_anew(
    bandung_operator: User, admin_user: User
) -> None:
    steady_history(bandung_operator, per_hour=10)
    _read_now(bandung_operator, reads=20, records=10, minutes_ago=200)
    _read_now(bandung_operator, reads=20, records=10, minutes_ago=20)
    detectors_run(now=NOW)
    (alert,) = _alerts(Metric.READ_SPIKE)
    assert alert.detections.count() == 2
    alert_resolve(acting_user=admin_user, public_id=alert.public_id, note="dicek")
    _read_now(bandung_operator, reads=20, records=10, minutes_ago=-60)  # the next hour
    detectors_run(now=NOW + dt.timedelta(hours=1))
    assert len(_alerts(Metric.READ_SPIKE)) == 2


def test_the_reader_an_alert_is_about_cannot_resolve_it(admin_user: User) -> None:
    _read_now(admin_user, reads=6, records=100)
    detectors_run(now=NOW)
    alert = Alert.objects.get(rule__metric=Metric.READ_SPIKE)
    with pytest.raises(PermissionDenied, match="tentang Anda"):
        alert_resolve(acting_user=admin_user, public_id=alert.public_id)
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN


def test_a_regional_operator_does_not_see_a_national_detector_alert(
    bandung_operator: User, auditor: User
) -> None:
    _read_now(bandung_operator, reads=6, records=100)
    detectors_run(now=NOW)
    alert = Alert.objects.get(rule__metric=Metric.READ_SPIKE)
    assert alert not in alerts_visible(user=bandung_operator)
    assert alert in alerts_visible(user=auditor)


# --- exports and reveals -----------------------------------------------------------------------


def test_an_export_spike_raises(bandung_operator: User, bogor_operator: User) -> None:
    steady_history(bandung_operator, per_hour=1, action="integration.quarantine_download")
    steady_history(bogor_operator, per_hour=1, action="integration.quarantine_download")
    at = NOW - dt.timedelta(minutes=30)
    inject(bandung_operator, at, action="integration.quarantine_download", n=10)
    inject(bogor_operator, at, action="integration.quarantine_download", n=2)  # usual-ish
    detectors_run(now=NOW)
    (alert,) = _alerts(Metric.EXPORT_SPIKE)
    assert alert.subject == f"user:{bandung_operator.pk}"
    detection = Detection.objects.get(alert=alert)
    assert (detection.value, detection.threshold) == (10, 3)


def test_exports_are_found_by_their_action_names_whoever_writes_them(
    bandung_operator: User,
) -> None:
    at = NOW - dt.timedelta(minutes=30)
    inject(bandung_operator, at, action="privacy.access_export", n=6, records=None)
    inject(bandung_operator, at, action="transparency.export", n=1, records=None)
    detectors_run(now=NOW)
    (detection,) = Detection.objects.filter(metric=Metric.EXPORT_SPIKE)
    assert detection.value == 7  # over the new-user limit of 5


def test_a_reveal_spike_raises_counting_revealed_reads_of_any_page(bandung_operator: User) -> None:
    at = NOW - dt.timedelta(minutes=30)
    inject(bandung_operator, at, action="person.view_full", n=7)
    inject(bandung_operator, at, action="integration.quarantine_view", detail={"revealed": True},
           n=4)  # fmt: skip
    inject(bandung_operator, at, action="integration.quarantine_view",
           detail={"revealed": False}, n=30)  # fmt: skip
    detectors_run(now=NOW)
    (detection,) = Detection.objects.filter(metric=Metric.REVEAL_SPIKE)
    assert (detection.value, detection.threshold) == (11, 10)


# --- failed log-ins: through the real log-in service ------------------------------------------


def _attempt(username: str, ip: str) -> None:
    request = RequestFactory().post("/accounts/masuk/", REMOTE_ADDR=ip)
    with pytest.raises(accounts.LoginRefused):
        accounts.login_check_password(username=username, password="salah-sekali", request=request)


def test_repeated_failed_log_ins_on_one_account_raise(bandung_operator: User) -> None:
    for i in range(10):
        _attempt("op_bandung", f"198.51.{i}.7")  # spread over networks: per account only
    for _ in range(9):
        _attempt("op_bogor_tidak_ada", "192.0.2.1")
    detectors_run(now=timezone.now())
    (alert,) = _alerts(Metric.FAILED_LOGINS)
    assert alert.subject == f"user:{bandung_operator.pk}"
    assert alert.value == 10


def test_failed_log_ins_on_an_unknown_name_count_per_name(regions: None) -> None:
    for _ in range(10):
        _attempt("admin", "192.0.2.1")
    detectors_run(now=timezone.now())
    (alert,) = _alerts(Metric.FAILED_LOGINS)
    assert alert.subject == "account:admin"


def test_password_spraying_from_one_network_raises_per_network(regions: None) -> None:
    for i in range(30):
        _attempt(f"pengguna{i}", f"203.0.113.{i + 1}")  # one try per name, one /24
    detectors_run(now=timezone.now())
    (alert,) = _alerts(Metric.FAILED_LOGINS)
    assert alert.subject == "net:203.0.113.0/24"
    detection = Detection.objects.get(alert=alert)
    assert detection.detail["accounts"] == 30


def test_ipv6_addresses_count_by_their_64_prefix(regions: None) -> None:
    config = detectors.detector_config().failed_logins
    assert detectors.network_of("2001:db8:1:2:aaaa::1", config) == "2001:db8:1:2::/64"
    assert detectors.network_of("203.0.113.77", config) == "203.0.113.0/24"


# --- off-hours access --------------------------------------------------------------------------


def test_a_read_at_night_raises_an_off_hours_alert(bandung_operator: User) -> None:
    inject(bandung_operator, dt.datetime(2026, 12, 8, 22, 15, tzinfo=WIB), records=3)
    detectors_run(now=NOW)
    (alert,) = _alerts(Metric.OFF_HOURS)
    detection = Detection.objects.get(alert=alert)
    assert detection.detail["local_date"] == "2026-12-08"
    assert detection.detail["hours"] == ["22:00"]


def test_reads_in_office_hours_raise_nothing(bandung_operator: User) -> None:
    inject(bandung_operator, dt.datetime(2026, 12, 9, 9, 15, tzinfo=WIB), records=3)
    inject(bandung_operator, dt.datetime(2026, 12, 8, 18, 59, tzinfo=WIB), records=3)
    detectors_run(now=NOW)
    assert _alerts(Metric.OFF_HOURS) == []


def test_a_weekend_read_raises(bandung_operator: User) -> None:
    saturday = dt.datetime(2026, 12, 12, 10, 0, tzinfo=WIB)
    inject(bandung_operator, saturday, records=1)
    detectors_run(now=saturday + dt.timedelta(hours=1))
    assert len(_alerts(Metric.OFF_HOURS)) == 1


def test_office_hours_holidays_and_exempt_roles_are_settings(
    bandung_operator: User, field_agent: User, settings: Any
) -> None:
    at = dt.datetime(2026, 12, 9, 8, 30, tzinfo=WIB)
    inject(bandung_operator, at, records=1)
    inject(field_agent, at, records=1)
    settings.TEPAT_BREACH_DETECTORS = {"off_hours": {"start": "09:00"}}
    detectors_run(now=NOW)
    assert len(_alerts(Metric.OFF_HOURS)) == 2
    Alert.objects.all().delete()
    settings.TEPAT_BREACH_DETECTORS = {
        "off_hours": {"start": "08:00", "holidays": ["2026-12-09"], "exempt_roles": ["field_agent"]}
    }
    detectors_run(now=NOW)
    (alert,) = _alerts(Metric.OFF_HOURS)
    assert alert.subject == f"user:{bandung_operator.pk}"


def test_office_hours_that_start_within_an_hour_are_read_event_by_event(
    bandung_operator: User, settings: Any
) -> None:
    settings.TEPAT_BREACH_DETECTORS = {"off_hours": {"start": "08:30"}}
    inject(bandung_operator, dt.datetime(2026, 12, 9, 8, 40, tzinfo=WIB), records=1)
    detectors_run(now=NOW)
    assert _alerts(Metric.OFF_HOURS) == []
    inject(bandung_operator, dt.datetime(2026, 12, 9, 8, 20, tzinfo=WIB), records=1)
    detectors_run(now=NOW)
    (detection,) = Detection.objects.filter(metric=Metric.OFF_HOURS)
    assert detection.value == 1


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({"reads": {"factr": 3}}, "reads.factr"),
        ({"reads": {"factor": "five"}}, "reads.factor"),
        ({"reads": {"factor": 0.5}}, "reads.factor"),
        ({"exports": {"floor": 2.5}}, "exports.floor"),
        ({"exports": {"actions": "*export*"}}, "exports.actions"),
        ({"failed_logins": {"per_account": True}}, "failed_logins.per_account"),
        ({"failed_logins": {"ipv4_prefix": 33}}, "failed_logins.ipv4_prefix"),
        ({"off_hours": {"start": "7 pagi"}}, "off_hours.start"),
        ({"off_hours": {"start": "19:00", "end": "07:00"}}, "off_hours.end"),
        ({"off_hours": {"timezone": "Asia/Bandung"}}, "off_hours.timezone"),
        ({"off_hours": {"days": [1, 7]}}, "off_hours.days"),
        ({"off_hours": {"holidays": ["17-08-2026"]}}, "off_hours.holidays"),
        ({"off_hours": {"exempt_roles": ["satpam"]}}, "off_hours.exempt_roles"),
        ({"off_hours": {"enabled": "yes"}}, "off_hours.enabled"),
        ({"baseline_days": 0}, "baseline_days"),
        ({"reads": 5}, "reads"),
        ('{"reads": ', "(text)"),
        ([1, 2], "(value)"),
    ],
)
def test_a_bad_setting_is_an_error_naming_it(value: Any, key: str) -> None:
    with pytest.raises(detectors.DetectorConfigError) as error:
        detectors.detector_config(value)
    assert error.value.field == key
    assert error.value.message.startswith(f"TEPAT_BREACH_DETECTORS: {key}: ")


def test_settings_come_as_json_text_from_the_environment(settings: Any) -> None:
    settings.TEPAT_BREACH_DETECTORS = '{"reads": {"floor": 7}, "off_hours": {"days": [0]}}'
    config = detectors.detector_config()
    assert config.reads.floor == 7
    assert config.reads.factor == 5.0  # the rest keeps its default
    assert config.off_hours.days == frozenset({0})


def test_the_command_and_the_system_check_refuse_a_bad_setting(settings: Any) -> None:
    settings.TEPAT_BREACH_DETECTORS = {"reads": {"floor": -1}}
    with pytest.raises(CommandError, match=r"reads\.floor"):
        call_command("monitoring", "detect")
    (error,) = _detector_settings(None)
    assert error.id == "monitoring.E001"
    assert "reads.floor" in error.msg


def test_the_detect_command_replays_a_moment_and_check_alerts_runs_the_detectors(
    bandung_operator: User, capsys: Any
) -> None:
    _read_now(bandung_operator, reads=6, records=100)
    call_command("monitoring", "detect", "--at", NOW.isoformat())
    assert "alerts opened 1" in capsys.readouterr().out
    inject(bandung_operator, timezone.now() - dt.timedelta(minutes=1), records=600)
    call_command("monitoring", "check-alerts")
    out = capsys.readouterr().out
    assert "checked 0" in out
    assert "detectors:" in out
    with pytest.raises(CommandError, match="offset"):
        call_command("monitoring", "detect", "--at", "2026-12-09T10:00")
