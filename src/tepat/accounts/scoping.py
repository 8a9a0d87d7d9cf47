"""Least privilege by region: which registry rows a staff member may see.

Operators, supervisors and field agents see only households whose village code falls under one of
their region scopes (a province, regency, district or village code: a prefix of the 10-digit
village code). Admins and auditors see all. A user with no scope sees nothing: access is granted,
never assumed. Every page and API that reads personal data filters through here, and so does
every read and action on money (cycles, entitlements, payments, differences, statements): see
the money section below.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from tepat.accounts.models import Role
from tepat.core.errors import NotFound, PermissionDenied


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


# --- money: cycles, entitlements, payments, differences, statements ------------------------
#
# A cycle has a region (`Cycle.region_code`: a region code prefix; empty = national). Two reaches:
# - read a cycle: its region overlaps the user's scopes (the cycle lies inside one of them, or
#   covers one of them: a Bogor operator opens a national cycle and sees its Bogor part only);
# - act on a whole cycle (create, compute, submit, approve, return, cancel, issue, reconcile,
#   explain, distribute, close) and read its whole-cycle findings (differences): the cycle's
#   region lies inside one of the user's scopes. A national cycle needs a national role (admin).
# Per-beneficiary objects (entitlements, payments, dead letters, vouchers) are read and acted on
# only where their village lies inside the user's scopes AND their cycle is readable: the part of
# a cycle inside the user's regions. Statements are provider files covering every region: only
# national roles import them (auditors read). Out-of-scope reads are NotFound (no probing).


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def is_national_reader(user: Any) -> bool:
    """Sees every region (admins and auditors; auditors read only)."""
    return _active(user) and bool(user.is_superuser or user.role in _roles_full_access())


def is_national_actor(user: Any) -> bool:
    """May act on national objects (a national cycle, a provider's statement): admins only."""
    return _active(user) and bool(user.is_superuser or user.role == Role.ADMIN)


def _scoped_codes(user: Any) -> list[str]:
    return list(user.region_codes) if _active(user) else []


def can_act_on_region(user: Any, region_code: str) -> bool:
    """Whether `user` may act on something covering `region_code` ("" = national) as a whole:
    the region must lie inside one of the user's scopes. Auditors never act."""
    if is_national_actor(user):
        return True
    if not _active(user) or user.role == Role.AUDITOR or not region_code:
        return False
    return any(region_code.startswith(code) for code in _scoped_codes(user))


def can_read_cycle_region(user: Any, region_code: str) -> bool:
    """Whether `user` may open a cycle of `region_code` (its region overlaps the user's scopes)."""
    if is_national_reader(user):
        return True
    return any(
        region_code.startswith(code) or code.startswith(region_code) for code in _scoped_codes(user)
    )


def cycle_q(user: Any, field: str = "region_code") -> Q:
    """Cycles `user` may open: national readers all; others those whose region overlaps a scope
    (inside it, or covering it: an empty region, a province, ...)."""
    inside = cycle_whole_q(user, field)
    if not _active(user) or is_national_reader(user):
        return inside
    covering = {
        code[:n] for code in _scoped_codes(user) for n in (0, 2, 4, 6, 10) if n <= len(code)
    }
    return inside | Q(**{f"{field}__in": sorted(covering)})


def cycle_whole_q(user: Any, field: str = "region_code") -> Q:
    """Cycles `user` may read as a whole (differences, reconciliation): national readers all;
    others those whose region lies inside one of their scopes (never a national cycle)."""
    if not _active(user):
        return Q(pk__in=[])
    if is_national_reader(user):
        return Q()
    q = Q(pk__in=[])
    for code in _scoped_codes(user):
        q |= Q(**{f"{field}__startswith": code})
    return q


def _related(prefix: str, name: str) -> str:
    return f"{prefix}__{name}" if prefix else name


def payment_q(user: Any, prefix: str = "") -> Q:
    """Payments (or entitlements: same fields) `user` may see: village inside a scope and the
    cycle readable. `prefix` reaches them through a relation (e.g. "payment" from a voucher)."""
    return region_q(user, _related(prefix, "village_code")) & cycle_q(
        user, _related(prefix, "cycle__region_code")
    )


entitlement_q = payment_q


def difference_q(user: Any) -> Q:
    """Reconciliation differences: whole-cycle findings, read with the whole cycle."""
    return cycle_whole_q(user, "cycle__region_code")


def _halves(what: str) -> tuple[str, str]:
    """ "menyetujui tahap / approve cycles" -> its Indonesian and its English half."""
    what_id, _, what_en = what.partition(" / ")
    return what_id, what_en or what_id


def require_cycle_action(user: Any, cycle: Any, what: str = "bertindak / act") -> None:
    """The scope check at the top of every service that acts on a whole cycle: NotFound when the
    user may not even open the cycle (no probing), PermissionDenied when they may read but not
    act on it (a regional user and a national cycle, an auditor)."""
    region = str(getattr(cycle, "region_code", "") or "")
    if not can_read_cycle_region(user, region):
        raise NotFound()
    if not can_act_on_region(user, region):
        what_id, what_en = _halves(what)
        raise PermissionDenied(
            f"Wilayah tahap di luar cakupan Anda: tidak boleh {what_id} / "
            f"the cycle's region is outside your scope: you may not {what_en}"
        )


def require_region_action(user: Any, region_code: str, what: str = "bertindak / act") -> None:
    """Acting on a region as a whole that the user names (e.g. creating a cycle for it)."""
    if not can_act_on_region(user, region_code):
        what_id, what_en = _halves(what)
        raise PermissionDenied(
            f"Wilayah {region_code or 'nasional'} di luar cakupan Anda: tidak boleh {what_id} / "
            f"region {region_code or 'national'} is outside your scope: you may not {what_en}"
        )


def require_payment_action(user: Any, payment: Any) -> None:
    """Acting on one payment: its village inside the user's scopes and its cycle readable."""
    village = str(getattr(payment, "village_code", "") or "")
    cycle = getattr(payment, "cycle", None)
    region = str(getattr(cycle, "region_code", "") or "")
    if not (can_see_region(user, village) and can_read_cycle_region(user, region)):
        raise NotFound()


def require_national(user: Any, what: str) -> None:
    """National actions (e.g. importing a provider's statement, which spans every region)."""
    if not is_national_actor(user):
        what_id, what_en = _halves(what)
        raise PermissionDenied(
            f"Hanya peran nasional (admin) yang boleh {what_id} / "
            f"only a national role may {what_en}"
        )


def default_cycle_region(user: Any) -> str | None:
    """The region a new cycle gets when its maker names none: a national actor's cycle is
    national, a user with one scope gets that scope; anyone else must name it (None)."""
    if is_national_actor(user):
        return ""
    codes = _scoped_codes(user)
    return codes[0] if len(codes) == 1 else None
