"""Writes of monitoring: alert rules, the periodic check that raises alerts, acknowledge/resolve."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from tepat.accounts.models import Role
from tepat.accounts.scoping import can_see_region
from tepat.core.audit import BulkRead, audit_record, bulk_read_limits
from tepat.core.errors import PermissionDenied, Problems
from tepat.ledger.anchor import IntegrityFailure
from tepat.monitoring import selectors
from tepat.monitoring.models import Alert, AlertRule, AlertState, Metric
from tepat.regions.selectors import region_exists

ACTING_ROLES: set[str] = {Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR}
RULE_ROLES: set[str] = {Role.ADMIN, Role.SUPERVISOR}
# Metrics measured elsewhere and pushed here (never evaluated by alerts_check).
PUSHED_METRICS = {Metric.BULK_READS, Metric.LEDGER_INTEGRITY}
CYCLE_METRICS = {m for m in Metric.values if m != Metric.GRIEVANCE_OVERDUE} - PUSHED_METRICS
BULK_READ_RULE_NAME = "Pembacaan data pribadi dalam jumlah besar / bulk personal-data reads"
LEDGER_RULE_NAME = "Log transparansi menolak menandatangani / the transparency log refused to sign"


def _can(user: Any, roles: set[str]) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and (user.is_superuser or user.role in roles)
    )


def alert_rule_create(
    *, acting_user: Any, name: str, metric: str, threshold: float, region_code: str = ""
) -> AlertRule:
    if acting_user is not None and not _can(acting_user, RULE_ROLES):
        raise PermissionDenied()
    problems = Problems()
    if not name.strip():
        problems.error("name", "required", "Nama wajib diisi / name is required")
    if metric not in Metric.values:
        problems.error("metric", "invalid", f"Metrik tidak dikenal / unknown metric: {metric}")
    elif metric in PUSHED_METRICS:
        problems.error(
            "metric",
            "invalid",
            "Ambang diatur lewat TEPAT_BULK_READ_ALERT_ROWS/EVENTS / "
            "set by TEPAT_BULK_READ_ALERT_ROWS/EVENTS",
        )
    if threshold < 0:
        problems.error("threshold", "invalid", "Ambang tidak boleh negatif / threshold < 0")
    if region_code and not region_exists(region_code):
        problems.error("region_code", "unknown_region", f"Wilayah tidak dikenal: {region_code}")
    if acting_user is not None and not can_see_region(acting_user, region_code):
        problems.error("region_code", "forbidden", "Di luar wilayah Anda / outside your regions")
    problems.raise_if_errors()
    with transaction.atomic(durable=True):
        rule = AlertRule.objects.create(
            name=name.strip(),
            metric=metric,
            threshold=threshold,
            region_code=region_code,
            created_by=acting_user,
        )
        audit_record(
            actor=acting_user,
            action="monitoring.rule_create",
            target_type="AlertRule",
            target_id=rule.public_id,
            region_code=region_code,
            detail={"metric": metric, "threshold": threshold},
        )
    return rule


@dataclass
class CheckResult:
    opened: int = 0
    still_firing: int = 0
    checked: int = 0


def alerts_check(*, now: dt.datetime | None = None) -> CheckResult:
    """Evaluate every active rule against every active cycle; open an alert where a value is
    above its threshold and none is open for that rule and cycle. Alerts are never closed
    automatically: a person resolves them, so a breach that heals itself is still seen."""
    now = now or timezone.now()
    result = CheckResult()
    cycles = list(selectors.active_cycles())
    for rule in AlertRule.objects.filter(active=True).exclude(metric__in=PUSHED_METRICS):
        targets = cycles if rule.metric in CYCLE_METRICS else [None]
        for cycle in targets:
            value = selectors.metric_value(
                metric=rule.metric, cycle=cycle, region_code=rule.region_code
            )
            result.checked += 1
            if value is None or value <= rule.threshold:
                continue
            with transaction.atomic(durable=True):
                current = (
                    Alert.objects.select_for_update()
                    .filter(rule=rule, cycle=cycle)
                    .exclude(state=AlertState.RESOLVED)
                    .first()
                )
                if current is not None:
                    current.value = value
                    current.last_seen_at = now
                    current.save(update_fields=["value", "last_seen_at"])
                    result.still_firing += 1
                    continue
                alert = Alert.objects.create(
                    rule=rule,
                    cycle=cycle,
                    region_code=rule.region_code,
                    value=value,
                    opened_at=now,
                    last_seen_at=now,
                )
                audit_record(
                    actor=None,
                    action="monitoring.alert_open",
                    target_type="Alert",
                    target_id=alert.public_id,
                    region_code=rule.region_code,
                    detail={"rule": rule.public_id, "metric": rule.metric, "value": value},
                )
                result.opened += 1
    return result


def bulk_read_alert(event: BulkRead) -> Alert:
    """Open (or refresh) the alert about one user's unusual read volume: registered with
    core.audit.on_bulk_read in MonitoringConfig.ready. National (region ""), so that only
    nation-wide roles see it, and never acknowledged or resolved by the reader."""
    max_records, max_reads = bulk_read_limits()
    subject = f"user:{event.actor_id}"
    value = float(event.records if event.reason == "records" else event.reads)
    note = (
        f"{event.actor_label}: {event.records} catatan dalam {event.reads} pembacaan sejak "
        f"{event.window_start:%Y-%m-%d %H:%M} UTC (terakhir {event.what}, wilayah "
        f"{event.region_code or 'nasional'}) / {event.records} records in {event.reads} reads"
    )
    with transaction.atomic():
        rule, _created = AlertRule.objects.get_or_create(
            metric=Metric.BULK_READS,
            region_code="",
            defaults={"name": BULK_READ_RULE_NAME, "threshold": float(max_records)},
        )
        current = (
            Alert.objects.select_for_update()
            .filter(rule=rule, subject=subject)
            .exclude(state=AlertState.RESOLVED)
            .first()
        )
        now = timezone.now()
        if current is not None:
            current.value = max(current.value, value)
            current.last_seen_at = now
            current.note = (current.note + "\n" if current.note else "") + note
            current.save(update_fields=["value", "last_seen_at", "note"])
            return current
        alert = Alert.objects.create(
            rule=rule,
            cycle=None,
            region_code="",
            value=value,
            opened_at=now,
            last_seen_at=now,
            subject=subject,
            note=note,
        )
        audit_record(
            actor=None,
            action="monitoring.alert_open",
            target_type="Alert",
            target_id=alert.public_id,
            detail={
                "rule": rule.public_id,
                "metric": rule.metric,
                "value": value,
                "subject": subject,
                "reader": event.actor_label,
                "reason": event.reason,
                "limits": {"records": max_records, "reads": max_reads},
                "region_code": event.region_code,
            },
        )
    return alert


def ledger_integrity_alert(failure: IntegrityFailure) -> Alert:
    """Open (or refresh) the national alert about a refused checkpoint: registered with
    ledger.anchor.on_integrity_failure in MonitoringConfig.ready. It stays open until someone
    resolves it after `tepat ledger reanchor` (or a restore) has cleared the cause."""
    note = f"{failure.at} {failure.reason}: {failure.message}"
    with transaction.atomic():
        rule, _created = AlertRule.objects.get_or_create(
            metric=Metric.LEDGER_INTEGRITY,
            region_code="",
            defaults={"name": LEDGER_RULE_NAME, "threshold": 0.0},
        )
        current = (
            Alert.objects.select_for_update()
            .filter(rule=rule)
            .exclude(state=AlertState.RESOLVED)
            .first()
        )
        now = timezone.now()
        if current is not None:
            current.value += 1
            current.last_seen_at = now
            current.note = (current.note + "\n" if current.note else "") + note
            current.save(update_fields=["value", "last_seen_at", "note"])
            return current
        alert = Alert.objects.create(
            rule=rule, cycle=None, region_code="", value=1.0, opened_at=now, last_seen_at=now,
            subject="ledger", note=note,
        )  # fmt: skip
        audit_record(
            actor=None,
            action="monitoring.alert_open",
            target_type="Alert",
            target_id=alert.public_id,
            detail={"rule": rule.public_id, "metric": rule.metric, "reason": failure.reason,
                    "message": failure.message},
        )  # fmt: skip
    return alert


def _transition(
    *, acting_user: Any, public_id: str, to: str, allowed_from: set[str], note: str
) -> Alert:
    if not _can(acting_user, ACTING_ROLES):
        raise PermissionDenied()
    with transaction.atomic(durable=True):
        alert = selectors.alert_get(user=acting_user, public_id=public_id)
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.subject and alert.subject == f"user:{acting_user.pk}":
            raise PermissionDenied(
                "Peringatan ini tentang Anda / this alert is about you: another person decides"
            )
        if alert.state not in allowed_from:
            raise PermissionDenied(
                f"Peringatan sudah {alert.get_state_display()} / alert is already {alert.state}"
            )
        before = alert.state
        now = timezone.now()
        alert.state = to
        if to == AlertState.ACKNOWLEDGED:
            alert.acknowledged_at, alert.acknowledged_by = now, acting_user
        else:
            alert.resolved_at, alert.resolved_by = now, acting_user
        if note.strip():
            alert.note = (alert.note + "\n" if alert.note else "") + note.strip()
        alert.save()
        audit_record(
            actor=acting_user,
            action=f"monitoring.alert_{to}",
            target_type="Alert",
            target_id=alert.public_id,
            region_code=alert.region_code,
            detail={"before": before, "after": to, "note": note.strip()},
        )
    return alert


def alert_acknowledge(*, acting_user: Any, public_id: str, note: str = "") -> Alert:
    return _transition(
        acting_user=acting_user,
        public_id=public_id,
        to=AlertState.ACKNOWLEDGED,
        allowed_from={AlertState.OPEN},
        note=note,
    )


def alert_resolve(*, acting_user: Any, public_id: str, note: str = "") -> Alert:
    return _transition(
        acting_user=acting_user,
        public_id=public_id,
        to=AlertState.RESOLVED,
        allowed_from={AlertState.OPEN, AlertState.ACKNOWLEDGED},
        note=note,
    )
