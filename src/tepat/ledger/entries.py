"""Versioned schemas of what the log records, and their canonical JSON.

Canonical JSON = sorted keys, no spaces, UTF-8, optional fields left out when empty. Every entry
names its `kind` and schema version `v`; a new field means a new version, never a silent change.
No personal data in clear. Entries already in a log keep their version forever: every version
of every kind still parses and verifies.

Payment entries, version 1 (written until issue 17): a stable keyed pseudonym of the beneficiary
(`pseudonymise`), the exact amount and the village. Together they linked a person's payments
across cycles, revealed PKH components through the amount and counted villages that the open
data hides.

Payment entries, version 2 (`PaymentSentV2`... written now):
- `beneficiary` is a per-payment pseudonym (`payment_pseudonym`): an HMAC keyed with a random
  salt stored on the payment row only, over the payment id, the beneficiary and the exact amount.
  Two payments of one person share nothing, even for someone holding the whole log and every
  key of the deployment; the payments table (which holds the salt) recomputes it, so the
  cross-check still catches a payment whose beneficiary or amount changed after it was logged;
  and blanking the salt (crypto-shredding) leaves a value that opens to nothing.
- no region: where payments go is published once per cycle and area by `payments.issued`, at
  areas chosen by `tepat.core.disclosure.published_areas` (the open data's suppression rule).
- `amount` only where it discloses nothing (the programme's base amount, the same for everyone);
  otherwise a band `amount_min`..`amount_max` (`AMOUNT_BAND` wide), because a PKH amount is a sum
  of components (pregnancy, young children, school, elderly, severe disability).

How the money still adds up, from the public log alone: `cycle.approved` carries the exact
beneficiary count and total; the `payments.issued` entries of the cycle carry exact counts and
totals per area, which sum to the payments issued; every payment entry carries an exact amount or
a band, and the exact total lies between the sums of their lower and upper bounds
(`tepat.ledger.totals` does these checks on entries read from the tiles). The exact amount of
each payment is in the payments table (checked against the commitment by `ledger verify`) and in
the citizen's receipt, which opens the commitment for its own payment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    model_validator,
)

from tepat.core.crypto import pseudonym
from tepat.core.errors import FieldProblem, ValidationFailed

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$")]
Region = Annotated[str, Field(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")]
Rupiah = Annotated[int, Field(ge=0, le=10**15)]
Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def pseudonymise(beneficiary_id: str) -> str:
    """The stable keyed pseudonym under which version-1 payment entries name a beneficiary.
    Kept to read and cross-check those entries; new entries use `payment_pseudonym`."""
    return pseudonym(beneficiary_id, purpose="ledger.beneficiary")


PAYMENT_PSEUDONYM_DOMAIN = b"tepat/ledger/payment-pseudonym/v2"
SALT_BYTES = 16


def payment_pseudonym(*, salt: str, payment: str, beneficiary: str, amount: int) -> str:
    """The per-payment pseudonym of version-2 payment entries: HMAC-SHA256 keyed with the
    payment's own random salt (hex, stored only on the payment row) over the payment's public id,
    the beneficiary's id and the exact amount; 32 hex characters. Hiding (the salt is secret and
    random per payment) and binding (the payments table recomputes it)."""
    key = bytes.fromhex(salt)
    if len(key) < SALT_BYTES:
        raise ValueError("a payment's ledger salt is 16 random bytes (32 hex characters)")
    message = b"\x00".join(
        (PAYMENT_PSEUDONYM_DOMAIN, payment.encode(), beneficiary.encode(), str(amount).encode())
    )
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


# Where an amount would tell a household's make-up, entries carry the band it falls in: one
# million rupiah wide, so that one band holds one-component households of every kind (a PKH tahap
# pays 225,000 to 750,000 per component under the 2026 amounts).
AMOUNT_BAND = 1_000_000


def public_amount(amount: int, *, base: int | None) -> dict[str, int]:
    """The amount fields of a version-2 payment entry: the exact `amount` when it is the
    programme's base amount (`base`, the same for every recipient, so it tells nothing), else
    the band `amount_min`..`amount_max` it falls in."""
    if base is not None and amount == base:
        return {"amount": amount}
    low = amount // AMOUNT_BAND * AMOUNT_BAND
    return {"amount_min": low, "amount_max": low + AMOUNT_BAND - 1}


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


class PaymentV2(Entry):
    """Version 2 of the payment kinds (see the module's docstring): a per-payment pseudonym,
    no region, and the exact amount only where it is the programme's base amount."""

    v: Literal[2] = 2  # type: ignore[assignment]
    payment: Code
    beneficiary: Pseudonym
    amount: Rupiah | None = None
    amount_min: Rupiah | None = None
    amount_max: Rupiah | None = None

    @model_validator(mode="after")
    def _amount_or_band(self) -> PaymentV2:
        band = (self.amount_min, self.amount_max)
        if self.amount is not None:
            if band != (None, None):
                raise ValueError("an exact amount or a band, not both")
        elif None in band or band[0] > band[1]:  # type: ignore[operator]
            raise ValueError("an exact amount, or a band with amount_min <= amount_max")
        return self


class PaymentSentV2(PaymentV2):
    kind: Literal["payment.sent"] = "payment.sent"
    channel: Code


class PaymentSettledV2(PaymentV2):
    kind: Literal["payment.settled"] = "payment.settled"


class PaymentFailedV2(PaymentV2):
    kind: Literal["payment.failed"] = "payment.failed"
    reason: Code


class HandoverRecordedV2(PaymentV2):
    kind: Literal["handover.recorded"] = "handover.recorded"
    method: Code  # card, otp, face...
    point: Code | None = None


class PaymentsIssued(Entry):
    """How many payments of a cycle go to one published area, and their exact total: written
    once per area when the cycle's first payments are issued, counting every approved
    entitlement (one held back by a restriction is paid later). `area` is a region chosen by
    `tepat.core.disclosure.published_areas` (left out: the rest of the nation), so each count
    is 0 or at least the open data's suppression threshold."""

    kind: Literal["payments.issued"] = "payments.issued"
    area: Region | None = None
    payments: Annotated[int, Field(ge=1)]
    total_amount: Rupiah


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


# kind -> schema version -> schema. Versions are never removed: the log keeps old entries.
SCHEMAS: dict[str, dict[int, type[Entry]]] = {}
for _cls in (
    CycleApproved,
    EntitlementListPublished,
    PaymentSent,
    PaymentSettled,
    PaymentFailed,
    HandoverRecorded,
    PaymentSentV2,
    PaymentSettledV2,
    PaymentFailedV2,
    HandoverRecordedV2,
    PaymentsIssued,
    CycleClosed,
    CycleCancelled,
):
    SCHEMAS.setdefault(_cls.model_fields["kind"].default, {})[_cls.model_fields["v"].default] = _cls

# The payment kinds written now (version 2), by kind.
PAYMENT_KINDS_V2: dict[str, type[PaymentV2]] = {
    "payment.sent": PaymentSentV2,
    "payment.settled": PaymentSettledV2,
    "payment.failed": PaymentFailedV2,
    "handover.recorded": HandoverRecordedV2,
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
    """The schema instance for `body`, refusing unknown kinds, versions, fields and bad values.
    A body without `v` is version 1 (the first schemas had it as a default)."""
    versions = SCHEMAS.get(kind)
    if versions is None:
        raise ValidationFailed([FieldProblem("kind", "unknown_kind", f"unknown kind {kind!r}")])
    version = body.v if isinstance(body, Entry) else body.get("v", 1)
    schema = versions.get(version) if isinstance(version, int) else None
    if schema is None:
        raise ValidationFailed(
            [FieldProblem("v", "unknown_version", f"unknown version {version!r} of {kind}")]
        )
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
