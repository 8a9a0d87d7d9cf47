"""The HTTP SMS gateway adapter against a real HTTP server started by the test (no internet):
what it sends, what it retries, how it explains a failure; the setting that picks the adapter;
and the signed inbound webhook."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from tepat.messaging.gateway import (
    HttpSmsGateway,
    SmsGatewayError,
    msisdn_e164,
    sms_gateway,
    webhook_signature,
)


class FakeGateway:
    """A local HTTP server that records each request and answers from a script of
    (status, body, delay_s) tuples; once the script is used up it answers 202."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, str, float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                status, body, delay = outer.script.pop(0) if outer.script else (202, "{}", 0.0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(body.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/sms?unused=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeGateway]:
    server = FakeGateway()
    yield server
    server.close()


def _gw(fake: FakeGateway, **kw: Any) -> HttpSmsGateway:
    return HttpSmsGateway(url=fake.url, token="tkn-123", backoff_s=0.01, **kw)


def test_a_message_is_posted_as_json_with_the_token_and_an_idempotency_key(fake):
    accepted = _gw(fake).send([("otp-1", "081234567890", "Kode masuk Tepat: 123456")])
    assert accepted == ["otp-1"]
    (req,) = fake.requests
    assert req["path"] == "/v1/sms?unused=1"
    assert req["headers"]["Authorization"] == "Bearer tkn-123"
    assert req["headers"]["Idempotency-Key"] == "otp-1"
    assert req["headers"]["Content-Type"] == "application/json"
    assert json.loads(req["body"]) == {
        "id": "otp-1",
        "to": "+6281234567890",
        "text": "Kode masuk Tepat: 123456",
    }


def test_a_server_error_is_retried_with_the_same_idempotency_key(fake):
    fake.script = [(503, "busy", 0.0), (500, "oops", 0.0)]
    assert _gw(fake, retries=2).send([("pay-7", "081234567890", "x")]) == ["pay-7"]
    assert len(fake.requests) == 3
    assert {r["headers"]["Idempotency-Key"] for r in fake.requests} == {"pay-7"}


def test_giving_up_says_where_why_and_how_often_without_the_phone_or_text(fake):
    fake.script = [(503, "maintenance", 0.0)] * 3
    with pytest.raises(SmsGatewayError) as exc:
        _gw(fake, retries=2).send_one(key="pay-8", phone="081234567890", body="rahasia")
    message = str(exc.value)
    assert "/v1/sms" in message
    assert "503" in message
    assert "maintenance" in message
    assert "pay-8" in message
    assert "gave up after 3 attempts" in message
    assert "081234567890" not in message
    assert "rahasia" not in message
    assert "unused=1" not in message


def test_a_refused_token_is_not_retried_and_says_what_to_check(fake):
    fake.script = [(401, '{"error": "bad token"}', 0.0)]
    with pytest.raises(SmsGatewayError, match=r"401 Unauthorized.*bad token.*not retried"):
        _gw(fake).send_one(key="otp-2", phone="081234567890", body="x")
    assert len(fake.requests) == 1


def test_a_gateway_that_does_not_answer_in_time_is_retried_then_reported(fake):
    fake.script = [(202, "{}", 1.0), (202, "{}", 1.0)]
    with pytest.raises(SmsGatewayError, match=r"did not answer within 0.2 s.*2 attempts"):
        _gw(fake, retries=1, timeout_s=0.2).send_one(key="otp-3", phone="0812", body="x")


def test_an_unreachable_gateway_is_reported_clearly():
    gw = HttpSmsGateway(url="http://127.0.0.1:9/sms", retries=1, backoff_s=0.01, timeout_s=1)
    with pytest.raises(SmsGatewayError, match=r"could not be reached.*2 attempts"):
        gw.send_one(key="otp-4", phone="0812", body="x")


def test_send_keeps_going_and_returns_only_what_was_accepted(fake):
    fake.script = [(400, "bad number", 0.0)]
    gw = _gw(fake)
    accepted = gw.send([("a", "0812", "x"), ("b", "0813", "y")])
    assert accepted == ["b"]
    assert len(gw.errors) == 1
    assert "message a" in gw.errors[0]


def test_a_bad_url_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="TEPAT_SMS_HTTP_URL"):
        HttpSmsGateway(url="")
    with pytest.raises(ImproperlyConfigured, match="TEPAT_SMS_HTTP_URL"):
        HttpSmsGateway(url="ftp://example.invalid/sms")


def test_the_setting_picks_the_adapter(settings, fake):
    from tepat.messaging.simulator import SimulatedSmsGateway

    settings.TEPAT_SMS_GATEWAY = "simulator"
    assert isinstance(sms_gateway(), SimulatedSmsGateway)
    settings.TEPAT_SMS_GATEWAY = "http"
    settings.TEPAT_SMS_HTTP_URL = fake.url
    settings.TEPAT_SMS_HTTP_TOKEN = "from-env"
    settings.TEPAT_SMS_HTTP_TIMEOUT_S = 3
    settings.TEPAT_SMS_HTTP_RETRIES = 4
    gw = sms_gateway()
    assert isinstance(gw, HttpSmsGateway)
    assert (gw.url, gw.token, gw.timeout_s, gw.retries) == (fake.url, "from-env", 3.0, 4)
    settings.TEPAT_SMS_GATEWAY = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured, match="TEPAT_SMS_GATEWAY"):
        sms_gateway()


def test_phone_numbers_are_sent_in_international_form():
    assert msisdn_e164("0812-3456-7890") == "+6281234567890"
    assert msisdn_e164("+62 812 3456 7890") == "+6281234567890"


@pytest.mark.django_db
def test_a_citizen_sign_in_code_goes_out_through_the_http_gateway(client, citizen, settings, fake):
    from tepat.portal.citizen import otp_deliver
    from tests.portal.conftest import solve

    settings.TEPAT_SMS_GATEWAY = "http"
    settings.TEPAT_SMS_HTTP_URL = fake.url
    page = client.get("/akun/masuk/").content.decode()
    r = client.post("/akun/masuk/", {"nik": citizen["nik"], **solve(page)})
    assert r.status_code == 302
    assert fake.requests == []  # queued by the request, sent by the worker
    otp_deliver(gateway=sms_gateway())
    (req,) = fake.requests
    sent = json.loads(req["body"])
    assert sent["to"] == "+6281234567890"
    assert sent["text"].startswith("Kode masuk Tepat: ")


# --- the signed inbound webhook ----------------------------------------------------------------

SECRET = "rahasia-bersama-gateway"


def _signed(client, data: str, *, secret: str = SECRET, age_s: int = 0, **headers: str):
    body = data.encode()
    ts = str(int(time.time()) - age_s)
    return client.post(
        "/sms/masuk/",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TEPAT_TIMESTAMP=ts,
        HTTP_X_TEPAT_SIGNATURE=webhook_signature(secret=secret, timestamp=ts, body=body),
        **headers,
    )


@pytest.mark.django_db
def test_a_signed_inbound_sms_gets_its_reply(client, citizen, settings):
    settings.TEPAT_SMS_WEBHOOK_SECRET = SECRET
    r = _signed(client, f"from=081234567890&text=CEK+{citizen['nik']}")
    assert r.status_code == 200
    assert r.content.decode().startswith("As** Su******")


@pytest.mark.django_db
def test_a_wrong_stale_replayed_or_missing_signature_is_refused(client, citizen, settings):
    settings.TEPAT_SMS_WEBHOOK_SECRET = SECRET
    data = "from=081234567890&text=BANTUAN"
    assert _signed(client, data, secret="tebakan").status_code == 403
    assert _signed(client, data, age_s=3600).status_code == 403
    assert client.post("/sms/masuk/", {"from": "0812", "text": "BANTUAN"}).status_code == 403
    # A body changed after signing.
    ts = str(int(time.time()))
    sig = webhook_signature(secret=SECRET, timestamp=ts, body=data.encode())
    tampered = client.post(
        "/sms/masuk/",
        data.replace("BANTUAN", "CEK+3273011205800001"),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TEPAT_TIMESTAMP=ts,
        HTTP_X_TEPAT_SIGNATURE=sig,
    )
    assert tampered.status_code == 403
    # The same signed request twice.
    replay_body = data.encode()
    headers = {
        "HTTP_X_TEPAT_TIMESTAMP": ts,
        "HTTP_X_TEPAT_SIGNATURE": webhook_signature(secret=SECRET, timestamp=ts, body=replay_body),
    }
    ctype = "application/x-www-form-urlencoded"
    assert client.post("/sms/masuk/", replay_body, content_type=ctype, **headers).status_code == 200
    assert client.post("/sms/masuk/", replay_body, content_type=ctype, **headers).status_code == 403


@pytest.mark.django_db
def test_the_http_gateway_without_a_secret_accepts_no_inbound_message(client, citizen, settings):
    settings.TEPAT_SMS_GATEWAY = "http"
    settings.TEPAT_SMS_WEBHOOK_SECRET = ""
    settings.TEPAT_SMS_GATEWAY_TOKEN = ""
    assert client.post("/sms/masuk/", {"from": "0812", "text": "BANTUAN"}).status_code == 403
