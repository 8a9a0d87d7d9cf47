"""SMS and USSD through the gateway adapter: replies in Indonesian within 160 characters, and
a status only for the phone registered to that NIK."""

from __future__ import annotations

import pytest

from tepat.portal import sms

pytestmark = pytest.mark.django_db


def test_cek_from_the_registered_phone_answers_the_status(citizen):
    reply = sms.sms_reply(sender="+6281234567890", text=f"cek {citizen['nik']}")
    assert len(reply) <= 160
    assert reply.startswith("As** Su******")
    assert "D2" in reply
    assert "T4" in reply
    assert "Rp750.000" in reply
    assert "Kantor Pos" in reply
    assert citizen["nik"] not in reply


def test_cek_from_another_phone_looks_like_an_unknown_nik(citizen):
    other = sms.sms_reply(sender="081111111111", text=f"CEK {citizen['nik']}")
    unknown = sms.sms_reply(sender="081111111111", text="CEK 3273011205809999")
    assert other == unknown == sms.NOT_FOUND


def test_a_malformed_nik_and_an_unknown_command_get_help(citizen):
    assert "16 angka" in sms.sms_reply(sender="081234567890", text="CEK 123")
    assert sms.sms_reply(sender="081234567890", text="HALO") == sms.HELP
    assert len(sms.HELP) <= 160


def test_the_ussd_menu_walks_to_a_status(citizen):
    assert "1 Cek bansos" in sms.ussd_reply(sender="081234567890", text="")
    assert "NIK" in sms.ussd_reply(sender="081234567890", text="1")
    end = sms.ussd_reply(sender="081234567890", text=f"1*{citizen['nik']}")
    assert end.startswith("END As** Su******")
    assert len(end) <= 160


def test_adu_reports_a_complaint_status(regions):
    from tepat.grievances.services import complaint_submit

    c, _ = complaint_submit(
        submission_key="k" * 24,
        category="other",
        village_code="3273011001",
        description="Petugas meminta uang administrasi.",
    )
    reply = sms.sms_reply(sender="081234567890", text=f"ADU {c.tracking_code.lower()}")
    assert c.tracking_code in reply
    assert "Diterima" in reply
    assert len(reply) <= 160


def test_a_sender_is_rate_limited(citizen, settings):
    settings.TEPAT_SMS_LIMIT_PER_SENDER_HOUR = 2
    replies = [sms.sms_reply(sender="081299999999", text="HALO") for _ in range(3)]
    assert replies[2].startswith("Terlalu banyak")


def _signed(client, data: dict[str, str], key: str = "rahasia"):
    from tests.portal.conftest import post_signed_sms

    return post_signed_sms(client, data, secret=key)


def test_the_gateway_webhook_replies_in_plain_text_and_checks_its_signature(
    client, citizen, settings
):
    # The older static X-Gateway-Token is no longer accepted: only a signature is.
    settings.TEPAT_SMS_WEBHOOK_SECRET = "rahasia"
    settings.TEPAT_SMS_GATEWAY_TOKEN = "rahasia"
    data = {"from": "081234567890", "text": f"CEK {citizen['nik']}"}
    assert client.post("/sms/masuk/", data).status_code == 403
    assert client.post("/sms/masuk/", data, HTTP_X_GATEWAY_TOKEN="rahasia").status_code == 403
    r = _signed(client, data)
    assert r["Content-Type"].startswith("text/plain")
    assert r.content.decode().startswith("As** Su******")
    ussd = _signed(client, {**data, "text": "", "channel": "ussd"})
    assert "1 Cek bansos" in ussd.content.decode()


def test_the_simulator_is_on_only_when_enabled(client, citizen, settings):
    settings.TEPAT_SMS_SIMULATOR = False
    assert client.get("/sms/simulator/").status_code == 403
    settings.TEPAT_SMS_SIMULATOR = True
    r = client.post(
        "/sms/simulator/",
        {"from": "081234567890", "text": f"CEK {citizen['nik']}", "channel": "sms"},
    )
    assert "As** Su******" in r.content.decode()
