"""The investigation of a flagged handover (a double redemption, a revoked voucher), closed
once with a decision and a note."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from tepat.accounts.scoping import can_see_region
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, NotFound, TepatError, ValidationFailed
from tepat.verification.models import Handover, HandoverDecision
from tepat.verification.services.common import ISSUERS, _require

if TYPE_CHECKING:
    from tepat.accounts.models import User


def handover_resolve(*, acting_user: User, client_id: str, decision: str, note: str) -> Handover:
    """Close the investigation of a flagged handover (a double redemption, a revoked voucher)
    with a decision and a note; decided once, by staff of the voucher's region."""
    _require(acting_user, ISSUERS, "menyelesaikan penyelidikan / resolve investigations")
    problems = []
    if decision not in HandoverDecision.values:
        problems.append(FieldProblem("decision", "unknown_code",
                                     " | ".join(HandoverDecision.values)))  # fmt: skip
    if not note.strip():
        problems.append(
            FieldProblem("note", "required", "Catatan wajib diisi / a note is required")
        )
    try:
        key = uuid.UUID(client_id)
    except ValueError as exc:
        raise NotFound() from exc
    with transaction.atomic(durable=True):
        h = (
            Handover.objects.select_for_update()
            .select_related("voucher")
            .filter(client_id=key, flagged=True)
            .first()
        )
        if h is None or not can_see_region(acting_user, h.voucher.village_code):
            raise NotFound()
        if problems:
            raise ValidationFailed(problems)
        if h.decided_at is not None:
            raise TepatError(
                "Penyelidikan ini sudah diselesaikan / this investigation is already resolved",
                code="already_resolved",
            )
        h.decision = decision
        h.decision_note = note.strip()[:2000]
        h.decided_at = timezone.now()
        h.decided_by = acting_user
        h.save(update_fields=["decision", "decision_note", "decided_at", "decided_by"])
        audit_record(actor=acting_user, action="handover.resolve", target_type="handover",
                     target_id=str(h.client_id), region_code=h.voucher.village_code,
                     detail={"voucher": h.voucher.public_id, "status": h.status,
                             "before": None, "after": decision, "note": h.decision_note})  # fmt: skip
    return h
