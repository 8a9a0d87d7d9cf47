"""Versioned schemas of what the log records, and their canonical JSON.

Canonical JSON = sorted keys, no spaces, UTF-8, optional fields left out when empty. Every entry
names its `kind` and schema version `v`; a new field means a new version, never a silent change.
No personal data in clear: a beneficiary appears only as a keyed pseudonym (`pseudonymise`);
programme, cycle, amount (integer rupiah), region code and time are public.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_serializer

from tepat.core.crypto import pseudonym
from tepat.core.errors import FieldProblem, ValidationFailed

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$")]
Region = Annotated[str, Field(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")]
Rupiah = Annotated[int, Field(ge=0, le=10**15)]
Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def pseudonymise(beneficiary_id: str) -> str:
    """The keyed pseudonym under which a beneficiary appears in the log."""
    return pseudonym(beneficiary_id, purpose="ledger.beneficiary")


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    programme: Code
    cycle: Code
    time: AwareDatetime

    @field_serializer("time")
    def _utc(self, value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


class PaymentSent(Entry):
    kind: Literal["payment.sent"] = "payment.sent"
    payment: Code  # the payment's random public id
    beneficiary: Pseudonym
    amount: Rupiah
    region: Region
    channel: Code


class PaymentSettled(Entry):
    kind: Literal["payment.settled"] = "payment.settled"
    payment: Code
    beneficiary: Pseudonym
    amount: Rupiah
    region: Region


class PaymentFailed(Entry):
    kind: Literal["payment.failed"] = "payment.failed"
    payment: Code
    beneficiary: Pseudonym
    amount: Rupiah
    region: Region
    reason: Code


class HandoverRecorded(Entry):
    kind: Literal["handover.recorded"] = "handover.recorded"
    payment: Code
    beneficiary: Pseudonym
    amount: Rupiah
    region: Region
    method: Code  # card, otp, face, offline voucher...
    point: Code | None = None  # e-Warung / post office public id


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


SCHEMAS: dict[str, type[Entry]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        CycleApproved,
        EntitlementListPublished,
        PaymentSent,
        PaymentSettled,
        PaymentFailed,
        HandoverRecorded,
        CycleClosed,
        CycleCancelled,
    )
}


# Kinds that end a payment's life: a payment has at most one of them in the log (a second
# `payment.settled`, or a settlement after a failure, is money or history that should not be).
# Their entries carry the payment's public id in `payment` and in the stored `ref` column.
TERMINAL_KINDS: frozenset[str] = frozenset(
    {"payment.settled", "payment.failed", "handover.recorded"}
)


def canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_json(entry: Entry) -> str:
    return canonical_json(entry.model_dump(mode="json", exclude_none=True))


def entry_validate(*, kind: str, body: Entry | Mapping[str, Any]) -> Entry:
    """The schema instance for `body`, refusing unknown kinds, fields and bad values."""
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ValidationFailed([FieldProblem("kind", "unknown_kind", f"unknown kind {kind!r}")])
    if isinstance(body, Entry):
        if not isinstance(body, schema):
            raise ValidationFailed([FieldProblem("kind", "kind_mismatch", "kind and body differ")])
        return body
    try:
        return schema.model_validate({**body, "kind": kind})
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldProblem(".".join(str(p) for p in err["loc"]), err["type"], err["msg"])
                for err in exc.errors()
            ]
        ) from exc
