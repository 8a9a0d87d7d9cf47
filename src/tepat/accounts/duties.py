"""Separation of duties between managing staff accounts and approving money.

Read from the audit trail, where every account change is recorded (`user.created`,
`user.scope_set`, `user.unlocked`, `user.totp_reset`, and role or scope changes made in the
admin): whoever changed a staff account recently may not approve money, and nobody may approve
what the person who created or changed their own account made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from tepat.core.models import AuditEvent

# Audit rows about a staff account that are not a change to it (the user's own log-ins).
_NOT_ACCOUNT_CHANGES = Q(action__startswith="login.") | Q(action="logout")


def _now() -> dt.datetime:
    return timezone.now()


def sod_days() -> int:
    """TEPAT_SOD_DAYS: how long after changing a staff account its author may not approve money."""
    return int(getattr(settings, "TEPAT_SOD_DAYS", 30))


def _account_changes() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        Q(action__startswith="user.") | Q(target_type__in=["user", "regionscope"])
    ).exclude(_NOT_ACCOUNT_CHANGES)


def managed_staff_since(user: Any, *, days: int | None = None) -> bool:
    """Whether `user` created or changed a staff account (any role, scope, lock or 2FA reset)
    within the last `days` (TEPAT_SOD_DAYS)."""
    pk = getattr(user, "pk", None)
    if pk is None:
        return False
    since = _now() - dt.timedelta(days=sod_days() if days is None else days)
    return _account_changes().filter(actor_id=pk, at__gte=since).exists()


def account_changed_by(user: Any, actors: Iterable[int]) -> bool:
    """Whether `user`'s own account was created, or its role or scopes changed, by any of
    `actors` (at any time): an admin cannot mint a second account to approve their own work."""
    pk = getattr(user, "pk", None)
    wanted = [a for a in actors if a is not None and a != pk]
    if pk is None or not wanted:
        return False
    return (
        _account_changes()
        .filter(target_type="user", target_id=str(pk), actor_id__in=wanted)
        .exists()
    )
