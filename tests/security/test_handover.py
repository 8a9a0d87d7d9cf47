"""Handovers at the point of distribution (cash through PT Pos, e-Warung vouchers).

Attacks tried: an agent (or a tampered field device) records a handover "by KKS card" for a
beneficiary who has no card on file, so the payout rests on the agent's word alone: through the
service and through the field app's offline sync endpoint. The refusal names the methods the
programme's policy offers instead (OTP, face); a registered proxy's ID number and an OTP checked
online still work without a card.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.utils import timezone

from tepat.core.models import AuditEvent
from tepat.ledger.models import PendingEntry
from tepat.payments.models import PaymentState
from tepat.registry.models import FinancialAddress
from tepat.verification import services as vs
from tepat.verification.models import Handover, HandoverStatus, OtpChallenge, Voucher
from tepat.verification.views import field_messages
from tests.verification.conftest import *  # noqa: F403 - the verification cast (vouchers, agent)
from tests.verification.conftest import handover

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_card(vouchers: list[Voucher]) -> Voucher:
    """The first voucher's beneficiary closed their KKS account: no card on file any more."""
    v = vouchers[0]
    FinancialAddress.objects.filter(person__public_id=v.payment.beneficiary_ref).update(
        valid_to=timezone.now()
    )
    return v


def _sync(agent: Any, items: list[vs.HandoverIn]) -> vs.SyncResult:
    return vs.handovers_sync(acting_user=agent, device_id="hp-1", items=items)


def test_a_card_handover_without_a_card_on_file_is_refused_quarantined_and_not_paid(
    no_card, field_agent
):
    res = _sync(field_agent, [handover(no_card, method="card")])
    assert res.accepted == []
    assert list(res.rejected.values()) == ["no_card_on_file"]
    h = Handover.objects.get()
    assert (h.status, h.reason, h.flagged) == (HandoverStatus.REJECTED, "no_card_on_file", True)
    no_card.payment.refresh_from_db()
    assert no_card.payment.state != PaymentState.PAID
    assert not PendingEntry.objects.filter(kind="handover.recorded").exists()


def test_the_refusal_names_the_other_methods_of_the_policy(no_card, field_agent, allow):
    allow("card", "otp", "face")
    _sync(field_agent, [handover(no_card, method="card")])
    event = AuditEvent.objects.get(action="verification.failed")
    assert event.detail["reason"] == "no_card_on_file; use: otp,face"
    assert "{methods}" in field_messages()["no_card_on_file"]


def test_a_card_only_policy_says_that_no_other_method_is_allowed(no_card, field_agent, allow):
    allow("card")
    res = _sync(field_agent, [handover(no_card, method="card")])
    assert list(res.rejected.values()) == ["no_card_on_file"]
    event = AuditEvent.objects.get(action="verification.failed")
    assert event.detail["reason"] == "no_card_on_file; use: none allowed"


def test_the_field_apps_sync_endpoint_refuses_a_card_handover_without_a_card(
    no_card, field_agent, staff_client
):
    item = handover(no_card, method="card")
    r = staff_client(field_agent).post(
        "/api/verification/sync",
        {"device_id": "hp-1", "handovers": [{"client_id": item.client_id, "token": item.token,
                                             "method": "card",
                                             "device_time": item.device_time.isoformat()}]},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 200
    assert r.json()["rejected"] == {item.client_id: "no_card_on_file"}
    assert not Handover.objects.filter(status=HandoverStatus.ACCEPTED).exists()


def test_a_beneficiary_with_a_card_on_file_still_collects_by_card(vouchers, no_card, field_agent):
    res = _sync(field_agent, [handover(vouchers[1], method="card")])
    assert len(res.accepted) == 1


def test_an_otp_checked_online_still_works_without_a_card(no_card, field_agent, allow):
    allow("card", "otp")
    OtpChallenge.objects.create(voucher=no_card, code_hash="x", used_at=timezone.now(),
                                expires_at=timezone.now() + dt.timedelta(minutes=5))  # fmt: skip
    res = _sync(field_agent, [handover(no_card, method="otp")])
    assert len(res.accepted) == 1


def test_a_registered_proxy_still_collects_with_their_own_id_number(
    no_card, field_agent, bandung_operator
):
    vs.proxy_register(acting_user=bandung_operator, person_ref=no_card.payment.beneficiary_ref,
                      name="Ujang (anak)", id_number="3273010101500001", reason="elderly")  # fmt: skip
    item = handover(no_card)
    res = _sync(field_agent, [vs.HandoverIn(str(uuid.uuid4()), item.token, "card",
                                            item.device_time, by_proxy=True)])  # fmt: skip
    assert len(res.accepted) == 1
