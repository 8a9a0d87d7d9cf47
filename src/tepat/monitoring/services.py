"""Writes of monitoring: alert rules, the periodic check that raises alerts, acknowledge/resolve;
the breach detectors' alerts; the incident register (open, change, status, notices)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.models import Role
from tepat.accounts.scoping import can_see_region
from tepat.core.audit import BulkRead, audit_record, bulk_read_limits
from tepat.core.errors import PermissionDenied, Problems, TepatError
from tepat.ledger.anchor import IntegrityFailure
from tepat.monitoring import detectors, selectors
from tepat.monitoring.models import (
    NOTICE_HOURS,
    Alert,
    AlertRule,
    AlertState,
    DataCategory,
    Detection,
    Incident,
    IncidentEvent,
    IncidentNotice,
    IncidentStatus,
    Metric,
    NoticeAudience,
    NoticeChannel,
    Severity,
)
from tepat.regions.selectors import region_exists

if TYPE_CHECKING:
    from tepat.accounts.models import User


ACTING_ROLES: set[str] = {Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR}
RULE_ROLES: set[str] = {Role.ADMIN, Role.SUPERVISOR}
# Metrics measured elsewhere and pushed here (never evaluated by alerts_check).
PUSHED_METRICS = {Metric.BULK_READS, Metric.LEDGER_INTEGRITY} | set(selectors.DETECTOR_METRICS)
CYCLE_METRICS = {m for m in Metric.values if m != Metric.GRIEVANCE_OVERDUE} - PUSHED_METRICS
BULK_READ_RULE_NAME = "Pembacaan data pribadi dalam jumlah besar / bulk personal-data reads"
LEDGER_RULE_NAME = "Log transparansi menolak menandatangani / the transparency log refused to sign"


def _can(user: Any, roles: set[str]) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and (user.is_superuser or user.role in roles)
    )


def alert_rule_create(
    *, acting_user: User | None, name: str, metric: str, threshold: float, region_code: str = ""
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
            "Ambang diatur lewat TEPAT_BULK_READ_ALERT_ROWS/EVENTS atau TEPAT_BREACH_DETECTORS / "
            "set by TEPAT_BULK_READ_ALERT_ROWS/EVENTS or TEPAT_BREACH_DETECTORS",
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
    *, acting_user: User, public_id: str, to: str, allowed_from: set[str], note: str
) -> Alert:
    if not can_act_on_alerts(acting_user):
        raise PermissionDenied(ALERTS_READ_ONLY)
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


ALERTS_READ_ONLY = (
    "Peran Anda hanya dapat membaca peringatan: tidak boleh mengakui atau menyelesaikannya / "
    "your role may read alerts, not acknowledge or resolve them"
)


def can_act_on_alerts(user: Any) -> bool:
    """Who acknowledges and resolves alerts (auditors and field agents read them only)."""
    return _can(user, ACTING_ROLES)


def alert_acknowledge(*, acting_user: User, public_id: str, note: str = "") -> Alert:
    return _transition(
        acting_user=acting_user,
        public_id=public_id,
        to=AlertState.ACKNOWLEDGED,
        allowed_from={AlertState.OPEN},
        note=note,
    )


def alert_resolve(*, acting_user: User, public_id: str, note: str = "") -> Alert:
    return _transition(
        acting_user=acting_user,
        public_id=public_id,
        to=AlertState.RESOLVED,
        allowed_from={AlertState.OPEN, AlertState.ACKNOWLEDGED},
        note=note,
    )


# --- breach detectors: findings become alerts ------------------------------------------------

DETECTOR_RULE_NAMES: dict[str, str] = {
    Metric.READ_SPIKE: "Lonjakan pembacaan data pribadi / personal-data read spike",
    Metric.EXPORT_SPIKE: "Lonjakan ekspor dan unduhan / export and download spike",
    Metric.REVEAL_SPIKE: "Lonjakan pembukaan data lengkap / spike of full-record reveals",
    Metric.FAILED_LOGINS: "Log-in gagal berulang / repeated failed log-ins",
    Metric.OFF_HOURS: "Akses di luar jam kerja / access outside office hours",
}


@dataclass
class DetectResult:
    findings: int = 0
    new: int = 0  # findings not seen before
    opened: int = 0  # alerts opened for them
    updated: int = 0  # findings seen before whose value grew


def _finding_note(f: detectors.Finding) -> str:
    start = timezone.localtime(f.window_start)
    when = f"{start:%Y-%m-%d %H:%M}" if f.metric != Metric.OFF_HOURS else f"{start:%Y-%m-%d}"
    base = f.detail.get("baseline") or {}
    if f.detail.get("limit_from") == "baseline":
        why = (
            f"batas {f.threshold:g} = {f.detail['factor']:g} x p95 {base.get('p95'):g} "
            f"dari {base.get('active_hours')} jam aktif (median {base.get('median'):g}), "
            f"minimal {f.detail['floor']} / limit {f.threshold:g}: factor x p95 of the user's "
            f"active hours in {f.detail['baseline_days']} days, at least the floor"
        )
    elif f.detail.get("limit_from") == "new_user":
        why = (
            f"batas pengguna baru {f.threshold:g} (riwayat {base.get('active_hours', 0)} jam "
            f"aktif) / new-user limit {f.threshold:g}"
        )
    elif f.metric == Metric.OFF_HOURS:
        why = (
            f"di luar {f.detail['office']} {f.detail['timezone']} atau hari kerja / outside "
            f"office hours, at {', '.join(f.detail['hours'])}"
        )
    else:
        why = f"batas / limit {f.threshold:g} per jam / per hour ({f.detail.get('per')})"
    unit = f.detail.get("unit", "")
    return f"{f.label}: {f.value:g} {unit} {when} ({why})"


def _detection_apply(f: detectors.Finding) -> str:
    """Record one finding: "new" (and its alert opened or refreshed), "opened" (a new alert),
    "updated" (seen before, value grew) or "seen"."""
    with transaction.atomic():
        current = (
            Detection.objects.select_for_update()
            .filter(metric=f.metric, subject=f.subject, window_start=f.window_start)
            .select_related("alert")
            .first()
        )
        now = timezone.now()
        if current is not None:
            if f.value <= current.value:
                return "seen"
            current.value, current.threshold, current.detail = f.value, f.threshold, f.detail
            current.save(update_fields=["value", "threshold", "detail"])
            alert = current.alert
            alert.value = max(alert.value, f.value)
            alert.last_seen_at = now
            alert.save(update_fields=["value", "last_seen_at"])
            return "updated"
        rule, _created = AlertRule.objects.get_or_create(
            metric=f.metric,
            region_code="",
            defaults={"name": DETECTOR_RULE_NAMES[f.metric], "threshold": f.threshold},
        )
        open_alert = (
            Alert.objects.select_for_update()
            .filter(rule=rule, subject=f.subject)
            .exclude(state=AlertState.RESOLVED)
            .first()
        )
        note = _finding_note(f)
        outcome = "new"
        if open_alert is not None:
            alert = open_alert
            alert.value = max(alert.value, f.value)
            alert.last_seen_at = now
            alert.note = (alert.note + "\n" if alert.note else "") + note
            alert.save(update_fields=["value", "last_seen_at", "note"])
        else:
            alert = Alert.objects.create(
                rule=rule, cycle=None, region_code="", value=f.value, opened_at=now,
                last_seen_at=now, subject=f.subject, note=note,
            )  # fmt: skip
            audit_record(
                actor=None,
                action="monitoring.alert_open",
                target_type="Alert",
                target_id=alert.public_id,
                detail={"rule": rule.public_id, "metric": f.metric, "value": f.value,
                        "threshold": f.threshold, "subject": f.subject, "who": f.label,
                        "window_start": f.window_start.isoformat()},
            )  # fmt: skip
            outcome = "opened"
        Detection.objects.create(
            alert=alert, metric=f.metric, subject=f.subject, window_start=f.window_start,
            window_end=f.window_end, value=f.value, threshold=f.threshold, detail=f.detail,
        )  # fmt: skip
    return outcome


def detectors_run(
    *, now: dt.datetime | None = None, config: detectors.DetectorConfig | None = None
) -> DetectResult:
    """Run every breach detector over the last `lookback_hours` and raise alerts for what they
    find (national alerts: read by admins, auditors and the DPO; the person an alert is about
    cannot close it). Safe to re-run: a finding already recorded adds nothing."""
    config = config or detectors.detector_config()
    result = DetectResult()
    for finding in detectors.findings(now=now or timezone.now(), config=config):
        result.findings += 1
        try:
            outcome = _detection_apply(finding)
        except IntegrityError:  # a parallel run recorded the same finding first
            continue
        if outcome in ("new", "opened"):
            result.new += 1
        result.opened += outcome == "opened"
        result.updated += outcome == "updated"
    return result


# --- incidents (UU 27/2022 Art. 46) -----------------------------------------------------------

# Who may do what with incidents; scoped roles only within their regions (selectors).
INCIDENT_MANAGERS: frozenset[str] = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DPO})
INCIDENT_REPORTERS: frozenset[str] = INCIDENT_MANAGERS | {Role.OPERATOR}
CLOCK_SKEW = dt.timedelta(minutes=5)
INCIDENT_FIELDS = (
    "title", "description", "severity", "region_code", "detected_at", "affected_estimate",
    "data_categories", "consequences", "measures", "contact",
)  # fmt: skip


def _role(user: Any) -> str:
    return str(Role.ADMIN) if getattr(user, "is_superuser", False) else str(user.role)


def _may_act_on_incident_region(user: Any, region_code: str, roles: frozenset[str]) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if _role(user) not in roles:
        return False
    if selectors.is_oversight_national(user):
        return True
    return bool(region_code) and can_see_region(user, region_code)


def default_contact() -> str:
    """TEPAT_DPO_CONTACT: whom the notices name for questions (the DPO's office)."""
    return str(getattr(settings, "TEPAT_DPO_CONTACT", "") or "")


def _clean_incident(values: dict[str, Any], problems: Problems, *, user: Any) -> dict[str, Any]:
    """Validate the incident fields present in `values`; return them cleaned."""
    out: dict[str, Any] = {}
    if "title" in values:
        title = str(values["title"] or "").strip()
        if not title:
            problems.error("title", "required", _("Judul wajib diisi."))
        elif len(title) > 200:
            problems.error("title", "too_long", _("Judul paling panjang 200 karakter."))
        out["title"] = title
    for name in ("description", "consequences", "measures"):
        if name in values:
            out[name] = str(values[name] or "").strip()
    if "contact" in values:
        out["contact"] = str(values["contact"] or "").strip()[:255]
    if "severity" in values:
        if values["severity"] not in Severity.values:
            problems.error("severity", "invalid", _("Tingkat keparahan tidak dikenal."))
        out["severity"] = values["severity"]
    if "region_code" in values:
        code = str(values["region_code"] or "").strip().replace(".", "")
        if code and not region_exists(code):
            problems.error("region_code", "unknown_region", _("Wilayah tidak dikenal: %s") % code)
        elif not _may_act_on_incident_region(user, code, INCIDENT_REPORTERS):
            problems.error(
                "region_code", "forbidden", _("Wilayah di luar cakupan Anda (nasional: kosong).")
            )
        out["region_code"] = code
    if "detected_at" in values:
        at = values["detected_at"]
        if not isinstance(at, dt.datetime) or timezone.is_naive(at):
            problems.error("detected_at", "invalid", _("Waktu terdeteksi tidak valid."))
        elif at > timezone.now() + CLOCK_SKEW:
            problems.error(
                "detected_at", "future", _("Waktu terdeteksi tidak boleh di masa depan.")
            )
        out["detected_at"] = at
    if "affected_estimate" in values:
        n = values["affected_estimate"]
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            problems.error(
                "affected_estimate", "invalid", _("Perkiraan jumlah subjek tidak valid.")
            )
        out["affected_estimate"] = n
    if "data_categories" in values:
        cats = list(dict.fromkeys(values["data_categories"] or []))
        unknown = [c for c in cats if c not in DataCategory.values]
        if unknown:
            problems.error(
                "data_categories",
                "invalid",
                _("Kategori data tidak dikenal: %s") % ", ".join(unknown),
            )
        out["data_categories"] = cats
    return out


def _incident_event(
    incident: Incident,
    *,
    actor: Any,
    kind: str,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> IncidentEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return IncidentEvent.objects.create(
        incident=incident, at=timezone.now(), actor=user,
        actor_label=getattr(actor, "username", "") or "system", kind=kind, note=note,
        detail=detail or {},
    )  # fmt: skip


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _incident_audit(
    incident: Incident, *, actor: Any, action: str, detail: dict[str, Any], request: Any = None
) -> None:
    audit_record(
        actor=actor, action=f"monitoring.incident_{action}", target_type="Incident",
        target_id=incident.public_id, region_code=incident.region_code, request=request,
        detail={k: _jsonable(v) for k, v in detail.items()},
    )  # fmt: skip


def _alerts_for(user: Any, alert_ids: Iterable[str]) -> list[Alert]:
    return [selectors.breach_alert_get(user=user, public_id=a) for a in dict.fromkeys(alert_ids)]


def incident_open(
    *,
    acting_user: User,
    title: str,
    severity: str = Severity.MEDIUM,
    description: str = "",
    region_code: str = "",
    detected_at: dt.datetime | None = None,
    affected_estimate: int | None = None,
    data_categories: Iterable[str] = (),
    consequences: str = "",
    measures: str = "",
    contact: str | None = None,
    alert_ids: Iterable[str] = (),
    request: Any = None,
) -> Incident:
    """Open an incident. Its notice clock runs from `detected_at` (default: now): the data
    subjects and the authority must be told within 3 x 24 hours (Art. 46(1))."""
    if not (
        getattr(acting_user, "is_authenticated", False)
        and getattr(acting_user, "is_active", False)
        and _role(acting_user) in INCIDENT_REPORTERS
    ):
        raise PermissionDenied(_("Peran Anda tidak boleh membuka insiden."))
    problems = Problems()
    fields = _clean_incident(
        {
            "title": title, "severity": severity, "description": description,
            "region_code": region_code, "detected_at": detected_at or timezone.now(),
            "affected_estimate": affected_estimate, "data_categories": list(data_categories),
            "consequences": consequences, "measures": measures,
            "contact": default_contact() if contact is None else contact,
        },
        problems,
        user=acting_user,
    )  # fmt: skip
    problems.raise_if_errors()
    alerts = _alerts_for(acting_user, alert_ids)
    with transaction.atomic(durable=True):
        incident = Incident.objects.create(
            **fields,
            notice_due_at=fields["detected_at"] + dt.timedelta(hours=NOTICE_HOURS),
            opened_by=acting_user,
        )
        incident.alerts.set(alerts)
        _incident_event(
            incident, actor=acting_user, kind=IncidentEvent.Kind.OPENED,
            detail={"severity": incident.severity, "alerts": [a.public_id for a in alerts]},
        )  # fmt: skip
        _incident_audit(
            incident, actor=acting_user, action="open", request=request,
            detail={"title": incident.title, "severity": incident.severity,
                    "detected_at": incident.detected_at, "notice_due_at": incident.notice_due_at,
                    "alerts": [a.public_id for a in alerts]},
        )  # fmt: skip
    return incident


def incident_open_from_alert(
    *, acting_user: User, alert_public_id: str, request: Any = None
) -> tuple[Incident, bool]:
    """Open an incident from an alert (its clock starts when the alert was raised), or return
    the incident not yet closed that the alert already belongs to: (incident, created)."""
    alert = selectors.breach_alert_get(user=acting_user, public_id=alert_public_id)
    existing = alert.incidents.exclude(status=IncidentStatus.CLOSED).order_by("id").first()
    if existing is not None and selectors.incident_visible(acting_user, existing):
        return existing, False
    who = alert.note.split(":", 1)[0].strip() if alert.subject and ":" in alert.note else ""
    title = (f"{alert.rule.name} — {who}" if who else alert.rule.name)[:200]
    incident = incident_open(
        acting_user=acting_user,
        title=title,
        severity=Severity.HIGH
        if alert.rule.metric in selectors.BREACH_METRICS
        else Severity.MEDIUM,
        description=alert.note,
        region_code=alert.region_code,
        detected_at=alert.opened_at,
        alert_ids=[alert.public_id],
        request=request,
    )
    return incident, True


def _incident_for_action(acting_user: User, public_id: str, *, roles: frozenset[str]) -> Incident:
    incident = selectors.incident_get(user=acting_user, public_id=public_id)
    if not _may_act_on_incident_region(acting_user, incident.region_code, roles):
        raise PermissionDenied(_("Peran Anda hanya dapat membaca insiden ini."))
    return Incident.objects.select_for_update().get(pk=incident.pk)


def incident_update(
    *, acting_user: User, public_id: str, changes: Mapping[str, Any], request: Any = None
) -> Incident:
    """Change an incident's description fields; every change is kept (before and after). Moving
    `detected_at` moves the notice deadline with it."""
    unknown = sorted(set(changes) - set(INCIDENT_FIELDS))
    if unknown:
        raise TepatError(_("Kolom tidak dikenal: %s") % ", ".join(unknown), code="invalid")
    with transaction.atomic(durable=True):
        incident = _incident_for_action(acting_user, public_id, roles=INCIDENT_MANAGERS)
        problems = Problems()
        clean = _clean_incident(dict(changes), problems, user=acting_user)
        problems.raise_if_errors()
        diff = {
            k: {"before": _jsonable(getattr(incident, k)), "after": _jsonable(v)}
            for k, v in clean.items()
            if getattr(incident, k) != v
        }
        if not diff:
            return incident
        for k, v in clean.items():
            setattr(incident, k, v)
        if "detected_at" in diff:
            incident.notice_due_at = incident.detected_at + dt.timedelta(hours=NOTICE_HOURS)
        incident.save()
        _incident_event(incident, actor=acting_user, kind=IncidentEvent.Kind.UPDATED,
                        detail={"changed": sorted(diff)})  # fmt: skip
        _incident_audit(incident, actor=acting_user, action="update", request=request,
                        detail={"changes": diff})  # fmt: skip
    return incident


# Where an incident may go from each status. Closed reopens to assessing only.
STATUS_MOVES: dict[str, frozenset[str]] = {
    IncidentStatus.OPEN: frozenset({IncidentStatus.ASSESSING, IncidentStatus.CONTAINED,
                                    IncidentStatus.NOTIFIED, IncidentStatus.CLOSED}),
    IncidentStatus.ASSESSING: frozenset({IncidentStatus.CONTAINED, IncidentStatus.NOTIFIED,
                                         IncidentStatus.CLOSED}),
    IncidentStatus.CONTAINED: frozenset({IncidentStatus.ASSESSING, IncidentStatus.NOTIFIED,
                                         IncidentStatus.CLOSED}),
    IncidentStatus.NOTIFIED: frozenset({IncidentStatus.CONTAINED, IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset({IncidentStatus.ASSESSING}),
}  # fmt: skip


def incident_set_status(
    *, acting_user: User, public_id: str, status: str, note: str = "", request: Any = None
) -> Incident:
    """Move an incident on. "Notified" needs a recorded notice to the subjects and to the
    authority; closing without them, and reopening, need a note saying why."""
    note = note.strip()
    with transaction.atomic(durable=True):
        incident = _incident_for_action(acting_user, public_id, roles=INCIDENT_MANAGERS)
        before = incident.status
        if status not in IncidentStatus.values:
            raise TepatError(_("Status tidak dikenal."), code="invalid", field="status")
        if status not in STATUS_MOVES[before]:
            raise TepatError(
                _("Status tidak dapat berpindah dari %(a)s ke %(b)s.")
                % {"a": IncidentStatus(before).label, "b": IncidentStatus(status).label},
                code="invalid_transition",
                field="status",
            )
        if status == IncidentStatus.NOTIFIED and incident.notices_done_at is None:
            raise TepatError(
                _("Catat dahulu pemberitahuan kepada subjek data dan kepada lembaga."),
                code="notices_missing",
                field="status",
            )
        needs_reason = before == IncidentStatus.CLOSED or (
            status == IncidentStatus.CLOSED and incident.notices_done_at is None
        )
        if needs_reason and len(note) < 5:
            raise TepatError(
                _("Tuliskan alasannya (mis. bukan kegagalan pelindungan data pribadi)."),
                code="reason_required",
                field="note",
            )
        incident.status = status
        incident.closed_at = timezone.now() if status == IncidentStatus.CLOSED else None
        incident.save(update_fields=["status", "closed_at"])
        _incident_event(incident, actor=acting_user, kind=IncidentEvent.Kind.STATUS, note=note,
                        detail={"before": before, "after": status})  # fmt: skip
        _incident_audit(incident, actor=acting_user, action="status", request=request,
                        detail={"before": before, "after": status, "note": note})  # fmt: skip
    return incident


def incident_link_alert(
    *, acting_user: User, public_id: str, alert_public_id: str, request: Any = None
) -> Incident:
    with transaction.atomic(durable=True):
        incident = _incident_for_action(acting_user, public_id, roles=INCIDENT_MANAGERS)
        alert = selectors.breach_alert_get(user=acting_user, public_id=alert_public_id)
        if incident.alerts.filter(pk=alert.pk).exists():
            return incident
        incident.alerts.add(alert)
        _incident_event(incident, actor=acting_user, kind=IncidentEvent.Kind.ALERT,
                        note=alert.rule.name, detail={"alert": alert.public_id})  # fmt: skip
        _incident_audit(incident, actor=acting_user, action="link_alert", request=request,
                        detail={"alert": alert.public_id})  # fmt: skip
    return incident


def incident_note_add(
    *, acting_user: User, public_id: str, note: str, request: Any = None
) -> IncidentEvent:
    note = note.strip()
    if not note:
        raise TepatError(_("Catatan kosong."), code="required", field="note")
    with transaction.atomic(durable=True):
        incident = _incident_for_action(acting_user, public_id, roles=INCIDENT_MANAGERS)
        event = _incident_event(incident, actor=acting_user, kind=IncidentEvent.Kind.NOTE,
                                note=note)  # fmt: skip
        _incident_audit(incident, actor=acting_user, action="note", request=request,
                        detail={"note": note[:500]})  # fmt: skip
    return event


def incident_notice_record(
    *,
    acting_user: User,
    public_id: str,
    audience: str,
    language: str,
    channel: str,
    body: str,
    sent_at: dt.datetime | None = None,
    recipients: int | None = None,
    reference: str = "",
    request: Any = None,
) -> IncidentNotice:
    """Record that a notice was sent (Tepat does not send it): to the data subjects or to the
    authority, when, by whom, how, and its text. When both have been told, the clock stops
    (`notices_done_at`) and an incident still being handled moves to "notified"."""
    problems = Problems()
    if audience not in NoticeAudience.values:
        problems.error("audience", "invalid", _("Penerima pemberitahuan tidak dikenal."))
    if language not in ("id", "en"):
        problems.error("language", "invalid", _("Bahasa tidak dikenal."))
    if channel not in NoticeChannel.values:
        problems.error("channel", "invalid", _("Saluran tidak dikenal."))
    if not body.strip():
        problems.error("body", "required", _("Isi pemberitahuan wajib diisi."))
    sent_at = sent_at or timezone.now()
    if timezone.is_naive(sent_at) or sent_at > timezone.now() + CLOCK_SKEW:
        problems.error("sent_at", "future", _("Waktu kirim tidak boleh di masa depan."))
    if recipients is not None and recipients < 0:
        problems.error("recipients", "invalid", _("Jumlah penerima tidak valid."))
    problems.raise_if_errors()
    with transaction.atomic(durable=True):
        incident = _incident_for_action(acting_user, public_id, roles=INCIDENT_MANAGERS)
        if incident.status == IncidentStatus.CLOSED:
            raise TepatError(_("Insiden sudah ditutup."), code="closed")
        notice = IncidentNotice.objects.create(
            incident=incident, audience=audience, language=language, channel=channel,
            recipients=recipients, reference=reference.strip()[:120], body=body.strip(),
            sent_at=sent_at, sent_by=acting_user,
        )  # fmt: skip
        _incident_event(
            incident, actor=acting_user, kind=IncidentEvent.Kind.NOTICE,
            note=f"{NoticeAudience(audience).label} · {NoticeChannel(channel).label}",
            detail={"audience": audience, "language": language, "channel": channel,
                    "sent_at": sent_at.isoformat(), "recipients": recipients},
        )  # fmt: skip
        _incident_audit(
            incident, actor=acting_user, action="notice", request=request,
            detail={"audience": audience, "language": language, "channel": channel,
                    "sent_at": sent_at, "recipients": recipients, "reference": notice.reference},
        )  # fmt: skip
        firsts = [
            incident.notices.filter(audience=a)
            .order_by("sent_at")
            .values_list("sent_at", flat=True)
            .first()
            for a in NoticeAudience.values
        ]
        if incident.notices_done_at is None and all(firsts):
            incident.notices_done_at = max(f for f in firsts if f is not None)
            fields = ["notices_done_at"]
            if incident.status in (IncidentStatus.OPEN, IncidentStatus.ASSESSING,
                                   IncidentStatus.CONTAINED):  # fmt: skip
                before, incident.status = incident.status, IncidentStatus.NOTIFIED
                fields.append("status")
                _incident_event(incident, actor=acting_user, kind=IncidentEvent.Kind.STATUS,
                                detail={"before": before, "after": incident.status})  # fmt: skip
            incident.save(update_fields=fields)
    return notice


def can_open_incident(user: Any) -> bool:
    """Whether the user may open incidents at all (in which region: `_clean_incident`)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and _role(user) in INCIDENT_REPORTERS
    )


def can_manage_incident(user: Any, incident: Incident) -> bool:
    return _may_act_on_incident_region(user, incident.region_code, INCIDENT_MANAGERS)
