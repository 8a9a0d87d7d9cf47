"""Tamper evidence across tables: a stored payment that no longer says what the transparency log
says makes `tepat ledger verify` fail and name the first bad entry."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tepat.ledger.models import LogEntry
from tepat.ledger.services import ledger_sequence
from tepat.payments import worker
from tepat.payments.models import Payment, PaymentState
from tepat.payments.providers import G2PConnectAdapter
from tepat.payments.selectors import ledger_cross_check
from tests.conftest import pay

pytestmark = [pytest.mark.django_db(transaction=False)]


@pytest.fixture
def paid(approved_cycle, bandung_operator, provider_sim):
    sim = provider_sim()
    config = worker.WorkerConfig(
        batch=100, lease_s=30, max_attempts=4, backoff_base_s=0.0, backoff_cap_s=0.0
    )
    pay(operator=bandung_operator, cycle=approved_cycle,
        adapter=G2PConnectAdapter(sim.url, timeout_s=5), worker_config=config)  # fmt: skip
    ledger_sequence(max_batch=1000)
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.PAID}
    return approved_cycle


def _settled_index(payment: Payment) -> int:
    return LogEntry.objects.get(kind="payment.settled", ref=payment.public_id).index


def test_untouched_payments_agree_with_the_log(paid, capsys):
    assert ledger_cross_check() == []
    call_command("ledger", "verify")
    assert "every settled payment matches its log entry" in capsys.readouterr().out


def test_a_changed_amount_is_named_by_its_log_entry(paid):
    victim = Payment.objects.order_by("id")[1]
    Payment.objects.filter(pk=victim.pk).update(amount=victim.amount + 100_000)
    problems = ledger_cross_check()
    assert problems[0][0] == _settled_index(victim)
    assert "amount" in problems[0][1]
    with pytest.raises(CommandError, match=f"first bad entry: {_settled_index(victim)}"):
        call_command("ledger", "verify")


def test_a_payment_turned_from_paid_to_failed_is_caught(paid):
    victim = Payment.objects.order_by("id").first()
    Payment.objects.filter(pk=victim.pk).update(state=PaymentState.FAILED)
    (problem,) = ledger_cross_check()
    assert problem[0] == _settled_index(victim)
    assert "payment.settled" in problem[1]


def test_a_deleted_payment_leaves_its_log_entry_unmatched(paid):
    from django.db import connection

    victim = Payment.objects.order_by("id").last()
    index = _settled_index(victim)
    # A settled payment can only disappear behind the application's back: delete the row in SQL.
    with connection.cursor() as cursor:
        for model in ("payments_smsmessage", "payments_difference"):
            cols = [c.name for c in connection.introspection.get_table_description(cursor, model)]
            if "payment_id" in cols:
                cursor.execute(f"DELETE FROM {model} WHERE payment_id = %s", [victim.pk])  # noqa: S608
        cursor.execute("DELETE FROM payments_payment WHERE id = %s", [victim.pk])
    problems = ledger_cross_check()
    assert [p[0] for p in problems] == [index]
    assert "missing or not settled" in problems[0][1]
