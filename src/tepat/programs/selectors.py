"""Reads for programmes and cycles, scoped through tepat.accounts.scoping: a cycle is read where
its region overlaps the user's scopes, its entitlements only where their village lies inside
them. What the user may not read is NotFound (no probing)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tepat.accounts.scoping import cycle_q, cycle_whole_q, entitlement_q
from tepat.core.errors import NotFound
from tepat.programs.models import Cycle, CycleEvent, CycleState, Entitlement, Programme


def programmes_list() -> QuerySet[Programme]:
    """Programmes are national configuration (rules and amounts), read by every staff role."""
    return Programme.objects.all()


def programme_get(*, public_id: str) -> Programme:
    try:
        return Programme.objects.get(public_id=public_id)
    except Programme.DoesNotExist:
        raise NotFound() from None


def cycles_visible(*, user: Any) -> QuerySet[Cycle]:
    """Cycles the user may open (region overlapping their scopes)."""
    return Cycle.objects.filter(cycle_q(user))


def cycles_of(*, user: Any, programme: Programme) -> QuerySet[Cycle]:
    return programme.cycles.filter(cycle_q(user))


def cycle_get(*, user: Any, public_id: str) -> Cycle:
    c = Cycle.objects.filter(cycle_q(user), public_id=public_id).select_related("programme").first()
    if c is None:
        raise NotFound()
    return c


def cycle_events(*, cycle: Cycle) -> QuerySet[CycleEvent]:
    """A cycle's history (callers got the cycle through `cycle_get`, so the user may read it)."""
    return cycle.events.select_related("actor")


def entitlements_visible(*, user: Any, cycle: Cycle) -> QuerySet[Entitlement]:
    """A cycle's entitlements in the user's regions (village codes are undotted)."""
    return cycle.entitlements.filter(entitlement_q(user))


def cycle_get_whole(*, user: Any, public_id: str) -> Cycle:
    """A cycle the user may read as a whole (its reconciliation differences): its region lies
    inside one of their scopes, or they read nationally."""
    c = (
        Cycle.objects.filter(cycle_whole_q(user), public_id=public_id)
        .select_related("programme")
        .first()
    )
    if c is None:
        raise NotFound()
    return c


def household_entitlements(*, household_id: int) -> QuerySet[Entitlement]:
    """Every entitlement of one household, newest cycle first, unscoped: for the household's own
    access export (UU 27/2022 Art. 7), whose caller proved who is asking."""
    return (
        Entitlement.objects.filter(household_id=household_id)
        .select_related("cycle__programme")
        .order_by("-cycle__period_start", "-cycle__instalment", "-id")
    )


# A cycle still running: its list is being prepared, awaits approval, or is being paid.
LIVE_CYCLE_STATES = (CycleState.DRAFT, CycleState.TO_APPROVE, CycleState.APPROVED,
                     CycleState.DISTRIBUTED)  # fmt: skip


def live_entitlements_of_household(*, household_id: int, **_: Any) -> int:
    """Entitlements of the household in cycles still running (registry.rights: a member's data
    is not erased while a list computed from it is in use)."""
    return Entitlement.objects.filter(
        household_id=household_id, cycle__state__in=LIVE_CYCLE_STATES
    ).count()
