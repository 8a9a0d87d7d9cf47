"""Audit events: every log-in, every read of personal data, every change.

Reads of personal data go through `audit_read`, which also counts each user's reads per clock
hour in the cache (shared between processes when Redis is configured) and, when a user reads
unusually many records or reads unusually often, tells the hooks registered with
`on_bulk_read`. The monitoring app registers one that opens an alert; core never imports it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from tepat.core import crypto
from tepat.core.errors import TepatError
from tepat.core.models import AuditEvent
from tepat.core.netaddr import client_address

logger = logging.getLogger(__name__)

DEFAULT_BULK_READ_ALERT_ROWS = 5000
DEFAULT_BULK_READ_ALERT_EVENTS = 500
WINDOW_SECONDS = 3600
REGION_LEVEL_LENGTHS = (10, 6, 4, 2)  # village, district, regency, province


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Behind a proxy listed in TEPAT_TRUSTED_PROXIES, the address it forwarded (core.netaddr).
    if not request.META.get("REMOTE_ADDR"):
        return None
    return client_address(request)


def audit_record(
    *,
    actor: Any,
    action: str,
    target_type: str = "",
    target_id: str = "",
    region_code: str = "",
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = getattr(actor, "username", "") if actor is not None else ""
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label or "anonymous",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        region_code=region_code,
        ip_address=client_ip(request),
        detail=detail or {},
    )


# --- reads of personal data ------------------------------------------------------------------


@dataclass(frozen=True)
class BulkRead:
    """One user crossed a bulk-read line within the current hour (told once per hour)."""

    actor_id: int
    actor_label: str
    records: int  # records of personal data read in this hour, this one included
    reads: int  # audited reads in this hour
    what: str  # the action of the read that crossed the line
    region_code: str
    window_start: dt.datetime
    reason: str  # "records" | "reads"


BulkReadHook = Callable[[BulkRead], object]
_bulk_read_hooks: list[BulkReadHook] = []


def on_bulk_read(hook: BulkReadHook) -> BulkReadHook:
    """Register `hook` to be told of unusual read volume (apps call this in `ready()`)."""
    if hook not in _bulk_read_hooks:
        _bulk_read_hooks.append(hook)
    return hook


def bulk_read_limits() -> tuple[int, int]:
    """(records, reads) per user per hour above which an alert fires."""
    return (
        int(getattr(settings, "TEPAT_BULK_READ_ALERT_ROWS", DEFAULT_BULK_READ_ALERT_ROWS)),
        int(getattr(settings, "TEPAT_BULK_READ_ALERT_EVENTS", DEFAULT_BULK_READ_ALERT_EVENTS)),
    )


def region_of(codes: Iterable[str]) -> str:
    """The smallest region holding every code (a village, district, regency or province code),
    "" when they span provinces or there are none: the region an audited list read covers."""
    unique = {c for c in codes if c}
    if not unique:
        return ""
    for length in REGION_LEVEL_LENGTHS:
        prefixes = {c[:length] for c in unique}
        if len(prefixes) == 1 and all(len(c) >= length for c in unique):
            return prefixes.pop()
    return ""


def reveal_purpose(purpose: str) -> str:
    """The stated purpose of revealing full identifiers (NIK, KK), refused when it says nothing."""
    purpose = (purpose or "").strip()
    if len(purpose) < 5:
        raise TepatError(
            "Tuliskan keperluan melihat data lengkap / state why you need the full record",
            field="purpose",
            code="purpose_required",
        )
    return purpose[:255]


def _bump(key: str, by: int) -> int:
    cache.add(key, 0, timeout=WINDOW_SECONDS + 60)
    try:
        return int(cache.incr(key, by))
    except ValueError:  # expired between add and incr
        cache.set(key, by, timeout=WINDOW_SECONDS + 60)
        return by


def reads_counter_key(actor_id: int, window: int) -> str:
    """The cache key prefix of one user's read counters in one hour-window; the user is named by
    a keyed digest, so a dump of the cache does not tell whose reads it counts."""
    return f"tepat:reads:{crypto.cache_digest(str(actor_id), purpose='reads')}:{window}"


def _count_read(*, actor: Any, action: str, records: int, region_code: str) -> None:
    if not getattr(actor, "is_authenticated", False) or actor.pk is None:
        return
    window = int(time.time()) // WINDOW_SECONDS
    base = reads_counter_key(int(actor.pk), window)
    total_records = _bump(f"{base}:records", max(records, 0))
    total_reads = _bump(f"{base}:reads", 1)
    max_records, max_reads = bulk_read_limits()
    if total_records > max_records:
        reason = "records"
    elif total_reads > max_reads:
        reason = "reads"
    else:
        return
    if not cache.add(f"{base}:told", 1, timeout=WINDOW_SECONDS + 60):
        return  # already told this hour
    event = BulkRead(
        actor_id=int(actor.pk),
        actor_label=str(getattr(actor, "username", "")),
        records=total_records,
        reads=total_reads,
        what=action,
        region_code=region_code,
        window_start=dt.datetime.fromtimestamp(window * WINDOW_SECONDS, tz=dt.UTC),
        reason=reason,
    )
    logger.warning(
        "bulk read: %s read %d records in %d reads since %s (last: %s)",
        event.actor_label,
        event.records,
        event.reads,
        event.window_start.isoformat(),
        action,
    )
    for hook in list(_bulk_read_hooks):
        try:
            hook(event)
        except Exception:  # an alert sink that fails must not hide the read it reports
            logger.exception("bulk-read hook %r failed", hook)


def audit_read(
    *,
    actor: Any,
    what: str,
    count: int,
    region_code: str = "",
    request: HttpRequest | None = None,
    target_type: str = "",
    target_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record a read of personal data: `what` (the action, e.g. "integration.quarantine_view"),
    how many records it showed, in which region; then count it against the reader's hourly
    volume. Call it for every page, download or API answer that shows personal data."""
    event = audit_record(
        actor=actor,
        action=what,
        target_type=target_type,
        target_id=target_id,
        region_code=region_code[:13],
        request=request,
        detail={"read": True, "records": int(count), **(detail or {})},
    )
    _count_read(actor=actor, action=what, records=int(count), region_code=region_code)
    return event


def events_about(*, targets: Iterable[tuple[str, str]], limit: int = 5000) -> list[AuditEvent]:
    """Audit events whose target is one of `targets` ((target type, target id) pairs), newest
    first, with their actor: the processing record a data subject is shown with their copy
    (UU 27/2022 Art. 32(1), "beserta rekam jejak pemrosesan")."""
    from django.db.models import Q

    query = Q()
    for target_type, target_id in targets:
        query |= Q(target_type=target_type, target_id=target_id)
    if not query:
        return []
    return list(
        AuditEvent.objects.filter(query).select_related("actor").order_by("-at", "-id")[:limit]
    )
