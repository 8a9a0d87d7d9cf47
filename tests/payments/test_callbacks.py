from __future__ import annotations

import os
import time

import pytest

from tepat.ledger.models import PendingEntry
from tepat.payments import services, worker
from tepat.payments.models import Payment, PaymentState
from tepat.payments.providers import G2PConnectAdapter, Outcome


@pytest.fixture
def issued(approved_cycle, bandung_operator):
    services.payments_issue(acting_user=bandung_operator, cycle=approved_cycle)
    return approved_cycle


@pytest.mark.django_db
def test_duplicate_and_stale_callbacks_change_nothing_after_the_first_outcome(issued):
    Payment.objects.update(state=PaymentState.SENT)  # handed to the provider
    p = Payment.objects.order_by("id").first()
    key = p.payment_key

    def said(status: str, reason: str = "") -> Outcome:
        return Outcome(key, status, reason, amount=p.amount, provider="BRI", currency="IDR")

    first = services.payments_apply_callbacks(outcomes=[said("succ")])
    again = services.payments_apply_callbacks(
        outcomes=[said("succ"), said("pdng"), said("rjct", "x")]
    )
    assert first["paid"] == 1
    assert again == {"paid": 0, "failed": 0, "ignored": 3, "refused": 0}
    assert Payment.objects.get(payment_key=key).state == PaymentState.PAID
    assert PendingEntry.objects.filter(kind="payment.settled").count() == 1


@pytest.mark.django_db
def test_an_unsigned_callback_is_refused(client):
    r = client.post("/api/payments/callbacks/on-disburse", data="{}", content_type="application/json",
                    HTTP_AUTHORIZATION="Bearer salah")  # fmt: skip
    assert r.status_code == 401


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgres" not in os.environ.get("TEPAT_DATABASE_URL", ""),
    reason="PostgreSQL only: on SQLite the test database is in memory and the live server thread "
    "shares the test's one connection, so a callback arriving while the worker holds a "
    "transaction races it (no such savepoint)",
)
def test_async_callbacks_from_the_simulator_settle_payments_over_http(
    issued, provider_sim, live_server
):
    sim = provider_sim(duplicate_callback_rate=1.0, out_of_order_rate=1.0, callback_delay_ms=10)
    adapter = G2PConnectAdapter(sim.url, timeout_s=5,
                                callback_url=f"{live_server.url}/api/payments/callbacks/on-disburse")  # fmt: skip
    tally = worker.run(adapter=adapter, config=worker.WorkerConfig(), once=True)
    assert tally.sent == 3
    deadline = time.monotonic() + 15
    while Payment.objects.exclude(state=PaymentState.PAID).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.5)  # let the duplicate and stale callbacks arrive too
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.PAID}
    assert PendingEntry.objects.filter(kind="payment.settled").count() == 3
    assert PendingEntry.objects.filter(kind="payment.sent").count() == 3


@pytest.mark.django_db
def test_payments_whose_callback_never_came_are_settled_by_asking_the_provider(
    issued, provider_sim
):
    sim = provider_sim()
    lost = G2PConnectAdapter(sim.url, timeout_s=5, callback_url="http://127.0.0.1:9/nowhere")
    tally = worker.run(adapter=lost, config=worker.WorkerConfig(), once=True)
    assert tally.sent == 3
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.SENT}
    counts = services.payments_poll_status(adapter=lost, older_than_s=0)
    assert counts["paid"] == 3
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.PAID}
