"""The citizen surfaces (SMS/USSD webhook, Cek Bansos, citizen sign-in) as ways to read personal
data or to make the server work for an attacker.

Attacks tried:
- posting an unsigned message to the SMS/USSD webhook (`POST /sms/masuk/`) with any `from` and a
  NIK, on a deployment with the simulator gateway and no secret (the demo set-up): it used to
  answer with the person's masked name, desil, programme and amount;
- the older static `X-Gateway-Token` (no body binding, replayable forever) instead of a signature;
- replaying a signed webhook call within its time window;
- flooding the webhook from one address, and rewriting one's own number (0812..., +62812...,
  62812...) to get a fresh per-sender limit each time;
- the SMS simulator page beside a real gateway (the same lookup with any `from`);
- Cek Bansos by village and a neighbour's name alone (it listed up to five people with desil and
  amounts), and guessing the second factor for one village and name from many addresses;
- an IPv6 client walking through the addresses of its own /64 to get a fresh limit per address;
- citizen sign-in as an oracle: whether a NIK has a phone showed in the work the request did
  (and its timing), and the request sent the SMS itself (an SMS-bombing lever).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from tepat.core.netaddr import limit_key
from tepat.messaging.gateway import sms_gateway, webhook_signature
from tepat.portal.citizen import otp_deliver
from tepat.portal.models import CitizenOtp
from tests.conftest import BANDUNG_VILLAGE
from tests.portal.conftest import *  # noqa: F403  (regions, bandung_operator, citizen)
from tests.portal.conftest import post_signed_sms, solve

pytestmark = pytest.mark.django_db

SECRET = "rahasia-bersama-gateway"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def demo_sms(settings: Any) -> None:
    """The demo's SMS set-up: the simulator gateway, the simulator page on, no secret, no DEBUG."""
    settings.DEBUG = False
    settings.TEPAT_SMS_GATEWAY = "simulator"
    settings.TEPAT_SMS_SIMULATOR = True
    settings.TEPAT_SMS_WEBHOOK_SECRET = ""
    settings.TEPAT_SMS_GATEWAY_TOKEN = ""


@pytest.fixture
def outbox(settings: Any, tmp_path: Any) -> Any:
    settings.TEPAT_SMS_SIM_PATH = str(tmp_path / "outbox.jsonl")
    return tmp_path / "outbox.jsonl"


def _cek_sms(citizen: dict[str, Any]) -> dict[str, str]:
    return {"from": citizen["phone"], "text": f"CEK {citizen['nik']}"}


def _signed(client: Client, data: dict[str, str], *, secret: str = SECRET, **extra: Any) -> Any:
    return post_signed_sms(client, data, secret=secret, **extra)


# --- the SMS/USSD webhook ---------------------------------------------------------------------


def test_an_unsigned_sms_gets_a_bare_403_on_the_demo_set_up(client, citizen, demo_sms):
    r = client.post("/sms/masuk/", _cek_sms(citizen))
    assert r.status_code == 403
    assert r.content == b""
    ussd = client.post("/sms/masuk/", {"from": citizen["phone"], "text": f"1*{citizen['nik']}",
                                       "channel": "ussd"})  # fmt: skip
    assert ussd.status_code == 403
    assert ussd.content == b""


@pytest.mark.parametrize(
    ("debug", "gateway", "simulator", "expected"),
    [
        (True, "simulator", True, 200),  # a developer's machine: the one open case
        (True, "simulator", False, 403),
        (True, "http", True, 403),
        (False, "simulator", True, 403),
    ],
)
def test_unsigned_messages_are_answered_only_with_debug_and_the_simulator(
    client, citizen, settings, debug, gateway, simulator, expected
):
    settings.DEBUG = debug
    settings.TEPAT_SMS_GATEWAY = gateway
    settings.TEPAT_SMS_SIMULATOR = simulator
    settings.TEPAT_SMS_WEBHOOK_SECRET = ""
    assert client.post("/sms/masuk/", _cek_sms(citizen)).status_code == expected


def test_a_configured_secret_is_required_even_on_a_developers_machine(client, citizen, settings):
    settings.DEBUG = True
    settings.TEPAT_SMS_SIMULATOR = True
    settings.TEPAT_SMS_WEBHOOK_SECRET = SECRET
    assert client.post("/sms/masuk/", _cek_sms(citizen)).status_code == 403
    r = _signed(client, _cek_sms(citizen))
    assert r.status_code == 200
    assert r.content.decode().startswith("As** Su******")


def test_the_static_gateway_token_no_longer_opens_the_webhook(client, citizen, settings):
    settings.TEPAT_SMS_GATEWAY = "http"
    settings.TEPAT_SMS_WEBHOOK_SECRET = ""
    settings.TEPAT_SMS_GATEWAY_TOKEN = "rahasia"
    r = client.post("/sms/masuk/", _cek_sms(citizen), HTTP_X_GATEWAY_TOKEN="rahasia")
    assert r.status_code == 403
    assert r.content == b""


def test_a_signed_call_replayed_within_its_window_is_refused(client, citizen, settings):
    settings.TEPAT_SMS_WEBHOOK_SECRET = SECRET
    body = urlencode(_cek_sms(citizen)).encode()
    ts = str(int(time.time()))
    headers = {
        "HTTP_X_TEPAT_TIMESTAMP": ts,
        "HTTP_X_TEPAT_SIGNATURE": webhook_signature(secret=SECRET, timestamp=ts, body=body),
    }
    form = "application/x-www-form-urlencoded"
    assert client.post("/sms/masuk/", body, content_type=form, **headers).status_code == 200
    replay = client.post("/sms/masuk/", body, content_type=form, **headers)
    assert replay.status_code == 403
    assert replay.content == b""


def test_one_source_address_is_limited_on_the_webhook(client, citizen, settings):
    settings.TEPAT_SMS_WEBHOOK_SECRET = SECRET
    settings.TEPAT_SMS_LIMIT_PER_IP_HOUR = 2
    help_ = {"from": "081299999999", "text": "BANTUAN"}
    codes = [
        _signed(client, {**help_, "text": f"BANTUAN {i}"}, REMOTE_ADDR="198.51.100.9").status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]
    # Unsigned junk counts too, and another address is not affected.
    assert client.post("/sms/masuk/", help_, REMOTE_ADDR="198.51.100.9").status_code == 429
    assert _signed(client, help_, REMOTE_ADDR="198.51.100.10").status_code == 200


def test_a_sender_cannot_escape_its_limit_by_rewriting_its_number(client, citizen, settings):
    settings.TEPAT_SMS_WEBHOOK_SECRET = SECRET
    settings.TEPAT_SMS_LIMIT_PER_SENDER_HOUR = 2
    replies = [
        _signed(client, {"from": sender, "text": "BANTUAN"}).content.decode()
        for sender in ("081299999999", "+6281299999999", "6281299999999")
    ]
    assert not replies[1].startswith("Terlalu banyak")
    assert replies[2].startswith("Terlalu banyak")


def test_the_simulator_page_is_never_open_beside_a_real_gateway(client, citizen, settings):
    settings.TEPAT_SMS_SIMULATOR = True
    settings.TEPAT_SMS_GATEWAY = "http"
    settings.TEPAT_SMS_HTTP_URL = "https://sms.example.test/send"
    r = client.post("/sms/simulator/", {**_cek_sms(citizen), "channel": "sms"})
    assert r.status_code == 403
    assert "As** Su******" not in r.content.decode()


def test_the_simulator_page_still_works_in_the_demo_and_is_limited_per_address(
    client, citizen, demo_sms, settings
):
    settings.TEPAT_SMS_LIMIT_PER_IP_HOUR = 1
    first = client.post("/sms/simulator/", {**_cek_sms(citizen), "channel": "sms"})
    assert "As** Su******" in first.content.decode()
    second = client.post("/sms/simulator/", {**_cek_sms(citizen), "channel": "sms"})
    assert "Terlalu banyak" in second.content.decode()
    assert "As** Su******" not in second.content.decode()


# --- Cek Bansos ------------------------------------------------------------------------------


def _cek(client: Client, remote_addr: str = "127.0.0.1", **fields: str) -> Any:
    page = client.get("/cek/").content.decode()
    return client.post("/cek/", {"mode": "nik", **solve(page), **fields}, REMOTE_ADDR=remote_addr)


def test_a_village_and_a_neighbours_name_alone_list_nobody(client, citizen):
    r = _cek(client, mode="region", village_code=BANDUNG_VILLAGE, name=citizen["name"])
    html = r.content.decode()
    assert r.status_code == 400
    assert "As** Su******" not in html
    assert "Rp750" not in html
    assert "NIK atau nomor KK" in html


def test_a_wrong_second_factor_finds_nobody(client, citizen):
    r = _cek(
        client,
        mode="region",
        village_code=BANDUNG_VILLAGE,
        name=citizen["name"],
        nik="3273011503150099",
    )
    assert r.status_code == 200
    assert "As** Su******" not in r.content.decode()
    assert "Data tidak ditemukan" in r.content.decode()


def test_the_family_card_number_opens_the_village_door(client, citizen):
    r = _cek(
        client, mode="region", village_code=BANDUNG_VILLAGE, name=citizen["name"], nik=citizen["kk"]
    )
    assert r.status_code == 200
    assert "As** Su******" in r.content.decode()


def test_one_village_and_name_is_limited_per_day_from_any_address(client, citizen, settings):
    settings.TEPAT_CEK_LIMIT_PER_NAME_DAY = 2
    codes = []
    for i in range(3):
        page = client.get("/cek/").content.decode()
        guess = {"nik": f"32730115031500{i:02d}", "village_code": BANDUNG_VILLAGE}
        data = {"mode": "region", "name": citizen["name"], **guess, **solve(page)}
        last = client.post("/cek/", data, REMOTE_ADDR=f"203.0.113.{i + 1}")
        codes.append(last.status_code)
    assert codes == [200, 200, 429]
    assert "terlalu sering dicari di desa ini" in last.content.decode()
    # Even the right card is refused for that name today; another name is not.
    right = _cek(
        client, mode="region", village_code=BANDUNG_VILLAGE, name=citizen["name"], nik=citizen["kk"]
    )
    assert right.status_code == 429
    other = _cek(
        client,
        mode="region",
        village_code=BANDUNG_VILLAGE,
        name="Siti Nurhaliza",
        nik=citizen["kk"],
    )
    assert other.status_code == 200


def test_ipv6_clients_of_one_64_share_one_limit(client, citizen, settings):
    settings.TEPAT_CEK_LIMIT_PER_IP_HOUR = 2
    codes = [
        _cek(
            client, nik=f"327301120580{i:04d}", name="X Y Z", remote_addr=f"2001:db8:7:9::{i:x}"
        ).status_code
        for i in range(2, 5)
    ]
    assert codes == [200, 200, 429]
    elsewhere = _cek(client, nik="3273011205800009", name="X Y Z", remote_addr="2001:db8:7:a::2")
    assert elsewhere.status_code == 200


def test_an_ipv6_address_counts_by_its_64_and_an_ipv4_address_by_itself():
    assert (
        limit_key("2001:db8:7:9:1:2:3:4")
        == limit_key("2001:db8:7:9::ffff")
        == ("2001:db8:7:9::/64")
    )
    assert limit_key("2001:db8:7:a::1") != limit_key("2001:db8:7:9::1")
    assert limit_key("198.51.100.7") == "198.51.100.7"
    assert limit_key("::ffff:198.51.100.7") == "198.51.100.7"


# --- citizen sign-in ---------------------------------------------------------------------------


def _ask_code(client: Client, nik: str, **extra: Any) -> Any:
    page = client.get("/akun/masuk/").content.decode()
    return client.post("/akun/masuk/", {"nik": nik, **solve(page)}, **extra)


def test_the_sign_in_request_sends_no_sms_and_the_worker_does(client, citizen, outbox, monkeypatch):
    sent: list[Any] = []
    real_send = type(sms_gateway()).send
    monkeypatch.setattr(type(sms_gateway()), "send", lambda self, m: sent.append(m) or [])
    assert _ask_code(client, citizen["nik"]).status_code == 302
    assert sent == []
    assert not outbox.exists()
    monkeypatch.setattr(type(sms_gateway()), "send", real_send)
    assert otp_deliver(gateway=sms_gateway()) == 1
    (line,) = outbox.read_text().splitlines()
    message = json.loads(line)
    assert message["to"] == citizen["phone"]
    assert message["body"].startswith("Kode masuk Tepat: ")
    otp = CitizenOtp.objects.get()
    assert otp.state == CitizenOtp.State.SENT
    assert otp.code_enc == ""  # the code is kept only until it went out


def test_a_registered_and_an_unknown_nik_get_the_same_answer_after_the_same_work(citizen, outbox):
    def ask(nik: str) -> tuple[Any, list[str]]:
        client = Client()
        page = client.get("/akun/masuk/").content.decode()
        statements: list[str] = []

        def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.append(re.sub(r'"s\d+_x\d+"', "SAVEPOINT-NAME", sql))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            r = client.post("/akun/masuk/", {"nik": nik, **solve(page)})
        return r, statements

    known, known_sql = ask(citizen["nik"])
    unknown, unknown_sql = ask("3273011205809999")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/akun/kode/"
    assert known.content == unknown.content
    assert sorted(known.headers) == sorted(unknown.headers)
    assert {k: v for k, v in known.headers.items() if k != "Set-Cookie"} == {
        k: v for k, v in unknown.headers.items() if k != "Set-Cookie"
    }
    assert sorted(known.cookies) == sorted(unknown.cookies)
    # The very same statements: no read of the registry, one queued code each.
    assert known_sql == unknown_sql
    assert not any("registry_person" in sql for sql in known_sql)
    assert CitizenOtp.objects.filter(state=CitizenOtp.State.QUEUED).count() == 2
    assert not outbox.exists()


def test_a_code_for_an_unknown_nik_is_dropped_and_never_signs_in(client, citizen, outbox):
    assert _ask_code(client, "3273011205809999").status_code == 302
    assert otp_deliver(gateway=sms_gateway()) == 0
    assert not outbox.exists()
    otp = CitizenOtp.objects.get()
    assert otp.state == CitizenOtp.State.DROPPED
    assert otp.code_enc == ""
    # Step two checks a guess against it like any other code (one attempt counted).
    assert client.post("/akun/kode/", {"code": "123456"}).status_code == 400
    otp.refresh_from_db()
    assert otp.attempts == 1


def test_a_queued_code_cannot_sign_in_before_it_was_sent(client, citizen, outbox):
    from tepat.core import crypto
    from tepat.portal.citizen import OTP_CONTEXT

    assert _ask_code(client, citizen["nik"]).status_code == 302
    code = crypto.decrypt(CitizenOtp.objects.get().code_enc, context=OTP_CONTEXT)
    assert client.post("/akun/kode/", {"code": code}).status_code == 400


def test_code_requests_stay_limited_per_nik_and_per_ipv6_64(client, citizen, outbox, settings):
    settings.TEPAT_OTP_PER_NIK_HOUR = 1
    assert _ask_code(client, citizen["nik"]).status_code == 302
    assert _ask_code(client, citizen["nik"], REMOTE_ADDR="203.0.113.50").status_code == 429
    settings.TEPAT_CEK_LIMIT_PER_IP_HOUR = 2
    codes = [
        _ask_code(client, f"327301120580{i:04d}", REMOTE_ADDR=f"2001:db8:5:5::{i}").status_code
        for i in range(2, 5)
    ]
    assert codes == [302, 302, 429]
