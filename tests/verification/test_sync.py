from __future__ import annotations

import datetime as dt
import uuid

from tepat.core.models import AuditEvent
from tepat.ledger.models import PendingEntry
from tepat.verification import services
from tepat.verification.models import Handover, HandoverStatus
from tests.verification.conftest import handover


def sync(agent, items, device="hp-1"):
    return services.handovers_sync(acting_user=agent, device_id=device, items=items)


def test_a_handover_is_accepted_and_appended_to_the_ledger(vouchers, field_agent):
    res = sync(field_agent, [handover(vouchers[0])])
    assert len(res.accepted) == 1
    h = Handover.objects.get()
    assert h.status == HandoverStatus.ACCEPTED
    entry = PendingEntry.objects.get(kind="handover.recorded")
    assert vouchers[0].payment.public_id in str(entry.body)
    assert vouchers[0].payment.beneficiary_ref not in str(entry.body)


def test_resending_the_same_batch_applies_it_exactly_once(vouchers, field_agent):
    batch = [handover(v) for v in vouchers]
    first = sync(field_agent, batch)
    again = sync(field_agent, batch)
    assert len(first.accepted) == 3
    assert again.accepted == []
    assert len(again.already) == 3
    assert Handover.objects.count() == 3
    assert PendingEntry.objects.filter(kind="handover.recorded").count() == 3


def test_a_client_id_repeated_inside_one_batch_counts_once(vouchers, field_agent):
    item = handover(vouchers[0])
    res = sync(field_agent, [item, item])
    assert len(res.accepted) == 1
    assert len(res.already) == 1


def test_the_second_device_redeeming_the_same_voucher_is_rejected_and_flagged(
    vouchers, field_agent
):
    first = sync(field_agent, [handover(vouchers[0])], device="hp-1")
    second = sync(field_agent, [handover(vouchers[0])], device="hp-2")
    assert len(first.accepted) == 1
    assert len(second.duplicates) == 1
    assert second.accepted == []
    dup = Handover.objects.get(device_id="hp-2")
    assert dup.status == HandoverStatus.DUPLICATE
    assert dup.flagged
    assert PendingEntry.objects.filter(kind="handover.recorded").count() == 1
    assert AuditEvent.objects.filter(
        action="verification.failed", detail__reason="double_redemption"
    ).exists()


def test_the_earlier_device_clock_does_not_win_over_arrival_order(vouchers, field_agent):
    late = dt.datetime.now(dt.UTC)
    sync(field_agent, [handover(vouchers[0], when=late)], device="hp-1")
    res = sync(
        field_agent, [handover(vouchers[0], when=late - dt.timedelta(hours=2))], device="hp-2"
    )
    assert len(res.duplicates) == 1


def test_a_device_clock_a_few_hours_off_is_tolerated(vouchers, field_agent):
    v = vouchers[0]
    skewed = v.valid_until + dt.timedelta(hours=3)
    assert len(sync(field_agent, [handover(v, when=skewed)]).accepted) == 1


def test_a_handover_long_after_validity_is_rejected_as_expired(vouchers, field_agent):
    v = vouchers[0]
    res = sync(field_agent, [handover(v, when=v.valid_until + dt.timedelta(days=2))])
    assert list(res.rejected.values()) == ["expired"]
    assert Handover.objects.count() == 0


def test_a_revoked_voucher_is_rejected_at_sync_and_flagged(vouchers, field_agent, bandung_operator):
    services.voucher_revoke(
        acting_user=bandung_operator, voucher_id=vouchers[0].public_id, reason="salah sasaran"
    )
    res = sync(field_agent, [handover(vouchers[0])])
    assert list(res.rejected.values()) == ["revoked"]
    assert Handover.objects.get().flagged


def test_a_forged_token_is_rejected(vouchers, field_agent):
    item = handover(vouchers[0])
    forged = services.HandoverIn(item.client_id, item.token[:-4] + "AAAA", "card", item.device_time)
    assert list(sync(field_agent, [forged]).rejected.values()) == ["bad_signature"]


def test_an_agent_cannot_redeem_a_voucher_outside_its_villages(vouchers, regions):
    from tests.conftest import make_staff

    bogor_agent = make_staff("agen_bogor", "field_agent", ("3201011001",))
    res = sync(bogor_agent, [handover(vouchers[0])])
    assert list(res.rejected.values()) == ["unknown_voucher"]


def test_a_bad_client_id_is_rejected_without_touching_the_rest(vouchers, field_agent):
    bad = services.HandoverIn("not-a-uuid", vouchers[0].token, "card", dt.datetime.now(dt.UTC))
    res = sync(field_agent, [bad, handover(vouchers[1], client_id=str(uuid.uuid4()))])
    assert res.rejected == {"not-a-uuid": "bad_client_id"}
    assert len(res.accepted) == 1


def test_an_accepted_handover_pays_the_payment_and_its_entitlement_once(vouchers, field_agent):
    from tepat.payments.models import PaymentState, SmsMessage
    from tepat.payments.selectors import ledger_cross_check
    from tepat.programs.models import EntitlementState

    payment = vouchers[0].payment
    sync(field_agent, [handover(vouchers[0])], device="hp-1")
    sync(field_agent, [handover(vouchers[0])], device="hp-2")  # a double redemption
    payment.refresh_from_db()
    assert payment.state == PaymentState.PAID
    assert payment.settled_at is not None
    assert payment.entitlement.state == EntitlementState.PAID
    assert SmsMessage.objects.filter(payment=payment, template="paid").count() == 1
    others = [v.payment for v in vouchers[1:]]
    for p in others:
        p.refresh_from_db()
        assert p.state != PaymentState.PAID
    # The handover entry is what the ledger holds for a cash or e-Warung payment.
    assert [problem for problem in ledger_cross_check() if payment.public_id in problem[1]] == []
