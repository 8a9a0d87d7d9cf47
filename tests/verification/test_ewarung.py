from __future__ import annotations

import pytest

from tepat.core.errors import PermissionDenied
from tepat.verification import selectors, services
from tests.verification.conftest import handover


def test_the_ewarung_is_settled_once_for_what_it_redeemed(vouchers, field_agent, bandung_operator):
    services.handovers_sync(
        acting_user=field_agent, device_id="warung", items=[handover(v) for v in vouchers[:2]]
    )
    st = services.ewarung_settle(acting_user=bandung_operator, ewarung=field_agent)
    assert st.vouchers == 2
    assert st.amount == sum(v.payment.amount for v in vouchers[:2])
    assert services.ewarung_settle(acting_user=bandung_operator, ewarung=field_agent) is None
    services.handovers_sync(
        acting_user=field_agent, device_id="warung", items=[handover(vouchers[2])]
    )
    assert services.ewarung_settle(acting_user=bandung_operator, ewarung=field_agent).vouchers == 1


def test_the_ewarung_sees_its_own_record_with_settlements(
    vouchers, field_agent, bandung_operator, staff_client
):
    services.handovers_sync(
        acting_user=field_agent, device_id="warung", items=[handover(vouchers[0])]
    )
    st = services.ewarung_settle(acting_user=bandung_operator, ewarung=field_agent)
    rows = staff_client(field_agent).get("/api/verification/ewarung/record").json()
    assert [(r["voucher"], r["settlement"]) for r in rows] == [
        (vouchers[0].public_id, st.public_id)
    ]
    assert selectors.ewarung_record(user=bandung_operator) == []


def test_a_double_redemption_is_never_settled(vouchers, field_agent, bandung_operator):
    services.handovers_sync(acting_user=field_agent, device_id="a", items=[handover(vouchers[0])])
    services.handovers_sync(acting_user=field_agent, device_id="b", items=[handover(vouchers[0])])
    assert services.ewarung_settle(acting_user=bandung_operator, ewarung=field_agent).vouchers == 1


def test_a_field_agent_cannot_settle_itself(vouchers, field_agent):
    with pytest.raises(PermissionDenied):
        services.ewarung_settle(acting_user=field_agent, ewarung=field_agent)
