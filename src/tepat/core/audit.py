"""Audit events: every log-in, every view of a person's full record, every change."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tepat.core.models import AuditEvent
from tepat.core.netaddr import client_address


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
