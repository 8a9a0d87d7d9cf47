"""Reads for programmes and cycles, scoped through tepat.accounts.scoping: a cycle is read where
its region overlaps the user's scopes, its entitlements only where their village lies inside
them. What the user may not read is NotFound (no probing)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tepat.accounts.scoping import cycle_q, cycle_whole_q, entitlement_q
from tepat.core.errors import NotFound
from tepat.programs.models import Cycle, CycleEvent, Entitlement, Programme


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


def entitlement_get(*, user: Any, public_id: str) -> Entitlement:
    e = Entitlement.objects.filter(entitlement_q(user), public_id=public_id).first()
    if e is None:
        raise NotFound()
    return e


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
