"""What every verification service shares: who issues vouchers and who sets the policy,
the voucher channels, the settings, and the role check."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tepat.accounts.models import Role
from tepat.core.errors import PermissionDenied
from tepat.payments.models import Channel
from tepat.registry import sealed

VOUCHER_CHANNELS = (Channel.CASH_POS, Channel.EWARUNG)
ISSUERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR})
# Who decides which checks a programme demands at the counter: a national, not a local, choice.
POLICY_EDITORS = frozenset({Role.ADMIN, Role.SUPERVISOR})
# Who records a beneficiary's face: issuers at the office, field agents at the counter.
FACE_ENROLLERS = frozenset({Role.FIELD_AGENT, *ISSUERS})
PHONE_CONTEXT = sealed.PHONE


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _role(user: Any) -> str:
    return Role.ADMIN if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def role_may(user: Any, roles: frozenset[str]) -> bool:
    """Whether `user`'s role is one of `roles`: the check `_require` makes, for pages that show
    a control only to those who may use it."""
    return bool(getattr(user, "is_authenticated", False)) and _role(user) in roles


def _require(user: Any, roles: frozenset[str], what: str) -> None:
    if not role_may(user, roles):
        raise PermissionDenied(f"Peran Anda tidak boleh {what} / your role may not {what}")
