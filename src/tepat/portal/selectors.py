"""Reads for the public status check (Cek Bansos): only what a citizen may see.

The answer carries a masked name, programmes, desil, status per tahap, amount, channel, schedule
and pick-up place, and nothing else (no NIK, no address, no account number). "Not found" and
"wrong name" return the same None after the same single query, so an answer cannot tell them
apart, and neither can its timing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Value

from tepat.core import crypto
from tepat.core.masking import mask_name
from tepat.payments.models import Channel, Payment, PaymentState
from tepat.programs.models import CycleState, Entitlement, EntitlementState
from tepat.registry.cleaning import name_search_key
from tepat.registry.models import Person
from tepat.targeting.models import HouseholdScore, ScoringRun

VISIBLE_CYCLES = (CycleState.APPROVED, CycleState.DISTRIBUTED, CycleState.ENDED)


@dataclass
class TahapRow:
    programme: str
    cycle: str
    tahap: int
    period_start: dt.date
    period_end: dt.date
    amount: int
    status: str  # a payment state, else the entitlement state
    status_label: str
    channel: str
    collection_place: str
    collection_from: dt.datetime | None
    collection_until: dt.datetime | None


@dataclass
class StatusResult:
    masked_name: str
    village_code: str
    desil: int | None
    rows: list[TahapRow] = field(default_factory=list)

    @property
    def programmes(self) -> list[str]:
        return sorted({r.programme for r in self.rows})


def _latest_run_id() -> int | None:
    # Cached briefly: the latest finished scoring run changes a few times a year.
    run_id: int | None = cache.get("portal:latest_run")
    if run_id is None:
        run = ScoringRun.objects.filter(status=ScoringRun.Status.DONE).order_by("-id").first()
        run_id = run.pk if run else 0
        cache.set("portal:latest_run", run_id, 60)
    return run_id or None


def _latest_payment(field: str) -> Subquery:
    return Subquery(
        Payment.objects.filter(entitlement_id=OuterRef("pk")).order_by("-id").values(field)[:1]
    )


def _desil_subquery() -> Subquery | Value:
    run_id = _latest_run_id()
    if run_id is None:
        return Value(None, output_field=IntegerField())
    return Subquery(
        HouseholdScore.objects.filter(run_id=run_id, household_id=OuterRef("household_id")).values(
            "desil_national"
        )[:1]
    )


def _person_qs() -> QuerySet[Person]:
    # One query: the person, the village and the desil; a second one for the instalments.
    return Person.objects.annotate(
        village=F("household__village_id"), desil=_desil_subquery()
    ).only("full_name", "name_search", "household_id")


def _result(person: Person) -> StatusResult:
    entitlements = (
        Entitlement.objects.filter(
            household_id=person.household_id, cycle__state__in=VISIBLE_CYCLES
        )
        .annotate(
            pay_amount=_latest_payment("amount"),
            pay_state=_latest_payment("state"),
            pay_channel=_latest_payment("channel"),
            pay_place=_latest_payment("collection_place"),
            pay_from=_latest_payment("collection_from"),
            pay_until=_latest_payment("collection_until"),
        )
        .select_related("cycle__programme")
        .only(
            "amount",
            "state",
            "cycle__code",
            "cycle__instalment",
            "cycle__period_start",
            "cycle__period_end",
            "cycle__programme__name",
        )
        .order_by("-cycle__period_start", "cycle__programme__code")
    )
    payment_states = dict(PaymentState.choices)
    entitlement_states = dict(EntitlementState.choices)
    channels = dict(Channel.choices)
    rows = []
    for e in entitlements:
        paid = e.pay_state is not None
        rows.append(
            TahapRow(
                programme=e.cycle.programme.name,
                cycle=e.cycle.code,
                tahap=e.cycle.instalment,
                period_start=e.cycle.period_start,
                period_end=e.cycle.period_end,
                amount=e.pay_amount if paid else e.amount,
                status=e.pay_state if paid else e.state,
                status_label=str(
                    payment_states.get(e.pay_state, e.pay_state)
                    if paid
                    else entitlement_states.get(e.state, e.state)
                ),
                channel=str(channels.get(e.pay_channel, "")) if paid else "",
                collection_place=e.pay_place or "",
                collection_from=e.pay_from,
                collection_until=e.pay_until,
            )
        )
    return StatusResult(
        masked_name=mask_name(person.full_name),
        village_code=person.village,  # type: ignore[attr-defined]
        desil=person.desil,  # type: ignore[attr-defined]
        rows=rows,
    )


def status_by_nik(*, nik: str, name: str) -> StatusResult | None:
    """The status for a valid 16-digit NIK and the name on the KTP; None when either is wrong."""
    person = _person_qs().filter(nik_index=crypto.blind_index(nik, purpose="nik")).first()
    if person is None or person.name_search != name_search_key(name):
        return None
    return _result(person)


def status_by_region(*, village_code: str, name: str, limit: int = 5) -> list[StatusResult]:
    """Cek Bansos's other door: village + full name. At most `limit` people, masked."""
    key = name_search_key(name)
    if len(key) < 3:
        return []
    people = list(
        _person_qs()
        .filter(household__village_id=village_code, name_search=key)
        .order_by("id")[:limit]
    )
    return [_result(p) for p in people]


def status_by_phone_nik(*, nik: str, phone: str) -> StatusResult | None:
    """For SMS: the status only when the sender's phone is the one registered for this NIK."""
    person = (
        _person_qs()
        .only("full_name", "household_id", "phone_index")
        .filter(nik_index=crypto.blind_index(nik, purpose="nik"))
        .first()
    )
    if person is None or not person.phone_index:
        return None
    if person.phone_index != crypto.blind_index(phone, purpose="phone"):
        return None
    return _result(person)
