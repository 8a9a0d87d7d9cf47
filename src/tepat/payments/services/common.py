"""What every payments service shares: who may act, the states still open, the actor of
what no person did, the settings, and the one refusal of the money paths."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

from django.conf import settings

from tepat.accounts.models import Role
from tepat.core.errors import FieldProblem, PermissionDenied, TepatError, ValidationFailed
from tepat.payments.models import PaymentState

P = PaymentState
OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR})
APPROVERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
OPEN_STATES = (P.ISSUED, P.SENDING, P.SENT, P.DEAD)
SYSTEM = SimpleNamespace(username="system:payments")  # the actor of what no person did


def _require(user: Any, roles: frozenset[str], what: str) -> None:
    role = Role.ADMIN if getattr(user, "is_superuser", False) else getattr(user, "role", "")
    if not getattr(user, "is_authenticated", False) or role not in roles:
        # `what` is "Indonesian / English": each half goes to its own language.
        what_id, _, what_en = what.partition(" / ")
        raise PermissionDenied(
            f"Peran Anda tidak boleh {what_id} / your role may not {what_en or what_id}"
        )


def _reason(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(
            [FieldProblem("reason", "required", "Alasan wajib diisi / a reason is required")]
        )
    return text


def setting(name: str, default: Any) -> Any:
    """A payments setting: Django settings first, then the environment, then the default
    (settings.py is shared; these are listed in docs/operations.md)."""
    return getattr(settings, name, os.environ.get(name, default))


class Refused(TepatError):
    """A money action refused for the state things are in (409): nothing was changed."""

    http_status = 409
