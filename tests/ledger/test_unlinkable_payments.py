"""Issue 17: the public log no longer links a person's payments, tells PKH components or names
villages. Two PKH cycles pay the same households through the real services (issue, the worker's
record step with the provider's answers, sequencing); then the log is read as anyone reads it.

- every payment entry carries a pseudonym of its own (no two payments share one, and the stable
  version-1 pseudonym of the person appears nowhere), no region, and a band for a PKH amount;
- the pseudonym still binds the payment's beneficiary and exact amount: the cross-check against
  the payments table catches a change of either, even one inside the band;
- version-1 entries already in a log still parse, sequence, verify and give valid receipts;
- the money adds up from the public entries alone (tepat.ledger.totals);
- the citizen's own receipt opens the pseudonym and proves the exact amount.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.conftest import pay, register_household
from tests.programs.conftest import *  # noqa: F403 - the programmes' cast

from tepat.core.errors import ValidationFailed
from tepat.ledger import entries, selectors
from tepat.ledger.keys import log_verifiers
from tepat.ledger.models import LogEntry
from tepat.ledger.receipts import receipt_verify
from tepat.ledger.services import checkpoint_publish, ledger_enqueue_many, ledger_sequence
from tepat.ledger.totals import totals_check
from tepat.payments import ledger_kinds
from tepat.payments import services as payments
from tepat.payments.models import Payment
from tepat.payments.providers import Outcome
from tepat.payments.selectors import ledger_cross_check
from tepat.programs import services as programs

# The fields a version-2 payment entry may have: nothing else (no region, no reused id).
PAYMENT_FIELDS = {
    "v", "kind", "programme", "cycle", "time", "payment", "beneficiary", "amount", "amount_min",
    "amount_max", "channel", "reason", "method", "point",
}  # fmt: skip
PAYMENT_KINDS = {"payment.sent", "payment.settled", "payment.failed", "handover.recorded"}


def _all_but_the_last(claimed: Any) -> list[Outcome]:
    """The bank paid all but the last, which it rejected."""
    last = max(c.id for c in claimed)
    return [
        Outcome(c.key, "rjct", "account_closed") if c.id == last else Outcome(c.key, "succ")
        for c in claimed
    ]


@pytest.fixture
def two_cycles(log_signer, regions, make_programme, make_cycle, bandung_operator, supervisor):
    households = [register_household(i) for i in (1, 2, 3)]
    desil = {h.id: 1 for h in households}
    programme = make_programme()
    for code in ("2026-T1", "2026-T2"):
        pay(operator=bandung_operator, supervisor=supervisor, cycle=make_cycle(programme, code=code),
            desil=desil, answer=_all_but_the_last)  # fmt: skip
    ledger_sequence(max_batch=1000)
    checkpoint_publish()
    return households


@pytest.fixture
def log_signer(settings):
    from tepat.ledger.note import Signer

    signer = Signer.generate("test.tepat/ledger")
    settings.LEDGER_ORIGIN = "test.tepat/ledger"
    settings.LEDGER_SIGNING_KEY = signer.skey()
    return signer


def _bodies(kinds: set[str] | None = None) -> list[dict[str, Any]]:
    rows = LogEntry.objects.order_by("index").values_list("body", flat=True)
    out = [json.loads(b) for b in rows]
    return [b for b in out if kinds is None or b["kind"] in kinds]


def test_two_payments_of_one_person_share_no_identifier_in_the_log(two_cycles):
    logged = _bodies(PAYMENT_KINDS)
    assert {b["v"] for b in logged} == {2}
    assert len({b["cycle"] for b in logged}) == 2
    by_payment: dict[str, set[str]] = {}
    for b in logged:
        assert set(b) <= PAYMENT_FIELDS, set(b) - PAYMENT_FIELDS
        by_payment.setdefault(b["payment"], set()).add(b["beneficiary"])
    # One pseudonym per payment (its sent and settled entries agree), and none shared.
    assert all(len(p) == 1 for p in by_payment.values())
    pseudonyms = [next(iter(p)) for p in by_payment.values()]
    assert len(set(pseudonyms)) == len(pseudonyms) == Payment.objects.count() == 6
    # The same person is paid in both cycles, and nothing in the log says so.
    people = Payment.objects.values_list("beneficiary_ref", flat=True)
    assert len(set(people)) == 3
    everything = LogEntry.objects.values_list("body", flat=True)
    for ref in set(people):
        stable = entries.pseudonymise(ref)
        assert not any(stable in body or ref in body for body in everything)


def test_no_payment_entry_names_a_region_and_pkh_amounts_are_banded(two_cycles):
    for b in _bodies(PAYMENT_KINDS):
        assert "region" not in b
        assert "area" not in b
        assert "amount" not in b  # a PKH amount is a sum of components: a band only
        assert b["amount_max"] - b["amount_min"] == entries.AMOUNT_BAND - 1
    for p in Payment.objects.all():
        low = p.amount // entries.AMOUNT_BAND * entries.AMOUNT_BAND
        sent = next(b for b in _bodies({"payment.sent"}) if b["payment"] == p.public_id)
        assert (sent["amount_min"], sent["amount_max"]) == (low, low + entries.AMOUNT_BAND - 1)


def test_a_flat_programmes_base_amount_is_exact_and_any_other_amount_banded():
    assert entries.public_amount(600_000, base=600_000) == {"amount": 600_000}
    assert entries.public_amount(650_000, base=600_000) == {
        "amount_min": 0,
        "amount_max": 999_999,
    }
    assert entries.public_amount(1_125_000, base=None) == {
        "amount_min": 1_000_000,
        "amount_max": 1_999_999,
    }


def test_a_sembako_payment_carries_its_flat_amount(
    log_signer, regions, make_programme, make_cycle, bandung_operator, supervisor
):
    households = [register_household(i) for i in (1, 2)]
    cycle = make_cycle(make_programme("sembako"))
    pay(operator=bandung_operator, supervisor=supervisor, cycle=cycle,
        desil={h.id: 1 for h in households}, answer=_all_but_the_last)  # fmt: skip
    assert {b.get("amount") for b in _pending_bodies(PAYMENT_KINDS)} == {600_000}


def _pending_bodies(kinds: set[str]) -> list[dict[str, Any]]:
    from tepat.ledger.models import PendingEntry

    rows = PendingEntry.objects.filter(kind__in=kinds).values_list("body", flat=True)
    return [json.loads(b) for b in rows]


def test_the_pseudonym_still_binds_the_beneficiary_and_the_exact_amount(two_cycles):
    assert ledger_cross_check() == []
    paid = Payment.objects.filter(state="paid").order_by("id")
    # Inside the band the public entry is unchanged, but the commitment is not.
    Payment.objects.filter(pk=paid[0].pk).update(amount=paid[0].amount + 1)
    Payment.objects.filter(pk=paid[1].pk).update(beneficiary_ref=paid[2].beneficiary_ref)
    problems = [p for _i, p in ledger_cross_check()]
    assert len(problems) == 2
    assert all("differs from the log's pseudonym" in p for p in problems)
    assert paid[0].public_id in problems[0] or paid[0].public_id in problems[1]


def test_the_pseudonym_depends_on_the_payments_own_salt(two_cycles):
    p = Payment.objects.filter(state="paid").first()
    body = next(b for b in _bodies({"payment.settled"}) if b["payment"] == p.public_id)
    args = {"payment": p.public_id, "beneficiary": p.beneficiary_ref, "amount": p.amount}
    assert entries.payment_pseudonym(salt=p.ledger_salt, **args) == body["beneficiary"]
    assert entries.payment_pseudonym(salt="00" * 16, **args) != body["beneficiary"]
    salts = list(Payment.objects.values_list("ledger_salt", flat=True))
    assert len(set(salts)) == len(salts)
    assert all(len(s) == 32 for s in salts)


def test_version_one_entries_still_parse_sequence_verify_and_give_valid_receipts(two_cycles):
    old = ledger_kinds.PaymentSent(
        programme="PKH", cycle="2025-T4", time=datetime(2025, 11, 28, 8, 0, tzinfo=UTC),
        payment="pay-old", beneficiary=entries.pseudonymise("3273010101900001"), amount=750_000,
        region="32.73.01.1001", channel="bank",
    )  # fmt: skip
    ledger_enqueue_many(items=[("payment.sent", old, "pay-old")])
    ledger_sequence(max_batch=10)
    checkpoint_publish()
    assert selectors.log_verify().ok
    stored = LogEntry.objects.get(ref="pay-old")
    parsed = entries.entry_validate(kind=stored.kind, body=json.loads(stored.body))
    assert type(parsed) is ledger_kinds.PaymentSent
    v2 = LogEntry.objects.filter(kind="payment.sent").exclude(ref="pay-old").first()
    parsed2 = entries.entry_validate(kind=v2.kind, body=json.loads(v2.body))
    assert type(parsed2) is ledger_kinds.PaymentSentV2
    for index in (stored.index, v2.index):
        assert receipt_verify(selectors.receipt(index=index), trusted_keys=log_verifiers()).ok


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 1_125_000, "amount_min": 1_000_000, "amount_max": 1_999_999},  # both
        {"amount_min": 2_000_000, "amount_max": 1_000_000},  # an upside-down band
        {"amount_min": 1_000_000},  # half a band
        {"region": "32.73.01.1001"},  # version 2 names no region
        {"v": 3},  # no such version
    ],
)
def test_a_version_two_entry_refuses_what_it_may_not_say(change):
    body = {
        "v": 2, "programme": "PKH", "cycle": "T1", "time": "2026-01-05T08:00:00Z",
        "payment": "pay-1", "beneficiary": "a" * 32, "amount_min": 1_000_000,
        "amount_max": 1_999_999, "channel": "bank",
    }  # fmt: skip
    body.update(change)
    if change == {"amount_min": 1_000_000}:
        body.pop("amount_max")
    with pytest.raises(ValidationFailed):
        entries.entry_validate(kind="payment.sent", body=body)


def test_the_money_adds_up_from_the_public_entries_alone(two_cycles):
    bodies = _bodies()
    assert totals_check(bodies) == []
    issued = [b for b in bodies if b["kind"] == "payments.issued"]
    approved = {b["cycle"]: b for b in bodies if b["kind"] == "cycle.approved"}
    for cycle in approved:
        mine = [b for b in issued if b["cycle"] == cycle]
        assert sum(b["payments"] for b in mine) == approved[cycle]["beneficiaries"]
        assert sum(b["total_amount"] for b in mine) == approved[cycle]["total_amount"]
    # A payment logged under a band its amount is not in, payments the cycle never issued, or a
    # paid total that no logged payments make: each shows.
    lowered = [
        {**b, "amount_min": 0, "amount_max": 999_999}
        if b["kind"] in PAYMENT_KINDS and b["cycle"] == "2026-T1"
        else b
        for b in bodies
    ]
    assert any("outside what its logged payments allow" in p for p in totals_check(lowered))
    settled = next(b for b in bodies if b["kind"] == "payment.settled")
    forged = [{**settled, "payment": f"forged-{i}"} for i in range(2)]
    assert any("payments, 3 were issued" in p for p in totals_check([*bodies, *forged]))
    closed = {"kind": "cycle.closed", "programme": settled["programme"], "cycle": settled["cycle"],
              "paid": 2, "paid_amount": 10, "failed": 1}  # fmt: skip
    assert any("paid total Rp10 is outside" in p for p in totals_check([*bodies, closed]))


def test_the_citizens_own_receipt_proves_the_exact_amount(two_cycles):
    from tepat.portal.citizen import receipt_for

    p = Payment.objects.filter(state="paid").select_related("entitlement__household").first()
    person = p.entitlement.household.members.get(relationship="head")
    index = LogEntry.objects.get(kind="payment.settled", ref=p.public_id).index
    receipt = receipt_for(person=person, payment_ref=p.public_id, index=index)
    result = receipt_verify(receipt, trusted_keys=log_verifiers())
    assert result.ok
    assert result.amount == p.amount
    assert "amount" not in json.loads(receipt["entry"])  # the public entry shows a band
    lied = {**receipt, "opening": {**receipt["opening"], "amount": p.amount + 1}}
    assert not receipt_verify(lied, trusted_keys=log_verifiers()).ok
    # Anyone else's copy of the receipt (the public API) carries no opening.
    assert "opening" not in selectors.receipt(index=index)


def test_a_payment_held_back_by_a_restriction_was_counted_with_the_first_issue(
    log_signer, regions, make_programme, make_cycle, bandung_operator, supervisor
):
    """A later run that pays one household whose restriction was lifted writes no area entry
    of its own (it would publish a count of one): the first issue counted it already."""
    from tepat.ledger.models import PendingEntry
    from tepat.registry.rights import person_restrict

    households = [register_household(i) for i in (1, 2, 3)]
    cycle = make_cycle(make_programme())
    programs.cycle_compute(
        acting_user=bandung_operator, cycle=cycle, desil={h.id: 1 for h in households}
    )
    programs.cycle_submit(acting_user=bandung_operator, cycle=cycle)
    programs.cycle_approve(acting_user=supervisor, cycle=cycle)
    head = households[0].members.get(relationship="head")
    person_restrict(person=head, restricted=True, reason="permintaan warga", acting_user=supervisor)
    assert payments.payments_issue(acting_user=bandung_operator, cycle=cycle) == 2
    issued = _pending_bodies({"payments.issued"})
    assert sum(b["payments"] for b in issued) == 3
    person_restrict(
        person=head, restricted=False, reason="permintaan warga", acting_user=supervisor
    )
    assert payments.payments_issue(acting_user=bandung_operator, cycle=cycle) == 1
    assert PendingEntry.objects.filter(kind="payments.issued").count() == len(issued)
