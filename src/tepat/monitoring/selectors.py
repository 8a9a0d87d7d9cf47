"""Reads for operators: live progress per cycle, region and channel, rates, alerts. Everything
is filtered by the user's regions (tepat.accounts.scoping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr

from tepat.accounts.scoping import can_see_region, region_q
from tepat.core.errors import NotFound
from tepat.monitoring.grievances import GrievanceBacklog, grievance_backlog
from tepat.monitoring.models import Alert, AlertState, Metric
from tepat.payments.models import Channel, Difference, Payment, PaymentState
from tepat.programs.models import Cycle
from tepat.regions.selectors import region_names

ACTIVE_CYCLE_STATES = ("approved", "distributed")
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
    if metric in (Metric.BULK_READS, Metric.LEDGER_INTEGRITY):
        return None  # pushed (core.audit's counter, the ledger's sequencer), not measured here
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
