"""The breach tests' tools (their staff, the DPO, a field agent and an operator of Banten among
them, are tests/conftest.py's): a way to put audit events at chosen moments (the detectors read the audit trail; `AuditEvent.at` is set
on insert, so injected history is moved afterwards)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.cache import cache

from tepat.accounts.models import User
from tepat.core.models import AuditEvent

# What `from tests.monitoring.breach_cast import *` brings: the fixtures.
__all__ = ["_fresh_cache"]

WIB = zoneinfo.ZoneInfo("Asia/Jakarta")
# A Wednesday morning in Jakarta, inside office hours; the detectors look back 24 hours from it.
NOW = dt.datetime(2026, 12, 9, 10, 30, tzinfo=WIB)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    cache.clear()  # the hourly read counters and log-in throttles live in the cache
    yield
    cache.clear()


@contextmanager
def _history() -> Iterator[None]:
    """Audit events are append-only (a database trigger refuses UPDATE) and stamped on insert
    (`auto_now_add`): history is written with its own time by lifting the stamp meanwhile."""
    stamp = AuditEvent._meta.get_field("at")
    stamp.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        stamp.auto_now_add = True  # type: ignore[attr-defined]


def inject(
    user: User | None,
    at: dt.datetime,
    *,
    action: str = "registry.search",
    records: int | None = 1,
    n: int = 1,
    ip: str | None = None,
    region_code: str = "",
    detail: dict[str, Any] | None = None,
) -> list[AuditEvent]:
    """`n` audit events by `user` at `at`: reads of `records` records each (None: not a read)."""
    extra = dict(detail or {})
    if records is not None:
        extra = {"read": True, "records": records, **extra}
    with _history():
        return AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    at=at,
                    actor=user,
                    actor_label=user.username if user else "anonymous",
                    action=action,
                    ip_address=ip,
                    region_code=region_code,
                    detail=extra,
                )
                for _ in range(n)
            ]
        )


def steady_history(
    user: User, *, per_hour: int, days: int = 14, action: str = "registry.search", **kw: Any
) -> None:
    """A working pattern: one read of `per_hour` records in each office hour (09:00-16:00 WIB)
    of every weekday from `days` days before NOW to the day before yesterday: inside the
    detectors' baseline, before their window (14 days: 9 weekdays, 72 active hours)."""
    start = NOW.replace(hour=9, minute=5) - dt.timedelta(days=days)
    for d in range(days - 1):
        day = start + dt.timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for h in range(8):
            inject(user, day + dt.timedelta(hours=h), action=action, records=per_hour, **kw)
