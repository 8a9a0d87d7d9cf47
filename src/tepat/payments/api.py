"""Payments API: issue, progress, dead letters, provider callbacks, statements, reconciliation."""

from __future__ import annotations

import datetime as dt
import hmac
import json
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from ninja.security import HttpBearer

from tepat.core.errors import PermissionDenied
from tepat.payments import selectors, services
from tepat.payments.models import Payment
from tepat.payments.providers import G2PConnectAdapter
from tepat.programs.api import CycleOut, cycle_out
from tepat.programs.selectors import cycle_get

router = Router(tags=["payments"])


class ProviderToken(HttpBearer):
    """Providers call back with `Authorization: Bearer <TEPAT_PROVIDER_CALLBACK_TOKEN>`."""

    def authenticate(self, request: HttpRequest, token: str) -> str | None:
        expected = str(services.setting("TEPAT_PROVIDER_CALLBACK_TOKEN", ""))
        if expected and hmac.compare_digest(token, expected):
            return "provider"
        return None


class IssuedOut(Schema):
    issued: int


class ProgressOut(Schema):
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


class ResolveIn(Schema):
    action: str
    reason: str


class StatementIn(Schema):
    provider: str = "g2p-connect"
    file_name: str
    content: str  # the CSV text


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
    clean: bool


class DifferenceOut(Schema):
    id: int
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
    n = services.payments_issue(acting_user=request.user, cycle=cycle_get(public_id=cycle_id))
    return IssuedOut(issued=n)


@router.get(
    "/cycles/{cycle_id}/progress", response=ProgressOut, summary="Kemajuan penyaluran / progress"
)
def progress(request: HttpRequest, cycle_id: str) -> ProgressOut:
    return ProgressOut(**selectors.cycle_progress(cycle=cycle_get(public_id=cycle_id)))


@router.get("/dead-letters", response=list[PaymentOut], summary="Pembayaran gagal / dead letters")
def dead_letters(request: HttpRequest, cycle_id: str | None = None) -> list[PaymentOut]:
    cycle = cycle_get(public_id=cycle_id) if cycle_id else None
    return [payment_out(p) for p in selectors.dead_letters(user=request.user, cycle=cycle)[:500]]


@router.post(
    "/{payment_id}/resolve", response=PaymentOut, summary="Selesaikan / resolve a dead letter"
)
def resolve(request: HttpRequest, payment_id: str, body: ResolveIn) -> PaymentOut:
    p = selectors.payment_get(user=request.user, public_id=payment_id)
    p = services.payment_resolve(
        acting_user=request.user, payment=p, action=body.action, reason=body.reason
    )
    return payment_out(p)


@router.post(
    "/statements", response={201: StatementOut}, summary="Impor rekening koran / import a statement"
)
def statement_import(request: HttpRequest, body: StatementIn) -> Status[Any]:
    st = services.statement_import(acting_user=request.user, provider=body.provider, file_name=body.file_name,
                                   data=body.content.encode(), adapter=G2PConnectAdapter())  # fmt: skip
    return Status(201, StatementOut(public_id=st.public_id, lines=st.lines))


def _rec(r: services.Reconciliation) -> ReconciliationOut:
    return ReconciliationOut(matched=r.matched, paid_not_ours=r.paid_not_ours, ours_not_paid=r.ours_not_paid,
                             amount_differs=r.amount_differs, status_differs=r.status_differs,
                             unexplained=r.unexplained, open_payments=r.open_payments, clean=r.clean)  # fmt: skip


@router.post(
    "/cycles/{cycle_id}/reconcile", response=ReconciliationOut, summary="Rekonsiliasi / reconcile"
)
def reconcile(request: HttpRequest, cycle_id: str) -> ReconciliationOut:
    return _rec(
        services.cycle_reconcile(acting_user=request.user, cycle=cycle_get(public_id=cycle_id))
    )


@router.get(
    "/cycles/{cycle_id}/differences", response=list[DifferenceOut], summary="Selisih / differences"
)
def differences(request: HttpRequest, cycle_id: str) -> list[DifferenceOut]:
    rows = selectors.differences(cycle=cycle_get(public_id=cycle_id))[:1000]
    return [DifferenceOut(id=d.pk, kind=d.kind, reference_id=d.reference_id, ours_amount=d.ours_amount,
                          their_amount=d.their_amount, explanation=d.explanation) for d in rows]  # fmt: skip


@router.post(
    "/differences/{difference_id}/explain", response=DifferenceOut, summary="Jelaskan selisih"
)
def explain(request: HttpRequest, difference_id: int, body: ExplainIn) -> DifferenceOut:
    d = services.difference_explain(acting_user=request.user, difference=selectors.difference_get(pk=difference_id),
                                    explanation=body.explanation)  # fmt: skip
    return DifferenceOut(id=d.pk, kind=d.kind, reference_id=d.reference_id, ours_amount=d.ours_amount,
                         their_amount=d.their_amount, explanation=d.explanation)  # fmt: skip


@router.post(
    "/cycles/{cycle_id}/distribute",
    response=CycleOut,
    summary="Tandai tersalurkan / mark distributed",
)
def distribute(request: HttpRequest, cycle_id: str) -> CycleOut:
    return cycle_out(
        services.cycle_distribute(acting_user=request.user, cycle=cycle_get(public_id=cycle_id))
    )


@router.post("/cycles/{cycle_id}/close", response=CycleOut, summary="Tutup tahap / close the cycle")
def close(request: HttpRequest, cycle_id: str) -> CycleOut:
    return cycle_out(
        services.cycle_close(acting_user=request.user, cycle=cycle_get(public_id=cycle_id))
    )


@router.post("/callbacks/on-disburse", response=CallbackOut, auth=ProviderToken(),
             summary="Callback penyalur (G2P Connect on-disburse) / provider callback")  # fmt: skip
def on_disburse(request: HttpRequest) -> CallbackOut:
    try:
        body: dict[str, Any] = json.loads(request.body or b"{}")
    except json.JSONDecodeError:
        raise PermissionDenied("bad callback body") from None
    counts = services.payments_apply_callbacks(outcomes=G2PConnectAdapter().parse_callback(body))
    return CallbackOut(**counts)
