"""Reads for programmes and cycles."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tepat.accounts.scoping import region_q
from tepat.core.errors import NotFound
from tepat.programs.models import Cycle, CycleEvent, Entitlement, Programme


def programmes_list() -> QuerySet[Programme]:
    return Programme.objects.all()


def programme_get(*, public_id: str) -> Programme:
    try:
        return Programme.objects.get(public_id=public_id)
    except Programme.DoesNotExist:
        raise NotFound() from None


def cycles_of(*, programme: Programme) -> QuerySet[Cycle]:
    return programme.cycles.all()


def cycle_get(*, public_id: str) -> Cycle:
    try:
        return Cycle.objects.select_related("programme").get(public_id=public_id)
    except Cycle.DoesNotExist:
        raise NotFound() from None


def cycle_events(*, cycle: Cycle) -> QuerySet[CycleEvent]:
    return cycle.events.select_related("actor")


def entitlements_visible(*, user: Any, cycle: Cycle) -> QuerySet[Entitlement]:
    """A cycle's entitlements in the user's regions (village codes are undotted)."""
    return cycle.entitlements.filter(region_q(user, "village_code"))


def entitlement_get(*, user: Any, public_id: str) -> Entitlement:
    e = (
        Entitlement.objects.filter(region_q(user, "village_code"))
        .filter(public_id=public_id)
        .first()
    )
    if e is None:
        raise NotFound()
    return e
