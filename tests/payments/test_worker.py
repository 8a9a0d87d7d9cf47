from __future__ import annotations

import pytest

from tepat.core.errors import ValidationFailed
from tepat.ledger.models import PendingEntry
from tepat.payments import services, worker
from tepat.payments.models import Payment, PaymentState, SmsMessage
from tepat.payments.providers import G2PConnectAdapter
from tepat.programs.models import EntitlementState

pytestmark = [pytest.mark.django_db(transaction=False)]


def cfg(**kw):
    return worker.WorkerConfig(**{"batch": 100, "lease_s": 30, "max_attempts": 4,
                                  "backoff_base_s": 0.0, "backoff_cap_s": 0.0, **kw})  # fmt: skip


@pytest.fixture
def issued(approved_cycle, bandung_operator):
    services.payments_issue(acting_user=bandung_operator, cycle=approved_cycle)
    return approved_cycle


def test_issuing_writes_one_payment_per_entitlement_with_a_deterministic_key(
    issued, bandung_operator
):
    keys = list(Payment.objects.values_list("payment_key", flat=True))
    assert len(keys) == 3
    assert len(set(keys)) == 3
    e = issued.entitlements.first()
    assert services.payment_key(programme="PKH-2026", cycle="2026-T1", beneficiary=e.beneficiary_ref,
                                instalment=1) in keys  # fmt: skip
    assert services.payments_issue(acting_user=bandung_operator, cycle=issued) == 0
    assert Payment.objects.count() == 3


def test_payments_snapshot_the_account_and_mask_it(issued):
    p = Payment.objects.order_by("id").first()
    assert p.channel == "bank"
    assert p.provider == "BRI"
    assert p.payee_fa_masked == "******0001"
    assert "1000000001" not in p.payee_fa_enc


def test_the_worker_pays_everything_through_the_simulator_over_http(issued, provider_sim):
    sim = provider_sim()
    tally = worker.run(adapter=G2PConnectAdapter(sim.url, timeout_s=5), config=cfg(), once=True)
    assert tally.paid == 3
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.PAID}
    assert set(issued.entitlements.values_list("state", flat=True)) == {EntitlementState.PAID}
    journal = sim.journal()
    assert sorted(r[0] for r in journal) == sorted(
        Payment.objects.values_list("payment_key", flat=True)
    )
    kinds = list(
        PendingEntry.objects.filter(kind__startswith="payment.").values_list("kind", flat=True)
    )
    assert kinds.count("payment.sent") == 3
    assert kinds.count("payment.settled") == 3
    assert SmsMessage.objects.filter(template="paid").count() == 3


def test_transient_5xx_are_retried_with_backoff_until_they_succeed(issued, provider_sim):
    sim = provider_sim(transient_5xx_rate=0.6, seed=7)
    adapter = G2PConnectAdapter(sim.url, timeout_s=5)
    config = cfg(batch=1, max_attempts=50)
    for _ in range(60):
        worker.run(adapter=adapter, config=config, once=True)
        if not Payment.objects.exclude(state=PaymentState.PAID).exists():
            break
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.PAID}
    assert max(Payment.objects.values_list("attempts", flat=True)) > 1
    assert len(sim.journal()) == 3


def test_a_payment_failing_every_time_ends_in_the_dead_letters(issued, provider_sim):
    sim = provider_sim(transient_5xx_rate=1.0)
    adapter = G2PConnectAdapter(sim.url, timeout_s=5)
    for _ in range(4):
        worker.run(adapter=adapter, config=cfg(max_attempts=4), once=True)
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.DEAD}
    assert set(Payment.objects.values_list("attempts", flat=True)) == {4}
    assert sim.journal() == []


def test_backoff_grows_exponentially_and_is_capped():
    import random

    rng = random.Random(1)
    waits = [services.backoff_seconds(a, base=2, cap=60, rng=rng) for a in range(1, 9)]
    assert 1 <= waits[0] <= 2
    assert 8 <= waits[3] <= 16
    assert all(w <= 60 for w in waits)


def test_an_unreachable_provider_is_a_transient_error(issued):
    config = cfg(max_attempts=3, backoff_base_s=60.0, backoff_cap_s=60.0)
    tally = worker.run(
        adapter=G2PConnectAdapter("http://127.0.0.1:9", timeout_s=1), config=config, once=True
    )
    assert tally.retried == 3
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.ISSUED}


def test_a_closed_account_fails_permanently_without_retry(
    regions, make_programme, make_cycle, bandung_operator, supervisor, provider_sim
):
    from tepat.programs import services as ps
    from tests.conftest import register_household

    # The simulator treats an account starting 000... as closed.
    hh = register_household(9, account="0001234567")
    cycle = make_cycle(make_programme("sembako", rule="desil <= 4"))
    ps.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil={hh.id: 1})
    ps.cycle_submit(acting_user=bandung_operator, cycle=cycle)
    ps.cycle_approve(acting_user=supervisor, cycle=cycle)
    services.payments_issue(acting_user=bandung_operator, cycle=cycle)
    sim = provider_sim()
    worker.run(adapter=G2PConnectAdapter(sim.url, timeout_s=5), config=cfg(), once=True)
    p = Payment.objects.get()
    assert p.state == PaymentState.FAILED
    assert p.attempts == 1
    assert p.reason_code == "rjct.payee_fa.invalid"
    assert PendingEntry.objects.filter(kind="payment.failed").count() == 1
    # The operator re-issues it as cash through PT Pos: a new, deterministic payment.
    # The provider is asked first (it rejected this one, so nothing could have been paid).
    services.payment_resolve(acting_user=bandung_operator, payment=p, action="fallback_cash",
                             reason="rekening ditutup", adapter=G2PConnectAdapter(sim.url, timeout_s=5))  # fmt: skip
    new = Payment.objects.exclude(pk=p.pk).get()
    assert new.channel == "cash_pos"
    assert new.collection_place.startswith("Kantor Pos")
    worker.run(adapter=G2PConnectAdapter(sim.url, timeout_s=5), config=cfg(), once=True)
    new.refresh_from_db()
    assert new.state == PaymentState.PAID


def test_an_operator_retries_a_dead_letter(issued, provider_sim, bandung_operator):
    dead = provider_sim(transient_5xx_rate=1.0)
    worker.run(
        adapter=G2PConnectAdapter(dead.url, timeout_s=5), config=cfg(max_attempts=1), once=True
    )
    p = Payment.objects.order_by("id").first()
    assert p.state == PaymentState.DEAD
    with pytest.raises(ValidationFailed):
        services.payment_resolve(acting_user=bandung_operator, payment=p, action="retry", reason="")
    # The provider is asked first: it never received this one, so a retry cannot pay twice.
    services.payment_resolve(acting_user=bandung_operator, payment=p, action="retry",
                             reason="penyalur pulih", adapter=G2PConnectAdapter(dead.url, timeout_s=5))  # fmt: skip
    healthy = provider_sim()
    worker.run(adapter=G2PConnectAdapter(healthy.url, timeout_s=5), config=cfg(), once=True)
    assert Payment.objects.filter(state=PaymentState.PAID).count() == 1
