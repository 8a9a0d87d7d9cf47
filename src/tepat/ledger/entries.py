"""The log's entries: the registry of entry kinds, their versioned schemas and canonical JSON.

Canonical JSON = sorted keys, no spaces, UTF-8, optional fields left out when empty. Every entry
names its `kind` and schema version `v`; a new field means a new version, never a silent change.
No personal data in clear. Entries already in a log keep their version forever: every version
of every kind still parses and verifies.

The ledger knows no kind of its own: each app that writes to the log declares its kinds in its
`ledger_kinds.py` (pydantic schemas derived from `Entry`) and registers them from its
AppConfig.ready() with `register_kind`. A kind may be registered as terminal: it ends the life of
the thing its entry names in one field (the `ref`), and the log holds at most one terminal entry
per ref (`tepat ledger verify` checks it, and the stored `ref` column must match that field).

The helpers below are the ones a verifier outside Tepat needs to recompute what an entry
commits to: `pseudonymise` (the keyed pseudonym of version-1 payment entries),
`payment_pseudonym` (the per-payment pseudonym that a receipt's opening recomputes) and
`public_amount` (an amount, or the band it falls in). What each kind means, and why its fields
are what they are, is told where the kind is declared (`tepat.payments.ledger_kinds`,
`tepat.programs.ledger_kinds`).
"""

from __future__ import annotations

import hashlib
import hmac
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
    """What every entry carries. A kind's schema derives from it and declares `kind` as a
    Literal with that default (and `v` likewise from version 2 on)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    programme: Code
    cycle: Code
    time: AwareDatetime

    @field_serializer("time")
    def _utc(self, value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# kind -> schema version -> schema, filled by `register_kind` from the apps' ready(). Versions
# are never removed: the log keeps old entries. Read it, never write it.
SCHEMAS: dict[str, dict[int, type[Entry]]] = {}
# Terminal kind -> the field of its entries that names what it ends (stored as the `ref`).
_TERMINAL: dict[str, str] = {}
_terminal_kinds: frozenset[str] = frozenset()


class KindConflict(Exception):
    """Two registrations disagree about one kind: a programming error, found at start-up."""


def register_kind(*schemas: type[Entry], terminal: str | None = None) -> None:
    """Declare the schemas (each one version of one kind) that entries of the log may have.

    `terminal`: the kinds of `schemas` end the life of what their entries name in this field; a
    ref holds at most one terminal entry in the log. Registering the same schema again is a
    no-op (ready() may run more than once); another schema for a known kind and version, or a
    different terminal field for a kind, is refused (KindConflict)."""
    global _terminal_kinds
    for schema in schemas:
        if not (isinstance(schema, type) and issubclass(schema, Entry)):
            raise KindConflict(f"{schema!r} is not an entry schema (a subclass of Entry)")
        kind, version = _kind_of(schema)
        known = SCHEMAS.get(kind, {}).get(version)
        if known is not None and known is not schema:
            raise KindConflict(
                f"{kind} v{version} is already {known.__module__}.{known.__qualname__}"
            )
        if terminal is not None and terminal not in schema.model_fields:
            raise KindConflict(f"{kind} v{version} has no field {terminal!r} to end")
        if kind in SCHEMAS and _TERMINAL.get(kind) != terminal:
            raise KindConflict(f"{kind} is registered terminal on one version and not another")
    for schema in schemas:
        kind, version = _kind_of(schema)
        SCHEMAS.setdefault(kind, {})[version] = schema
        if terminal is not None:
            _TERMINAL[kind] = terminal
    _terminal_kinds = frozenset(_TERMINAL)


def _kind_of(schema: type[Entry]) -> tuple[str, int]:
    kind = schema.model_fields["kind"].default if "kind" in schema.model_fields else None
    version = schema.model_fields["v"].default
    if not isinstance(kind, str) or not kind or not isinstance(version, int):
        raise KindConflict(f"{schema.__qualname__} declares no `kind` and `v` defaults")
    return kind, version


def terminal_kinds() -> frozenset[str]:
    """The kinds registered terminal (see `register_kind`)."""
    return _terminal_kinds


def terminal_field(kind: object) -> str | None:
    """The field naming what an entry of a terminal `kind` ends; None for other kinds."""
    return _TERMINAL.get(kind) if isinstance(kind, str) else None


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
