"""Payments API: issue, progress, dead letters, provider callbacks, statements, reconciliation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from ninja.security import APIKeyHeader

from tepat.accounts.selectors import staff_user
from tepat.payments import selectors, services
from tepat.payments.models import Payment
from tepat.payments.providers import G2PConnectAdapter, MalformedMessage, verify_signed
from tepat.payments.signatures import BadSignature
from tepat.programs.schemas import CycleOut, ReasonIn, cycle_out
from tepat.programs.selectors import cycle_get, cycle_get_whole

router = Router(tags=["payments"])


class ProviderSignature(APIKeyHeader):
    """Providers sign each callback with their own Ed25519 key: X-Tepat-Provider,
    X-Tepat-Timestamp, X-Tepat-Nonce and X-Tepat-Signature over the raw body (see
    tepat.payments.signatures). A provider without a key in TEPAT_PROVIDER_KEYS, a bad or stale
    signature, or a replayed nonce gets 401; the verified provider's name is `request.auth`."""

    param_name = "X-Tepat-Signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> str | None:
        try:
            return verify_signed(headers=request.headers, body=request.body)
        except BadSignature:
            return None


class IssuedOut(Schema):
    issued: int


class PaymentProgressOut(Schema):
    total: int
    done: int
    percent: int
    totals: dict[str, int]
    by_channel: dict[str, dict[str, int]]
    amount_paid: int


class PaymentOut(Schema):
    public_id: str
    payment_key: str
    cycle: str
    amount: int
    channel: str
    provider: str
    payee: str
    state: str
    attempts: int
    last_error: str
    reason_code: str
    collection_place: str
    settled_at: dt.datetime | None


class DeadLetterResolveIn(Schema):
    """`retry` (a dead letter only), `fallback_cash` (pay at a collection point instead) or
    `write_off`, with the reason for the record."""

    action: Literal["retry", "fallback_cash", "write_off"]  # services.resolve.RESOLUTIONS
    reason: str = Field(pattern=r"\S")


class StatementIn(Schema):
    provider: str = "g2p-connect"
    file_name: str
    content: str  # the provider's signed statement envelope (JSON text), verified before import


class StatementOut(Schema):
    public_id: str
    lines: int


class ReconciliationOut(Schema):
    matched: int
    paid_not_ours: int
    ours_not_paid: int
    amount_differs: int
    status_differs: int
    unexplained: int
    open_payments: int
    paid_twice: int = 0  # entitlements paid twice: block distributing and closing
    clean: bool


class DifferenceOut(Schema):
    id: str  # the difference's random public id
    kind: str
    reference_id: str
    ours_amount: int | None
    their_amount: int | None
    explanation: str


class ExplainIn(Schema):
    explanation: str


class CallbackOut(Schema):
    paid: int
    failed: int
    ignored: int
    refused: int = 0


def payment_out(p: Payment) -> PaymentOut:
    return PaymentOut(
        public_id=p.public_id, payment_key=p.payment_key, cycle=p.cycle.code, amount=p.amount,
        channel=p.channel, provider=p.provider, payee=p.payee_fa_masked, state=p.state,
        attempts=p.attempts, last_error=p.last_error, reason_code=p.reason_code,
        collection_place=p.collection_place, settled_at=p.settled_at,
    )  # fmt: skip


@router.post(
    "/cycles/{cycle_id}/issue", response=IssuedOut, summary="Terbitkan pembayaran / issue payments"
)
def issue(request: HttpRequest, cycle_id: str) -> IssuedOut:
    n = services.payments_issue(
        acting_user=staff_user(request), cycle=cycle_get(user=request.user, public_id=cycle_id)
    )
    return IssuedOut(issued=n)


@router.get(
    "/cycles/{cycle_id}/progress",
    response=PaymentProgressOut,
    summary="Kemajuan penyaluran / progress",
)
def progress(request: HttpRequest, cycle_id: str) -> PaymentProgressOut:
    cycle = cycle_get(user=request.user, public_id=cycle_id)
    return PaymentProgressOut(**selectors.cycle_progress(user=request.user, cycle=cycle))


@router.get("/dead-letters", response=list[PaymentOut], summary="Pembayaran gagal / dead letters")
def dead_letters(request: HttpRequest, cycle_id: str | None = None) -> list[PaymentOut]:
    cycle = cycle_get(user=request.user, public_id=cycle_id) if cycle_id else None
    return [payment_out(p) for p in selectors.dead_letters(user=request.user, cycle=cycle)[:500]]


@router.post(
    "/{payment_id}/resolve", response=PaymentOut, summary="Selesaikan / resolve a dead letter"
)
def resolve(request: HttpRequest, payment_id: str, body: DeadLetterResolveIn) -> PaymentOut:
    p = selectors.payment_get(user=request.user, public_id=payment_id)
    p = services.payment_resolve(
        acting_user=staff_user(request), payment=p, action=body.action, reason=body.reason
    )
    return payment_out(p)


@router.post(
    "/statements", response={201: StatementOut}, summary="Impor rekening koran / import a statement"
)
def statement_import(request: HttpRequest, body: StatementIn) -> Status[Any]:
    st = services.statement_import(acting_user=staff_user(request), provider=body.provider, file_name=body.file_name,
                                   data=body.content.encode(), adapter=G2PConnectAdapter())  # fmt: skip
    return Status(201, StatementOut(public_id=st.public_id, lines=st.lines))


def _rec(r: services.Reconciliation) -> ReconciliationOut:
    return ReconciliationOut(matched=r.matched, paid_not_ours=r.paid_not_ours, ours_not_paid=r.ours_not_paid,
                             amount_differs=r.amount_differs, status_differs=r.status_differs,
                             unexplained=r.unexplained, open_payments=r.open_payments,
                             paid_twice=r.paid_twice, clean=r.clean)  # fmt: skip


@router.post(
    "/cycles/{cycle_id}/reconcile", response=ReconciliationOut, summary="Rekonsiliasi / reconcile"
)
def reconcile(request: HttpRequest, cycle_id: str) -> ReconciliationOut:
    return _rec(
        services.cycle_reconcile(
            acting_user=staff_user(request), cycle=cycle_get(user=request.user, public_id=cycle_id)
        )
    )


@router.get(
    "/cycles/{cycle_id}/differences", response=list[DifferenceOut], summary="Selisih / differences"
)
def differences(request: HttpRequest, cycle_id: str) -> list[DifferenceOut]:
    cycle = cycle_get_whole(user=request.user, public_id=cycle_id)
    rows = selectors.differences(user=request.user, cycle=cycle)[:1000]
    return [DifferenceOut(id=d.public_id, kind=d.kind, reference_id=d.reference_id, ours_amount=d.ours_amount,
                          their_amount=d.their_amount, explanation=d.explanation) for d in rows]  # fmt: skip


@router.post(
    "/differences/{difference_id}/explain", response=DifferenceOut, summary="Jelaskan selisih"
)
def explain(request: HttpRequest, difference_id: str, body: ExplainIn) -> DifferenceOut:
    d = selectors.difference_get(user=request.user, public_id=difference_id)
    d = services.difference_explain(acting_user=staff_user(request), difference=d, explanation=body.explanation)  # fmt: skip
    return DifferenceOut(id=d.public_id, kind=d.kind, reference_id=d.reference_id, ours_amount=d.ours_amount,
                         their_amount=d.their_amount, explanation=d.explanation)  # fmt: skip


@router.post(
    "/cycles/{cycle_id}/distribute",
    response=CycleOut,
    summary="Tandai tersalurkan / mark distributed",
)
def distribute(request: HttpRequest, cycle_id: str) -> CycleOut:
    return cycle_out(
        services.cycle_distribute(
            acting_user=staff_user(request), cycle=cycle_get(user=request.user, public_id=cycle_id)
        )
    )


@router.post("/cycles/{cycle_id}/close", response=CycleOut, summary="Tutup tahap / close the cycle")
def close(request: HttpRequest, cycle_id: str) -> CycleOut:
    return cycle_out(
        services.cycle_close(
            acting_user=staff_user(request), cycle=cycle_get(user=request.user, public_id=cycle_id)
        )
    )


@router.post(
    "/cycles/{cycle_id}/cancel",
    response=CycleOut,
    summary="Batalkan tahap dan pembayarannya / cancel a cycle and stop its payments",
)
def cancel(request: HttpRequest, cycle_id: str, body: ReasonIn) -> CycleOut:
    cycle = cycle_get(user=request.user, public_id=cycle_id)
    return cycle_out(
        services.cycle_cancel(acting_user=staff_user(request), cycle=cycle, reason=body.reason)
    )


@router.post("/callbacks/on-disburse", response=CallbackOut, auth=ProviderSignature(),
             summary="Callback penyalur (G2P Connect on-disburse) / provider callback")  # fmt: skip
def on_disburse(request: HttpRequest) -> CallbackOut:
    try:
        body: Any = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedMessage("body", "invalid", "the body is not JSON") from None
    provider = str(getattr(request, "auth", ""))  # set by ProviderSignature: the verified signer
    outcomes = G2PConnectAdapter().parse_callback(body, provider=provider)
    return CallbackOut(**services.payments_apply_callbacks(outcomes=outcomes))
