"""Money after approval: a cancelled cycle never pays, and a dead letter is never paid twice.

Attacks tried:
- cancel an approved cycle whose payments are issued, then let the worker run: it used to pay
  them all and flip the cancelled entitlements to paid (issue 16, item 1);
- cancel a cycle while one of its payments is with the provider (sending or sent);
- leave a cycle in a state that is not payable and see whether the worker still claims its
  payments, or records a provider's "paid" for it without anyone noticing;
- cancel a cycle or resolve a dead letter while the provider cannot say what it did;
- the provider executed a payment but the worker timed out and dead-lettered it; the operator
  re-issues it as cash: the same entitlement paid twice (issue 16, item 6);
- write off or retry a dead letter that was in fact paid;
- two successful payments of one entitlement (in our rows or in the provider's statement),
  explained away so the cycle can be closed;
- hand over an e-Warung voucher of a cycle that was cancelled;
- programs importing payments again (the import circle that let the lifecycle run both ways).
"""

# ruff: noqa: F811 - fixtures imported from the verification cast are requested by name
from __future__ import annotations

import ast
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

import tepat.programs
from tepat.core.errors import PermissionDenied, TepatError, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.ledger.models import PendingEntry
from tepat.payments import services as pay
from tepat.payments import worker
from tepat.payments.models import Difference, Payment, PaymentState, Statement, StatementLine
from tepat.payments.providers import G2PConnectAdapter, Instruction, Outcome, TransientProviderError
from tepat.programs import services as programs
from tepat.programs.models import Cycle, CycleState, EntitlementState
from tepat.verification import services as verification
from tepat.verification.models import Voucher
from tests.payments.conftest import *  # noqa: F403 - the programmes' cast and the simulator
from tests.verification.conftest import handover, voucher_cycle  # noqa: F401 - a fixture

P = PaymentState
pytestmark = pytest.mark.django_db


class Provider:
    """An in-memory provider that keeps its own journal of what it executed.

    `times_out`: executes, then the caller hears nothing (the nasty case). `answer`: what a
    submit returns (`succ`, or `rcvd` for a provider that answers later). `unreachable`: every
    call fails. `pending`: keys whose status it reports as still being processed."""

    name = "fake"

    def __init__(self) -> None:
        self.executed: dict[str, int] = {}
        self.times_out = False
        self.unreachable = False
        self.answer = "succ"
        self.pending: set[str] = set()
        self.status_calls = 0

    def submit(self, items: Sequence[Instruction]) -> list[Outcome]:
        if self.unreachable:
            raise TransientProviderError("ConnectionRefusedError")
        for i in items:
            self.executed.setdefault(i.reference_id, i.amount)
        if self.times_out:
            raise TransientProviderError("TimeoutError: timed out")
        return [self._said(i.reference_id, self.answer, amount=i.amount) for i in items]

    def _said(self, ref: str, status: str, reason: str = "", amount: int | None = None) -> Outcome:
        """An answer as the adapter hands it over: verified as coming from the payment's own
        provider, in rupiah."""
        who = Payment.objects.filter(payment_key=ref).values_list("provider", flat=True).first()
        return Outcome(ref, status, reason, amount=amount, provider=(who or "").upper(),
                       currency="IDR")  # fmt: skip

    def status(self, reference_ids: Sequence[str]) -> list[Outcome]:
        self.status_calls += 1
        if self.unreachable:
            raise TransientProviderError("ConnectionRefusedError")
        out = []
        for r in reference_ids:
            if r in self.pending:
                out.append(self._said(r, "pdng"))
            elif r in self.executed:
                out.append(self._said(r, "succ", amount=self.executed[r]))
            else:
                out.append(self._said(r, "rjct", "rjct.reference_id.invalid"))
        return out

    def parse_callback(self, body: dict[str, Any]) -> list[Outcome]:
        return []

    def parse_statement(self, data: bytes) -> list[Any]:
        return []


def cfg(**kw: Any) -> worker.WorkerConfig:
    return worker.WorkerConfig(**{"batch": 100, "lease_s": 30, "max_attempts": 4,
                                  "backoff_base_s": 0.0, "backoff_cap_s": 0.0, **kw})  # fmt: skip


@pytest.fixture
def issued(approved_cycle: Cycle, bandung_operator: Any) -> Cycle:
    pay.payments_issue(acting_user=bandung_operator, cycle=approved_cycle)
    return approved_cycle


@pytest.fixture
def provider() -> Provider:
    return Provider()


def _states(cycle: Cycle) -> list[str]:
    return list(Payment.objects.filter(cycle=cycle).order_by("id").values_list("state", flat=True))


def _dead_after_timeout(provider: Provider) -> None:
    """The provider executes every payment but the worker times out and dead-letters them."""
    provider.times_out = True
    worker.run(adapter=provider, config=cfg(max_attempts=1), once=True)
    provider.times_out = False


# --- item 1: a cancelled cycle never pays --------------------------------------------------


def test_the_programmes_service_refuses_to_cancel_an_approved_cycle(issued, supervisor):
    with pytest.raises(TepatError) as err:
        programs.cycle_cancel(acting_user=supervisor, cycle=issued, reason="anggaran dialihkan")
    assert err.value.code == "cancel_through_payments"
    issued.refresh_from_db()
    assert issued.state == CycleState.APPROVED


def test_cancelling_an_approved_cycle_cancels_its_issued_payments_so_the_worker_pays_nothing(
    issued, supervisor, provider
):
    pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="anggaran dialihkan",
                          adapter=provider)  # fmt: skip
    issued.refresh_from_db()
    assert issued.state == CycleState.CANCELLED
    assert set(_states(issued)) == {P.CANCELLED}
    assert set(issued.entitlements.values_list("state", flat=True)) == {EntitlementState.CANCELLED}
    tally = worker.run(adapter=provider, config=cfg(), once=True)
    assert tally.paid == 0
    assert provider.executed == {}
    assert set(issued.entitlements.values_list("state", flat=True)) == {EntitlementState.CANCELLED}
    assert AuditEvent.objects.filter(action="payments.cancel", target_id=issued.public_id).exists()
    assert PendingEntry.objects.filter(kind="cycle.cancelled").count() == 1
    assert issued.events.last().action == "cancel"


def test_the_worker_claims_nothing_from_a_cycle_that_is_not_approved(issued, provider):
    # However a cycle left the payable state (a bug, a hand edit), its payments stay put.
    Cycle.objects.filter(pk=issued.pk).update(state=CycleState.CANCELLED)
    assert pay.payments_claim(worker="w1", batch=100, lease_s=30) == []
    worker.run(adapter=provider, config=cfg(), once=True)
    assert provider.executed == {}
    assert set(_states(issued)) == {P.ISSUED}


def test_a_cycle_cannot_be_cancelled_while_a_payment_is_being_sent(issued, supervisor, provider):
    claimed = pay.payments_claim(worker="w1", batch=1, lease_s=30)
    assert len(claimed) == 1
    with pytest.raises(TepatError) as err:
        pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    assert err.value.code == "payments_in_flight"
    issued.refresh_from_db()
    assert issued.state == CycleState.APPROVED
    assert sorted(_states(issued)) == [P.ISSUED, P.ISSUED, P.SENDING]


def test_a_cycle_cannot_be_cancelled_while_the_provider_holds_a_payment(
    issued, supervisor, provider
):
    provider.answer = "rcvd"  # accepted, the outcome comes later by callback
    worker.run(adapter=provider, config=cfg(), once=True)
    assert set(_states(issued)) == {P.SENT}
    with pytest.raises(TepatError) as err:
        pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    assert err.value.code == "payments_in_flight"


def test_cancelling_keeps_paid_payments_paid_and_cancels_the_rest(issued, supervisor, provider):
    worker.work_once(adapter=provider, config=cfg(batch=1), tally=worker.Tally())
    assert sorted(_states(issued)) == [P.ISSUED, P.ISSUED, P.PAID]
    pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    assert sorted(_states(issued)) == [P.CANCELLED, P.CANCELLED, P.PAID]
    assert sorted(issued.entitlements.values_list("state", flat=True)) == [
        EntitlementState.CANCELLED, EntitlementState.CANCELLED, EntitlementState.PAID,
    ]  # fmt: skip
    entry = PendingEntry.objects.get(kind="cycle.cancelled")
    assert '"paid":1' in entry.body
    assert '"cancelled":2' in entry.body


def test_a_dead_letter_the_provider_executed_is_recorded_paid_when_its_cycle_is_cancelled(
    issued, supervisor, provider
):
    _dead_after_timeout(provider)
    assert set(_states(issued)) == {P.DEAD}
    pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    issued.refresh_from_db()
    assert issued.state == CycleState.CANCELLED
    assert set(_states(issued)) == {P.PAID}
    assert set(issued.entitlements.values_list("state", flat=True)) == {EntitlementState.PAID}
    assert PendingEntry.objects.filter(kind="payment.settled").count() == 3


def test_a_cancel_is_refused_while_the_provider_cannot_say_what_it_did(
    issued, supervisor, provider
):
    _dead_after_timeout(provider)
    provider.unreachable = True
    with pytest.raises(TepatError) as err:
        pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    assert err.value.code == "provider_status_unknown"
    provider.unreachable = False
    provider.pending = set(provider.executed)
    with pytest.raises(TepatError) as err:
        pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    assert err.value.code == "provider_status_unknown"
    issued.refresh_from_db()
    assert issued.state == CycleState.APPROVED
    assert set(_states(issued)) == {P.DEAD}


def test_a_payment_waiting_for_its_retry_that_the_provider_executed_holds_the_cancel_back(
    issued, supervisor, provider
):
    # A time-out sends the payment back to the outbox (not yet dead): it may have executed.
    provider.times_out = True
    worker.run(adapter=provider, config=cfg(max_attempts=5, backoff_base_s=600, backoff_cap_s=600),
               once=True)  # fmt: skip
    provider.times_out = False
    assert set(_states(issued)) == {P.ISSUED}
    with pytest.raises(TepatError) as err:
        pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    assert err.value.code == "payments_in_flight"
    assert provider.status_calls == 1
    # Its retry hears the provider's first answer again (same key), and the cancel goes through.
    Payment.objects.filter(cycle=issued).update(next_attempt_at=timezone.now())
    worker.run(adapter=provider, config=cfg(), once=True)
    pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    issued.refresh_from_db()
    assert issued.state == CycleState.CANCELLED
    assert set(_states(issued)) == {P.PAID}
    assert len(provider.executed) == 3


def test_a_payment_waiting_for_its_retry_that_the_provider_never_received_is_cancelled(
    issued, supervisor, provider
):
    provider.unreachable = True
    worker.run(adapter=provider, config=cfg(max_attempts=5, backoff_base_s=600, backoff_cap_s=600),
               once=True)  # fmt: skip
    provider.unreachable = False
    assert set(_states(issued)) == {P.ISSUED}
    pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason="batal", adapter=provider)
    assert set(_states(issued)) == {P.CANCELLED}
    Payment.objects.filter(cycle=issued).update(next_attempt_at=timezone.now())
    worker.run(adapter=provider, config=cfg(), once=True)
    assert provider.executed == {}


def test_a_paid_result_for_a_cycle_no_longer_payable_shows_as_a_difference(issued, provider):
    claimed = pay.payments_claim(worker="w1", batch=100, lease_s=30)
    Cycle.objects.filter(pk=issued.pk).update(state=CycleState.CANCELLED)
    issued.entitlements.update(state=EntitlementState.CANCELLED)
    outcomes = [Outcome(c.key, "succ", amount=c.amount) for c in claimed]
    pay.payments_record(worker="w1", claimed=claimed, outcomes=outcomes)
    # The money moved, so the payment says so, and a difference says it should not have.
    assert set(_states(issued)) == {P.PAID}
    kinds = set(Difference.objects.filter(cycle=issued).values_list("kind", flat=True))
    assert kinds == {Difference.Kind.PAID_CANCELLED}
    assert set(issued.entitlements.values_list("state", flat=True)) == {EntitlementState.CANCELLED}


def test_only_an_approver_with_a_reason_cancels_an_approved_cycle(
    issued, bandung_operator, supervisor, provider
):
    with pytest.raises(PermissionDenied):
        pay.cycle_cancel(acting_user=bandung_operator, cycle=issued, reason="batal",
                              adapter=provider)  # fmt: skip
    with pytest.raises(ValidationFailed):
        pay.cycle_cancel(acting_user=supervisor, cycle=issued, reason=" ", adapter=provider)
    assert set(_states(issued)) == {P.ISSUED}


def test_an_approved_cycle_is_cancelled_through_the_payments_api(issued, supervisor, staff_client):
    c = staff_client(supervisor)
    old = c.post(f"/api/programs/cycles/{issued.public_id}/cancel", {"reason": "batal"},
                 content_type="application/json")  # fmt: skip
    assert old.status_code == 409
    r = c.post(f"/api/payments/cycles/{issued.public_id}/cancel", {"reason": "batal"},
               content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "cancelled"
    assert set(_states(issued)) == {P.CANCELLED}


def test_an_approved_cycle_is_cancelled_through_its_page(issued, supervisor, staff_client):
    c = staff_client(supervisor)
    page = c.get(f"/program/tahap/{issued.public_id}/").content.decode()
    assert f"/penyaluran/tahap/{issued.public_id}/batalkan/" in page
    c.post(f"/penyaluran/tahap/{issued.public_id}/batalkan/", {"reason": "batal"})
    issued.refresh_from_db()
    assert issued.state == CycleState.CANCELLED


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.append(node.value)  # importlib.import_module("tepat.payments...")
    return names


def test_programs_never_imports_payments():
    root = Path(tepat.programs.__file__).parent
    offenders = {
        f"{path.relative_to(root)}: {name}"
        for path in root.rglob("*.py")
        for name in _imports(ast.parse(path.read_text(encoding="utf-8")))
        if name == "tepat.payments" or name.startswith("tepat.payments.")
    }
    assert offenders == set()


# --- item 6: paying twice through a dead letter ----------------------------------------------


def test_a_dead_letter_the_provider_executed_cannot_be_paid_again_in_cash(
    issued, bandung_operator, provider_sim
):
    # The provider executes, then answers too late: the worker times out and dead-letters.
    sim = provider_sim(timeout_rate=1.0, timeout_sleep=3)
    slow = G2PConnectAdapter(sim.url, timeout_s=0.5)
    worker.run(adapter=slow, config=cfg(batch=1, max_attempts=1), once=True)
    assert set(_states(issued)) == {P.DEAD}
    assert len(sim.journal()) == 3  # the money moved for all three
    victim = Payment.objects.filter(cycle=issued).order_by("id").first()
    with pytest.raises(TepatError) as err:
        pay.payment_resolve(acting_user=bandung_operator, payment=victim,
                                 action="fallback_cash", reason="rekening bermasalah",
                                 adapter=G2PConnectAdapter(sim.url, timeout_s=5))  # fmt: skip
    assert err.value.code == "provider_executed"
    victim.refresh_from_db()
    assert victim.state == P.PAID
    assert Payment.objects.filter(entitlement_id=victim.entitlement_id).count() == 1
    assert victim.entitlement.state == EntitlementState.PAID
    assert PendingEntry.objects.filter(kind="payment.settled", ref=victim.public_id).count() == 1


def test_a_write_off_or_retry_of_an_executed_dead_letter_is_refused(
    issued, bandung_operator, provider
):
    _dead_after_timeout(provider)
    first, second = Payment.objects.filter(cycle=issued).order_by("id")[:2]
    for p, action in ((first, "write_off"), (second, "retry")):
        with pytest.raises(TepatError) as err:
            pay.payment_resolve(acting_user=bandung_operator, payment=p, action=action,
                                     reason="cek", adapter=provider)  # fmt: skip
        assert err.value.code == "provider_executed"
        p.refresh_from_db()
        assert p.state == P.PAID


def test_a_dead_letter_is_not_resolved_while_the_provider_cannot_say_what_it_did(
    issued, bandung_operator, provider
):
    _dead_after_timeout(provider)
    p = Payment.objects.filter(cycle=issued).order_by("id").first()
    provider.unreachable = True
    with pytest.raises(TepatError) as err:
        pay.payment_resolve(acting_user=bandung_operator, payment=p, action="fallback_cash",
                                 reason="cek", adapter=provider)  # fmt: skip
    assert err.value.code == "provider_status_unknown"
    provider.unreachable = False
    provider.pending = {p.payment_key}
    with pytest.raises(TepatError) as err:
        pay.payment_resolve(acting_user=bandung_operator, payment=p, action="write_off",
                                 reason="cek", adapter=provider)  # fmt: skip
    assert err.value.code == "provider_status_unknown"
    p.refresh_from_db()
    assert p.state == P.DEAD
    assert Payment.objects.filter(entitlement_id=p.entitlement_id).count() == 1


def test_a_dead_letter_the_provider_never_received_is_reissued_in_cash(
    issued, bandung_operator, provider
):
    provider.unreachable = True
    worker.run(adapter=provider, config=cfg(max_attempts=1), once=True)
    provider.unreachable = False
    p = Payment.objects.filter(cycle=issued).order_by("id").first()
    assert p.state == P.DEAD
    pay.payment_resolve(acting_user=bandung_operator, payment=p, action="fallback_cash",
                             reason="rekening ditutup", adapter=provider)  # fmt: skip
    p.refresh_from_db()
    assert p.state == P.CANCELLED
    cash = Payment.objects.exclude(pk=p.pk).get(entitlement_id=p.entitlement_id)
    assert cash.channel == "cash_pos"
    assert provider.status_calls == 1


def test_polling_settles_dead_letters_the_provider_executed(issued, provider):
    _dead_after_timeout(provider)
    counts = pay.payments_poll_status(adapter=provider, older_than_s=0)
    assert counts["paid"] == 3
    assert set(_states(issued)) == {P.PAID}
    assert set(issued.entitlements.values_list("state", flat=True)) == {EntitlementState.PAID}


def test_the_worker_polls_dead_letters_on_its_own(issued, provider):
    _dead_after_timeout(provider)
    worker.run(adapter=provider, config=cfg(poll_sent_after_s=0), once=True)
    assert set(_states(issued)) == {P.PAID}


def test_a_dead_letter_still_unknown_is_asked_about_again_only_later(issued, provider):
    provider.unreachable = True
    worker.run(adapter=provider, config=cfg(max_attempts=1), once=True)
    provider.unreachable = False
    pay.payments_poll_status(adapter=provider, older_than_s=0)
    calls = provider.status_calls
    assert set(_states(issued)) == {P.DEAD}  # the provider never received them: still ours
    pay.payments_poll_status(adapter=provider, older_than_s=0)
    assert provider.status_calls == calls


def _second_payment(first: Payment, *, state: str) -> Payment:
    """A re-issue of `first` as cash, as the old fallback wrote it (no provider check)."""
    cycle = first.cycle
    key = pay.payment_key(programme=cycle.programme.code, cycle=cycle.code,
                               beneficiary=first.beneficiary_ref, instalment=cycle.instalment,
                               series=1)  # fmt: skip
    return Payment.objects.create(
        payment_key=key, cycle=cycle, entitlement_id=first.entitlement_id,
        beneficiary_ref=first.beneficiary_ref, village_code=first.village_code,
        amount=first.amount, channel="cash_pos", provider="POS", payee_fa_enc="x",
        payee_fa_masked="POS", next_attempt_at=first.next_attempt_at, state=state,
    )  # fmt: skip


def _statement(lines: list[tuple[str, int]]) -> None:
    st = Statement.objects.create(provider="sim", statement_date="2026-02-01", file_name="s.csv",
                                  file_sha256=hashlib.sha256(repr(lines).encode()).hexdigest())  # fmt: skip
    StatementLine.objects.bulk_create(
        [StatementLine(statement=st, reference_id=k, amount=a, status="succ") for k, a in lines]
    )


def test_two_successful_payments_of_one_entitlement_block_distribution_and_cannot_be_explained(
    issued, bandung_operator, supervisor, provider
):
    worker.run(adapter=provider, config=cfg(), once=True)
    first = Payment.objects.filter(cycle=issued).order_by("id").first()
    twice = _second_payment(first, state=P.PAID)
    everything = list(Payment.objects.filter(cycle=issued).values_list("payment_key", "amount"))
    _statement(everything)
    rec = pay.cycle_reconcile(acting_user=bandung_operator, cycle=issued)
    assert rec.paid_twice == 1
    assert not rec.clean
    d = Difference.objects.get(kind=Difference.Kind.PAID_TWICE)
    assert d.reference_id == twice.payment_key
    assert (d.ours_amount, d.their_amount) == (first.amount, 2 * first.amount)
    with pytest.raises(TepatError) as err:
        pay.difference_explain(acting_user=supervisor, difference=d,
                                    explanation="dibayar dua kali, sudah dikembalikan")  # fmt: skip
    assert err.value.code == "not_explainable"
    with pytest.raises(TepatError) as err:
        pay.cycle_distribute(acting_user=supervisor, cycle=issued)
    assert err.value.code == "paid_twice"
    issued.refresh_from_db()
    assert issued.state == CycleState.APPROVED


def test_a_statement_that_shows_both_keys_paid_is_a_double_payment(
    issued, bandung_operator, supervisor, provider
):
    # Yesterday's attack, as the books show it: the bank leg was dead-lettered and cancelled
    # by a cash re-issue, but the provider's statement has both succeeded.
    worker.run(adapter=provider, config=cfg(), once=True)
    first = Payment.objects.filter(cycle=issued).order_by("id").first()
    Payment.objects.filter(pk=first.pk).update(state=P.CANCELLED)
    cash = _second_payment(first, state=P.PAID)
    _statement(list(Payment.objects.filter(cycle=issued).values_list("payment_key", "amount")))
    rec = pay.cycle_reconcile(acting_user=bandung_operator, cycle=issued)
    assert rec.paid_twice == 1
    assert Difference.objects.filter(kind=Difference.Kind.PAID_TWICE,
                                     reference_id=cash.payment_key).exists()  # fmt: skip
    with pytest.raises(TepatError):
        pay.cycle_distribute(acting_user=supervisor, cycle=issued)


def test_closing_a_distributed_cycle_is_refused_once_a_double_payment_comes_to_light(
    issued, bandung_operator, supervisor, provider
):
    worker.run(adapter=provider, config=cfg(), once=True)
    _statement(list(Payment.objects.filter(cycle=issued).values_list("payment_key", "amount")))
    pay.cycle_distribute(acting_user=supervisor, cycle=issued)
    first = Payment.objects.filter(cycle=issued).order_by("id").first()
    cash = _second_payment(first, state=P.CANCELLED)
    _statement([(cash.payment_key, cash.amount)])  # a late statement: it was paid after all
    with pytest.raises(TepatError) as err:
        pay.cycle_close(acting_user=supervisor, cycle=issued)
    assert err.value.code == "paid_twice"
    issued.refresh_from_db()
    assert issued.state == CycleState.DISTRIBUTED


def test_a_voucher_of_a_cancelled_cycle_is_refused_at_the_counter(
    voucher_cycle, supervisor, field_agent
):
    pay.cycle_cancel(acting_user=supervisor, cycle=voucher_cycle, reason="anggaran dialihkan")
    v = Voucher.objects.select_related("payment").order_by("id").first()
    res = verification.handovers_sync(
        acting_user=field_agent, device_id="warung", items=[handover(v)]
    )
    assert res.accepted == []
    assert list(res.rejected.values()) == ["payment_cancelled"]
    v.payment.refresh_from_db()
    assert v.payment.state == P.CANCELLED
    assert not PendingEntry.objects.filter(kind="handover.recorded").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_worker_passes_a_cycle_by_while_it_is_being_cancelled(issued):
    if connection.vendor != "postgresql":
        pytest.skip("the cycle's shared lock is PostgreSQL's FOR SHARE (SQLite has one writer)")
    held, release = threading.Event(), threading.Event()

    def cancel_in_progress() -> None:
        try:
            with transaction.atomic():
                pay.cycle_lock(issued)
                held.set()
                release.wait(10)
        finally:
            connection.close()

    t = threading.Thread(target=cancel_in_progress)
    t.start()
    try:
        assert held.wait(10)
        assert pay.payments_claim(worker="w1", batch=10, lease_s=30) == []
    finally:
        release.set()
        t.join()
    assert len(pay.payments_claim(worker="w1", batch=10, lease_s=30)) == 3
