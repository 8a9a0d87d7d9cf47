"""Cross-checks that `tepat ledger verify` runs once the log itself verifies.

The log proves that its entries were not changed; whether the tables they describe still say
the same is for the app that owns those tables to check. Such an app registers a cross-check
from its AppConfig.ready() (payments compares every settled payment with its entry); the ledger
runs every registered one in registration order and imports none of those apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# (ledger index, or None when the problem has no entry in the log; the problem in words),
# first bad entry first.
Problems = list[tuple[int | None, str]]


@dataclass(frozen=True)
class CrossCheck:
    name: str
    check: Callable[[], Problems]
    ok: str  # said when the check finds nothing
    failed: str  # the refusal, followed by "; first bad entry: N"


_CHECKS: dict[str, CrossCheck] = {}


def cross_check_register(name: str, check: Callable[[], Problems], *, ok: str, failed: str) -> None:
    """Run `check` in `tepat ledger verify`. Registering the same check again under its name
    is a no-op (ready() may run more than once); another check under a taken name is refused."""
    entry = CrossCheck(name, check, ok, failed)
    known = _CHECKS.get(name)
    if known is not None and known != entry:
        raise ValueError(f"ledger cross-check {name!r} is already registered")
    _CHECKS[name] = entry


def cross_checks() -> list[CrossCheck]:
    """The registered cross-checks, in registration order."""
    return list(_CHECKS.values())
