"""Payment keys: deterministic, unique, and sent to the provider as its idempotency key, so
the same payment is never paid twice however often it is sent."""

from __future__ import annotations

import hashlib

from tepat.programs.models import Cycle


def payment_key(
    *, programme: str, cycle: str, beneficiary: str, instalment: int, series: int = 0
) -> str:
    """Deterministic: the same payment always gets the same key (and idempotency key).

    `series` > 0 only for an operator's re-issue through another channel after a permanent
    failure: a new, equally deterministic payment."""
    raw = f"{programme}|{cycle}|{beneficiary}|{instalment}|{series}"
    return f"{programme}.{cycle}.{hashlib.sha256(raw.encode()).hexdigest()[:24]}"


def key_prefix(cycle: Cycle) -> str:
    return f"{cycle.programme.code}.{cycle.code}."
