from __future__ import annotations

import json
import re

import pytest

from tepat.core.errors import NotFound
from tepat.verification import services


class Gateway:
    def __init__(self):
        self.sent = []

    def send(self, messages):
        self.sent.extend(messages)
        return [m[0] for m in messages]


def code_of(gw):
    return re.search(r"\b(\d{6})\b", gw.sent[-1][2]).group(1)


def test_the_code_goes_to_the_registered_phone_and_checks_once(vouchers, field_agent):
    gw = Gateway()
    services.otp_send(acting_user=field_agent, voucher_id=vouchers[0].public_id, gateway=gw)
    assert gw.sent[0][1] == "081234567890"
    code = code_of(gw)
    assert services.otp_check(acting_user=field_agent, voucher_id=vouchers[0].public_id, code=code)
    assert not services.otp_check(
        acting_user=field_agent, voucher_id=vouchers[0].public_id, code=code
    )


def test_a_wrong_code_fails_and_is_audited(vouchers, field_agent):
    from tepat.core.models import AuditEvent

    gw = Gateway()
    services.otp_send(acting_user=field_agent, voucher_id=vouchers[0].public_id, gateway=gw)
    wrong = "000000" if code_of(gw) != "000000" else "111111"
    assert not services.otp_check(
        acting_user=field_agent, voucher_id=vouchers[0].public_id, code=wrong
    )
    assert AuditEvent.objects.filter(action="verification.failed", detail__method="otp").exists()


def test_attempts_are_limited(vouchers, field_agent, settings):
    settings.TEPAT_OTP_MAX_ATTEMPTS = 2
    gw = Gateway()
    vid = vouchers[0].public_id
    services.otp_send(acting_user=field_agent, voucher_id=vid, gateway=gw)
    for _ in range(2):
        services.otp_check(acting_user=field_agent, voucher_id=vid, code="x")
    assert not services.otp_check(acting_user=field_agent, voucher_id=vid, code=code_of(gw))


def test_the_sms_simulator_receives_the_code(vouchers, field_agent, tmp_path, settings):
    settings.TEPAT_SMS_SIM_PATH = tmp_path / "sms.jsonl"
    services.otp_send(acting_user=field_agent, voucher_id=vouchers[0].public_id)
    line = json.loads((tmp_path / "sms.jsonl").read_text().splitlines()[0])
    assert line["to"] == "081234567890"
    assert "Kode verifikasi" in line["body"]


def test_an_agent_of_another_village_cannot_ask_for_a_code(vouchers, regions):
    from tests.conftest import make_staff

    agent = make_staff("agen_bogor", "field_agent", ("3201011001",))
    with pytest.raises(NotFound):
        services.otp_send(acting_user=agent, voucher_id=vouchers[0].public_id, gateway=Gateway())
