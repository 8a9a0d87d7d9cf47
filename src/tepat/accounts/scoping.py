"""Least privilege by region: which registry rows a staff member may see.

Operators, supervisors and field agents see only households whose village code falls under one of
their region scopes (a province, regency, district or village code: a prefix of the 10-digit
village code). Admins and auditors see all. A user with no scope sees nothing: access is granted,
never assumed. Every page and API that reads personal data filters through here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from tepat.accounts.models import Role


def _roles_full_access() -> frozenset[str]:
    return frozenset({Role.ADMIN, Role.AUDITOR})


def region_q(user: Any, field: str = "village__code") -> Q:
    """A filter for `field` (an undotted village code) limited to the user's regions."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Q(pk__in=[])
    if user.is_superuser or user.role in _roles_full_access():
        return Q()
    codes = user.region_codes
    if not codes:
        return Q(pk__in=[])
    q = Q()
    for code in codes:
        q |= Q(**{f"{field}__startswith": code})
    return q


def can_see_region(user: Any, village_code: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser or user.role in _roles_full_access():
        return True
    return any(village_code.startswith(code) for code in user.region_codes)


def can_view_full_record(user: Any) -> bool:
    """Who may reveal a person's full NIK and phone (always audited). Field agents may not."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(
        user.is_superuser or user.role in {Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR}
    )


def can_edit_registry(user: Any) -> bool:
    """Auditors read only; field agents record handovers, not registry changes."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.role in {Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR})
