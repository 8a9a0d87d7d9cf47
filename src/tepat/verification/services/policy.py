"""Which checks (card, one-time code, face) a programme accepts on each voucher channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, NotFound, TepatError, ValidationFailed
from tepat.verification.models import Method, VerificationPolicy, Voucher
from tepat.verification.services.common import POLICY_EDITORS, VOUCHER_CHANNELS, _require, setting

if TYPE_CHECKING:
    from tepat.accounts.models import User


def default_methods() -> list[str]:
    raw = setting("TEPAT_VERIFICATION_DEFAULT_METHODS", "card,otp")
    methods = [m.strip() for m in str(raw).split(",") if m.strip() in Method.values]
    return methods or [Method.CARD]


class PolicyBook:
    """Allowed methods per (programme id, channel), read once per request or sync batch."""

    def __init__(self) -> None:
        self._rows = {
            (programme_id, channel): list(methods)
            for programme_id, channel, methods in VerificationPolicy.objects.values_list(
                "programme_id", "channel", "methods"
            )
        }
        self._default = default_methods()

    def methods(self, programme_id: int, channel: str) -> list[str]:
        return self._rows.get((programme_id, channel), self._default)


def verification_policy_set(
    *, acting_user: User, programme_code: str, channel: str, methods: Sequence[str]
) -> VerificationPolicy:
    """Set which methods (any one suffices) a programme accepts on a voucher channel."""
    from tepat.programs.models import Programme

    _require(acting_user, POLICY_EDITORS, "mengatur metode verifikasi / set verification methods")
    problems = []
    if channel not in VOUCHER_CHANNELS:
        problems.append(FieldProblem("channel", "unknown_code",
                                     "Saluran harus cash_pos atau ewarung / must be cash_pos or ewarung"))  # fmt: skip
    unknown = [m for m in methods if m not in Method.values]
    if unknown:
        problems.append(FieldProblem("methods", "unknown_code",
                                     f"Metode tidak dikenal / unknown method: {', '.join(unknown)}"))  # fmt: skip
    chosen = [m for m in Method.values if m in set(methods)]  # canonical order, no repeats
    if not chosen and not unknown:
        problems.append(FieldProblem("methods", "required",
                                     "Pilih minimal satu metode / choose at least one method"))  # fmt: skip
    programme = Programme.objects.filter(code=programme_code).first()
    if programme is None:
        raise NotFound()
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic(durable=True):
        row = (
            VerificationPolicy.objects.select_for_update()
            .filter(programme=programme, channel=channel)
            .first()
        )
        before = list(row.methods) if row else None
        if row is None:
            row = VerificationPolicy(programme=programme, channel=channel)
        row.methods = chosen
        row.updated_by = acting_user
        row.save()
        audit_record(actor=acting_user, action="verification_policy.set", target_type="programme",
                     target_id=programme.public_id, detail={"channel": channel, "before": before,
                                                            "after": chosen})  # fmt: skip
    return row


def _require_method(v: Voucher, method: str) -> None:
    """Refuse a check the voucher's programme does not accept on its channel: no SMS is sent and
    no photo compared for a handover the sync would reject anyway."""
    allowed = PolicyBook().methods(v.payment.cycle.programme_id, v.payment.channel)
    if method not in allowed:
        raise TepatError(
            f"Metode {method} tidak berlaku untuk program dan saluran voucher ini (yang berlaku: "
            f"{', '.join(allowed)}) / method not allowed for this programme and channel",
            code="method_not_allowed",
        )
