"""Reads for operators: live progress per cycle, region and channel, rates, alerts; for the
oversight roles: the incident register and the audit log. Everything is filtered by the user's
regions (tepat.accounts.scoping); the DPO reads incidents and the audit log nation-wide."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Substr
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tepat.accounts.models import Role
from tepat.accounts.scoping import can_see_region, region_q
from tepat.core.errors import NotFound, PermissionDenied, Problems
from tepat.core.models import AuditEvent
from tepat.monitoring.grievances import GrievanceBacklog, grievance_backlog
from tepat.monitoring.models import (
    DATA_CATEGORY_EN,
    DATA_CATEGORY_ID,
    Alert,
    AlertState,
    Incident,
    IncidentEvent,
    IncidentNotice,
    IncidentStatus,
    Metric,
    NoticeAudience,
)
from tepat.payments.models import Channel, Difference, Payment, PaymentState
from tepat.programs.models import Cycle
from tepat.regions.selectors import region_names

ACTIVE_CYCLE_STATES = ("approved", "distributed")
# Raised by the breach detectors (monitoring.detectors).
DETECTOR_METRICS = (
    Metric.READ_SPIKE, Metric.EXPORT_SPIKE, Metric.REVEAL_SPIKE, Metric.FAILED_LOGINS,
    Metric.OFF_HOURS,
)  # fmt: skip
# Alerts about the protection of personal data: what the DPO sees and may open incidents from.
BREACH_METRICS = frozenset({*DETECTOR_METRICS, Metric.BULK_READS, Metric.LEDGER_INTEGRITY})
# Oversight roles reading incidents and the audit log nation-wide.
OVERSIGHT_NATIONAL = frozenset({Role.ADMIN, Role.AUDITOR, Role.DPO})
INCIDENT_READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.DPO, Role.SUPERVISOR, Role.OPERATOR})
AUDIT_READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.DPO, Role.SUPERVISOR})
AUDIT_PAGE_SIZE = 50
FAILED = (PaymentState.FAILED, PaymentState.DEAD)


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Progress:
    """Payment counts by state with the rates operators watch."""

    states: dict[str, int] = field(default_factory=lambda: {s: 0 for s in PaymentState.values})
    amount_paid: int = 0
    reconciled: int = 0

    def add(self, state: str, n: int, amount: int | None, reconciled: int = 0) -> None:
        self.states[state] = self.states.get(state, 0) + n
        if state == PaymentState.PAID:
            self.amount_paid += amount or 0
            self.reconciled += reconciled

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def paid(self) -> int:
        return self.states[PaymentState.PAID]

    @property
    def failed(self) -> int:
        return sum(self.states[s] for s in FAILED)

    @property
    def percent_done(self) -> int:
        done = self.paid + self.failed + self.states[PaymentState.CANCELLED]
        return round(100 * done / self.total) if self.total else 0

    @property
    def failure_rate(self) -> float | None:
        """Failed (permanently or repeatedly) out of all payments with an outcome."""
        return _rate(self.failed, self.paid + self.failed)

    @property
    def reconciliation_rate(self) -> float | None:
        """Paid payments matched against a provider statement."""
        return _rate(self.reconciled, self.paid)

    @property
    def unreconciled_rate(self) -> float | None:
        rate = self.reconciliation_rate
        return None if rate is None else round(100 - rate, 1)


@dataclass
class CycleLive:
    cycle: Cycle
    overall: Progress
    by_channel: list[tuple[str, Progress]]
    by_province: list[tuple[str, str, Progress]]
    differences: int


def active_cycles() -> QuerySet[Cycle]:
    return (
        Cycle.objects.filter(state__in=ACTIVE_CYCLE_STATES)
        .select_related("programme")
        .order_by("period_start", "id")
    )


def _payments(user: Any, region_code: str = "") -> QuerySet[Payment]:
    qs = (
        Payment.objects.filter(region_q(user, "village_code"))
        if user is not None
        else (Payment.objects.all())
    )
    if region_code:
        qs = qs.filter(village_code__startswith=region_code)
    return qs


def unexplained_differences(*, cycle: Cycle, user: Any = None, region_code: str = "") -> int:
    """Unexplained reconciliation differences of a cycle, within the user's regions: a
    difference is in a region when the payment it refers to is."""
    qs = Difference.objects.filter(cycle=cycle, explanation="")
    if user is not None or region_code:
        keys = _payments(user, region_code).filter(cycle=cycle).values("payment_key")
        qs = qs.filter(reference_id__in=keys)
    return qs.count()


def live_progress(*, user: Any) -> list[CycleLive]:
    """Progress of every active cycle, per channel and per province, within the user's regions."""
    cycles = list(active_cycles())
    if not cycles:
        return []
    base = _payments(user).filter(cycle__in=cycles).order_by()
    reconciled_q = Count("id", filter=Q(reconciled=True))
    by_channel: dict[int, dict[str, Progress]] = {}
    overall: dict[int, Progress] = {c.pk: Progress() for c in cycles}
    for r in base.values("cycle_id", "channel", "state").annotate(
        n=Count("id"), amount=Sum("amount"), rec=reconciled_q
    ):
        overall[r["cycle_id"]].add(r["state"], r["n"], r["amount"], r["rec"])
        by_channel.setdefault(r["cycle_id"], {}).setdefault(r["channel"], Progress()).add(
            r["state"], r["n"], r["amount"], r["rec"]
        )
    by_province: dict[int, dict[str, Progress]] = {}
    rows = (
        base.annotate(province=Substr("village_code", 1, 2))
        .values("cycle_id", "province", "state")
        .annotate(n=Count("id"), amount=Sum("amount"), rec=reconciled_q)
    )
    for r in rows:
        by_province.setdefault(r["cycle_id"], {}).setdefault(r["province"], Progress()).add(
            r["state"], r["n"], r["amount"], r["rec"]
        )
    codes = {p for d in by_province.values() for p in d}
    names = region_names(codes)
    channel_labels = dict(Channel.choices)
    return [
        CycleLive(
            cycle=c,
            overall=overall[c.pk],
            by_channel=[
                (str(channel_labels.get(k, k)), v)
                for k, v in sorted(by_channel.get(c.pk, {}).items())
            ],
            by_province=[
                (k, names.get(k, k), v) for k, v in sorted(by_province.get(c.pk, {}).items())
            ],
            differences=unexplained_differences(cycle=c, user=user),
        )
        for c in cycles
    ]


def metric_value(*, metric: str, cycle: Cycle | None, region_code: str) -> float | None:
    """The current value of a rule's metric (None when there is nothing to measure yet)."""
    if metric in (Metric.BULK_READS, Metric.LEDGER_INTEGRITY, *DETECTOR_METRICS):
        return None  # pushed (core.audit's counter, the ledger's sequencer, the detectors)
    if metric == Metric.GRIEVANCE_OVERDUE:
        backlog = grievance_backlog(region_code=region_code)
        return float(backlog.overdue)
    if cycle is None:
        return None
    if metric == Metric.DIFFERENCES:
        return float(unexplained_differences(cycle=cycle, region_code=region_code))
    progress = Progress()
    rows = (
        _payments(None, region_code)
        .filter(cycle=cycle)
        .order_by()
        .values("state")
        .annotate(n=Count("id"), amount=Sum("amount"), rec=Count("id", filter=Q(reconciled=True)))
    )
    for r in rows:
        progress.add(r["state"], r["n"], r["amount"], r["rec"])
    if metric == Metric.DEAD_LETTERS:
        return float(progress.states[PaymentState.DEAD])
    if metric == Metric.FAILURE_RATE:
        return progress.failure_rate
    if metric == Metric.UNRECONCILED_RATE:
        return progress.unreconciled_rate
    raise ValueError(f"unknown metric {metric}")


def alerts_visible(*, user: Any, include_resolved: bool = False) -> list[Alert]:
    """Alerts in the user's regions; a national alert ("") only for nation-wide roles."""
    qs = Alert.objects.select_related("rule", "cycle__programme").order_by("-opened_at", "-id")
    if not include_resolved:
        qs = qs.exclude(state=AlertState.RESOLVED)
    return [a for a in qs[:500] if can_see_region(user, a.region_code)]


def alert_get(*, user: Any, public_id: str) -> Alert:
    alert = Alert.objects.select_related("rule").filter(public_id=public_id).first()
    if alert is None or not can_see_region(user, alert.region_code):
        raise NotFound()
    return alert


def backlog(*, user: Any) -> GrievanceBacklog:
    return grievance_backlog(user=user)


# --- oversight: breach alerts, incidents, the audit log ----------------------------------------


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def _role(user: Any) -> str:
    return str(Role.ADMIN) if getattr(user, "is_superuser", False) else str(user.role)


def is_oversight_national(user: Any) -> bool:
    """Admins, auditors and the DPO read incidents and the audit log of every region."""
    return _active(user) and _role(user) in OVERSIGHT_NATIONAL


def breach_alert_visible(user: Any, alert: Alert) -> bool:
    if not _active(user):
        return False
    if _role(user) == Role.DPO:
        return alert.rule.metric in BREACH_METRICS
    return can_see_region(user, alert.region_code)


def breach_alert_get(*, user: Any, public_id: str) -> Alert:
    """An alert the user may open an incident from (the DPO: breach alerts only)."""
    alert = Alert.objects.select_related("rule").filter(public_id=public_id).first()
    if alert is None or not breach_alert_visible(user, alert):
        raise NotFound()
    return alert


def breach_alerts_open(*, user: Any) -> list[Alert]:
    """Open and acknowledged breach alerts not yet part of an incident, for the incident page."""
    qs = (
        Alert.objects.select_related("rule")
        .filter(rule__metric__in=BREACH_METRICS)
        .exclude(state=AlertState.RESOLVED)
        .exclude(incidents__isnull=False)
        .order_by("-opened_at", "-id")
    )
    return [a for a in qs[:200] if breach_alert_visible(user, a)]


def can_read_incidents(user: Any) -> bool:
    return _active(user) and _role(user) in INCIDENT_READERS


def incident_q(user: Any) -> Q:
    """Incidents `user` may read: oversight roles all; supervisors and operators those of a
    region inside their scopes (never a national one)."""
    if not can_read_incidents(user):
        return Q(pk__in=[])
    if is_oversight_national(user):
        return Q()
    q = Q(pk__in=[])
    for code in user.region_codes:
        q |= Q(region_code__startswith=code)
    return q & ~Q(region_code="")


def incident_visible(user: Any, incident: Incident) -> bool:
    return Incident.objects.filter(incident_q(user), pk=incident.pk).exists()


def require_incident_reader(user: Any) -> None:
    if not can_read_incidents(user):
        raise PermissionDenied(
            "Peran Anda tidak dapat membuka register insiden / your role cannot open the "
            "incident register"
        )


def incident_get(*, user: Any, public_id: str) -> Incident:
    require_incident_reader(user)
    incident = Incident.objects.filter(incident_q(user), public_id=public_id).first()
    if incident is None:
        raise NotFound()
    return incident


@dataclass(frozen=True)
class Clock:
    """The 3 x 24-hour notice clock of one incident at one moment."""

    due: dt.datetime
    left: dt.timedelta  # negative once overdue
    stopped: bool  # notices given, or closed
    done_at: dt.datetime | None

    @property
    def overdue(self) -> bool:
        return not self.stopped and self.left < dt.timedelta(0)

    @property
    def late(self) -> bool:
        """Notices given after the deadline."""
        return self.done_at is not None and self.done_at > self.due

    @property
    def hours_left(self) -> int:
        return int(self.left.total_seconds() // 3600)

    @property
    def text(self) -> str:
        """How long left (or how long overdue): "2 hari 5 jam", "5 jam 12 menit"."""
        seconds = int(abs(self.left.total_seconds()))
        days, rest = divmod(seconds, 86400)
        hours, minutes = rest // 3600, rest % 3600 // 60
        if days:
            return _("%(d)d hari %(h)d jam") % {"d": days, "h": hours}
        return _("%(h)d jam %(m)d menit") % {"h": hours, "m": minutes}


def incident_clock(incident: Incident, *, now: dt.datetime | None = None) -> Clock:
    now = now or timezone.now()
    return Clock(
        due=incident.notice_due_at,
        left=incident.notice_due_at - now,
        stopped=incident.notices_done_at is not None or incident.status == IncidentStatus.CLOSED,
        done_at=incident.notices_done_at,
    )


@dataclass(frozen=True)
class IncidentRow:
    incident: Incident
    clock: Clock


INCIDENT_FILTERS = ("running", "all", "closed")


def incidents_visible(
    *, user: Any, which: str = "running", now: dt.datetime | None = None
) -> list[IncidentRow]:
    """Incidents the user may read: overdue first (most overdue on top), then running clocks by
    time left, then those whose clock has stopped, newest first. `which`: "running" (clock
    still running), "closed", or "all"."""
    require_incident_reader(user)
    now = now or timezone.now()
    stopped = Q(notices_done_at__isnull=False) | Q(status=IncidentStatus.CLOSED)
    qs = Incident.objects.filter(incident_q(user))
    if which == "running":
        qs = qs.exclude(stopped)
    elif which == "closed":
        qs = qs.filter(status=IncidentStatus.CLOSED)
    qs = qs.annotate(
        rank=Case(
            When(stopped, then=Value(2)),
            When(notice_due_at__lt=now, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        running_due=Case(When(stopped, then=Value(None)), default=F("notice_due_at")),
    ).order_by("rank", F("running_due").asc(nulls_last=True), "-detected_at", "-id")
    return [IncidentRow(i, incident_clock(i, now=now)) for i in qs[:500]]


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    kind: str
    label: str
    who: str
    note: str
    detail: dict[str, Any]


def incident_timeline(*, incident: Incident) -> list[TimelineItem]:
    """Detection, then every recorded step, in time order."""
    items = [
        TimelineItem(incident.detected_at, "detected", "Terdeteksi", "", "", {}),
        TimelineItem(incident.notice_due_at, "deadline", "Batas pemberitahuan (3 x 24 jam)", "",
                     "", {}),
    ]  # fmt: skip
    kinds = dict(IncidentEvent.Kind.choices)
    for e in incident.events.order_by("at", "id"):
        items.append(
            TimelineItem(
                e.at, e.kind, str(kinds.get(e.kind, e.kind)), e.actor_label, e.note, e.detail
            )
        )
    return sorted(items, key=lambda i: i.at)


def incident_notices(*, incident: Incident) -> list[IncidentNotice]:
    return list(incident.notices.select_related("sent_by").order_by("sent_at", "id"))


def notice_context(incident: Incident) -> dict[str, Any]:
    local = timezone.localtime(incident.detected_at)
    return {
        "incident": incident,
        "detected_local": local,
        "categories_id": [DATA_CATEGORY_ID.get(c, c) for c in incident.data_categories],
        "categories_en": [DATA_CATEGORY_EN.get(c, c) for c in incident.data_categories],
    }


def notice_draft(*, incident: Incident, audience: str, language: str) -> str:
    """The notice pre-filled from the incident (Art. 46(2): which data, when and how, what was
    done), for the data subjects or the authority, in Bahasa Indonesia ("id") or English."""
    if audience not in NoticeAudience.values or language not in ("id", "en"):
        raise NotFound()
    with translation.override(language):  # month names in the notice's language
        text = render_to_string(
            f"monitoring/notices/{audience}_{language}.txt", notice_context(incident)
        )
    return text.strip()


def notice_drafts(*, incident: Incident) -> list[tuple[str, str, str, str]]:
    """(audience, audience label, language, text) for every audience and language."""
    return [
        (a.value, str(a.label), lang, notice_draft(incident=incident, audience=a, language=lang))
        for a in NoticeAudience
        for lang in ("id", "en")
    ]


# --- the audit log ------------------------------------------------------------------------------


def can_read_audit(user: Any) -> bool:
    return _active(user) and _role(user) in AUDIT_READERS


def audit_q(user: Any) -> Q:
    """Audit events `user` may read: oversight roles all; a supervisor those of their regions,
    without the oversight trail (what auditors, the DPO and monitoring did), so that whoever is
    being looked at cannot watch the looking."""
    if not can_read_audit(user):
        return Q(pk__in=[])
    if is_oversight_national(user):
        return Q()
    q = Q(pk__in=[])
    for code in user.region_codes:
        q |= Q(region_code__startswith=code)
    oversight = Q(actor__role__in=[Role.AUDITOR, Role.DPO]) | Q(action__startswith="monitoring.")
    return q & ~Q(region_code="") & ~oversight


@dataclass
class AuditFilters:
    actor: str = ""
    action: str = ""
    region: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor, "action": self.action, "region": self.region,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "", "page": self.page,
        }  # fmt: skip


def audit_filters(raw: dict[str, Any]) -> AuditFilters:
    """Filters from a query string: actor (user name), action (a prefix, e.g. "login." or
    "person.view"), region (a code prefix), dates (local, Asia/Jakarta, inclusive)."""
    problems = Problems()
    out = AuditFilters(
        actor=str(raw.get("actor") or "").strip()[:150],
        action=str(raw.get("action") or "").strip()[:64],
        region=str(raw.get("region") or "").strip().replace(".", "")[:10],
    )
    if out.region and not out.region.isdigit():
        problems.error("region", "invalid", "Kode wilayah berupa angka / a region code is digits")
    for name in ("date_from", "date_to"):
        value = str(raw.get(name) or "").strip()
        if value:
            try:
                setattr(out, name, dt.date.fromisoformat(value))
            except ValueError:
                problems.error(name, "invalid", "Tanggal YYYY-MM-DD / a date YYYY-MM-DD")
    if out.date_from and out.date_to and out.date_from > out.date_to:
        problems.error("date_to", "invalid", "Tanggal akhir sebelum awal / end before start")
    page = str(raw.get("page") or "1").strip()
    if not page.isdigit() or not 1 <= int(page) <= 10_000:
        problems.error("page", "invalid", "Halaman tidak valid / invalid page")
    else:
        out.page = int(page)
    problems.raise_if_errors()
    return out


@dataclass
class AuditPage:
    rows: list[AuditEvent]
    filters: AuditFilters
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.filters.page > 1


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0)))


def audit_events(*, user: Any, filters: AuditFilters) -> AuditPage:
    """One page of the audit log, newest first, within the user's reach. Pages by offset without
    counting the whole table (a national log holds many millions of rows)."""
    if not can_read_audit(user):
        raise PermissionDenied(
            "Peran Anda tidak dapat membaca log audit / your role cannot read the audit log"
        )
    qs = AuditEvent.objects.filter(audit_q(user)).select_related("actor")
    if filters.actor:
        qs = qs.filter(actor_label__iexact=filters.actor)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.region:
        qs = qs.filter(region_code__startswith=filters.region)
    if filters.date_from:
        qs = qs.filter(at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_local_midnight(filters.date_to + dt.timedelta(days=1)))
    start = (filters.page - 1) * AUDIT_PAGE_SIZE
    rows = list(qs.order_by("-at", "-id")[start : start + AUDIT_PAGE_SIZE + 1])
    return AuditPage(rows[:AUDIT_PAGE_SIZE], filters, len(rows) > AUDIT_PAGE_SIZE)
