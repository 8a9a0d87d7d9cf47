from __future__ import annotations

import pytest

from tepat.core.errors import PermissionDenied, ValidationFailed
from tepat.verification import selectors, services
from tepat.verification.models import ProxyCollector
from tests.verification.conftest import handover


def by_proxy(v):
    item = handover(v)
    return services.HandoverIn(item.client_id, item.token, "card", item.device_time, by_proxy=True)


def register(operator, v, number="3273010101500001"):
    return services.proxy_register(
        acting_user=operator, person_ref=v.payment.beneficiary_ref, name="Ujang (anak)",
        id_number=number, reason="elderly",
    )  # fmt: skip


def test_a_registered_proxy_appears_in_the_day_list_as_a_hash(
    vouchers, bandung_operator, field_agent
):
    register(bandung_operator, vouchers[0])
    item = next(i for i in selectors.day_list(user=field_agent) if i["id"] == vouchers[0].public_id)
    assert item["proxies"] == [
        {
            "name": "Ujang (anak)",
            "check": services.card_check(vouchers[0].public_id, "3273010101500001"),
        }
    ]
    assert "3273010101500001" not in ProxyCollector.objects.get().id_number_enc


def test_a_handover_to_a_registered_proxy_is_accepted(vouchers, bandung_operator, field_agent):
    register(bandung_operator, vouchers[0])
    res = services.handovers_sync(
        acting_user=field_agent, device_id="hp", items=[by_proxy(vouchers[0])]
    )
    assert len(res.accepted) == 1


def test_a_handover_to_an_unregistered_proxy_is_rejected(vouchers, field_agent):
    res = services.handovers_sync(
        acting_user=field_agent, device_id="hp", items=[by_proxy(vouchers[0])]
    )
    assert list(res.rejected.values()) == ["no_registered_proxy"]


def test_a_proxy_needs_a_known_reason_and_an_id_number(vouchers, bandung_operator):
    with pytest.raises(ValidationFailed) as err:
        services.proxy_register(
            acting_user=bandung_operator, person_ref=vouchers[0].payment.beneficiary_ref,
            name="X", id_number="12", reason="busy",
        )  # fmt: skip
    assert {p.field for p in err.value.problems} == {"reason", "id_number"}


def test_a_field_agent_may_not_register_proxies(vouchers, field_agent):
    with pytest.raises(PermissionDenied):
        register(field_agent, vouchers[0])
