"""Dead letters (and permanent failures) resolved by an operator: retried, re-issued as cash,
or written off; never while the provider may have executed the payment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from tepat.accounts import scoping
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, TepatError, ValidationFailed
from tepat.payments import channels
from tepat.payments.models import Payment
from tepat.payments.providers import ProviderAdapter
from tepat.payments.services.callbacks import _record_success
from tepat.payments.services.common import OPERATORS, P, Refused, _reason, _require
from tepat.payments.services.keys import payment_key
from tepat.payments.services.locking import PAYABLE, cycle_lock, cycles_hold
from tepat.payments.services.provider import _ask_provider, _executed, _unknown
from tepat.programs import services as programs
from tepat.programs.models import EntitlementState

if TYPE_CHECKING:
    from tepat.accounts.models import User


RESOLUTIONS = ("retry", "fallback_cash", "write_off")


def _label(state: str, language: str) -> str:
    """A payment state's label in one language, for a message that carries both."""
    from django.utils import translation

    with translation.override(language):
        return str(P(state).label) if state in P.values else state


def payment_resolve(
    *,
    acting_user: User,
    payment: Payment,
    action: str,
    reason: str,
    adapter: ProviderAdapter | None = None,
) -> Payment:
    """An operator resolves a dead letter (or a permanent failure): retry it, re-issue it as
    cash through PT Pos (a new deterministic payment), or write it off.

    Never while the provider may have executed it: the provider is asked first (`adapter`, or
    the default one). A success is recorded as paid, through the callbacks' path, and the
    resolution refused (`provider_executed`); no answer, an unverified one or one still in
    progress refuses it too (`provider_status_unknown`). Only the provider's own rejection (or
    its "never received") lets the operator go on."""
    _require(acting_user, OPERATORS, "menyelesaikan pembayaran gagal / resolve failed payments")
    scoping.require_payment_action(acting_user, payment)
    reason = _reason(reason)
    if action not in RESOLUTIONS:
        raise ValidationFailed(
            [FieldProblem("action", "unknown_code", f"pilihan: {', '.join(RESOLUTIONS)}")]
        )
    allowed = (P.DEAD,) if action == "retry" else (P.DEAD, P.FAILED)
    asked = Payment.objects.get(pk=payment.pk)
    if asked.state not in allowed:
        raise TepatError(
            f"Pembayaran berstatus {_label(asked.state, 'id')} / the payment is "
            f"{_label(asked.state, 'en')}",
            code="invalid_transition",
        )
    said = _ask_provider(adapter, [asked]).get(asked.payment_key)
    verdict = _executed(asked, said)
    if verdict == "yes" and said is not None:
        with transaction.atomic():
            cycles_hold([asked.cycle_id])
            paid = _record_success(asked, said)
            audit_record(actor=acting_user, action=f"payment.{action}_refused", target_type="payment",
                         target_id=asked.public_id, region_code=asked.village_code,
                         detail={"reason": "provider_executed", "recorded_paid": paid,
                                 "state": asked.state})  # fmt: skip
        raise Refused(
            "Penyalur sudah menjalankan pembayaran ini: dicatat sebagai dibayar, tidak ada yang "
            "diterbitkan ulang / the provider executed this payment: it is recorded as paid and "
            "nothing is re-issued",
            code="provider_executed",
        )
    if verdict == "unknown":
        raise _unknown([asked])
    with transaction.atomic():
        cycle = cycle_lock(asked.cycle)
        if cycle.state not in PAYABLE:
            raise Refused(
                f"Tahap berstatus {cycle.state}: pembayarannya tidak dapat diselesaikan / a "
                f"{cycle.state} cycle's payments cannot be resolved",
                code="cycle_not_payable",
            )
        p = (
            Payment.objects.select_for_update()
            .select_related("cycle__programme")
            .get(pk=payment.pk)
        )
        if (p.state, p.attempts) != (asked.state, asked.attempts):
            raise Refused(
                "Pembayaran berubah saat penyalur ditanya; coba lagi / the payment changed while "
                "the provider was asked: try again",
                code="payment_changed",
            )
        before = p.state
        note = f"{action}: {reason} ({getattr(acting_user, 'username', '')})"
        if action == "retry":
            p.state, p.attempts, p.next_attempt_at = P.ISSUED, 0, timezone.now()
        else:
            p.state = P.CANCELLED
        p.resolution = (p.resolution + "\n" + note).strip()
        p.save(update_fields=["state", "attempts", "next_attempt_at", "resolution", "updated_at"])
        if action == "fallback_cash":
            series = Payment.objects.filter(entitlement_id=p.entitlement_id).count()
            cycle = p.cycle
            key = payment_key(programme=cycle.programme.code, cycle=cycle.code, beneficiary=p.beneficiary_ref,
                              instalment=cycle.instalment, series=series)  # fmt: skip
            r = channels.cash_route(
                key=key, name=p.payee_name, village_code=p.village_code, starts=timezone.localdate()
            )
            try:
                Payment.objects.create(
                    payment_key=key, cycle=cycle, entitlement_id=p.entitlement_id,
                    beneficiary_ref=p.beneficiary_ref, village_code=p.village_code, amount=p.amount,
                    channel=r.channel, provider=r.provider,
                    payee_fa_enc=crypto.encrypt(r.payee_fa, context=channels.PAYEE_CONTEXT),
                    payee_fa_masked=r.masked, payee_name=r.payee_name, collection_place=r.place,
                    collection_from=r.collect_from, collection_until=r.collect_until,
                    next_attempt_at=timezone.now(), resolution=f"fallback for {p.public_id}",
                )  # fmt: skip
            except IntegrityError:
                raise TepatError(
                    "Sudah diterbitkan ulang / already re-issued", code="duplicate"
                ) from None
            programs.entitlements_mark(
                entitlement_ids=[p.entitlement_id], state=EntitlementState.APPROVED
            )
        audit_record(actor=acting_user, action=f"payment.{action}", target_type="payment",
                     target_id=p.public_id, region_code=p.village_code,
                     detail={"before": before, "after": p.state, "reason": reason,
                             "provider_status": said.status if said else "",
                             "provider_reason": said.reason if said else ""})  # fmt: skip
    return p
