"""What programmes write to the transparency log: a cycle approved, its entitlement list
published, the cycle closed or cancelled (tepat.programs.services writes them).

Every schema is one version of one kind (tepat.ledger.entries); entries already in a log keep
their version forever, so a schema here is never changed, only followed by a new version.
`cycle.approved` carries the exact beneficiary count and total of a cycle: from it and the
payment kinds (tepat.payments.ledger_kinds) anyone can check from the public log alone that the
money adds up.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tepat.ledger.entries import Digest, Entry, Region, Rupiah, register_kind


class CycleApproved(Entry):
    kind: Literal["cycle.approved"] = "cycle.approved"
    beneficiaries: Annotated[int, Field(ge=0)]
    total_amount: Rupiah


class EntitlementListPublished(Entry):
    kind: Literal["entitlements.published"] = "entitlements.published"
    region: Region | None = None
    beneficiaries: Annotated[int, Field(ge=0)]
    total_amount: Rupiah
    list_digest: Digest  # SHA-256 of the published list file


class CycleClosed(Entry):
    kind: Literal["cycle.closed"] = "cycle.closed"
    paid: Annotated[int, Field(ge=0)]
    paid_amount: Rupiah
    failed: Annotated[int, Field(ge=0)]


class CycleCancelled(Entry):
    """An approved cycle stopped: `cancelled` payments will never be made; `paid` were."""

    kind: Literal["cycle.cancelled"] = "cycle.cancelled"
    paid: Annotated[int, Field(ge=0)]
    paid_amount: Rupiah
    cancelled: Annotated[int, Field(ge=0)]


def register() -> None:
    """Called from ProgramsConfig.ready()."""
    register_kind(CycleApproved, EntitlementListPublished, CycleClosed, CycleCancelled)
