"""The field app's page hands every message field.js shows to the script, translated on the
server (json_script); the script itself holds no user-visible text."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.utils import translation

from tepat.verification.views import field_messages

FIELD_JS = (
    Path(__file__).resolve().parents[2] / "src/tepat/verification/static/verification/field.js"
)


def keys_used_by_the_script() -> set[str]:
    js = FIELD_JS.read_text()
    keys = set(re.findall(r"\b(?:t|fail)\(\s*\"(\w+)\"\s*[,)]", js))
    keys |= set(re.findall(r"\? \"(\w+)\" : \"(\w+)\"", js)[0])  # fail(otp ? a : b)
    keys |= {f"method_{m}" for m in ("card", "otp", "face")}  # built as "method_" + code
    keys |= set(re.findall(r":\s*\"((?:otp|face)_\w+)\"", js))  # server codes -> message keys
    # Offline reasons are returned as keys and shown through t(reason).
    keys |= set(re.findall(r"reason: \"(\w+)\"", js))
    return keys


def test_every_message_the_script_shows_comes_from_the_page():
    used = keys_used_by_the_script()
    assert "otp_sent" in used
    assert "card_mismatch" in used
    assert used - set(field_messages()) == set()


def test_the_script_holds_no_indonesian_text():
    js = FIELD_JS.read_text()
    for word in ("Ditolak", "Diserahkan", "Sinkron", "daring", "Voucher tidak", "Kode"):
        assert word not in js, word


def test_the_page_carries_the_messages_and_its_language(field_agent, staff_client):
    c = staff_client(field_agent)
    html = c.get("/lapangan/").content.decode()
    data = json.loads(
        re.search(
            r'<script id="field-messages" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    assert data["card_mismatch"] == "Nomor kartu KKS tidak cocok"
    assert '<html lang="id">' in html
    english = c.get("/lapangan/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in english


def test_the_messages_follow_the_active_language(monkeypatch):
    from tepat.verification import views

    seen = []

    def fake_gettext(text):
        seen.append(translation.get_language())
        return "EN:" + text

    monkeypatch.setattr(views, "_", fake_gettext)
    with translation.override("en"):
        msgs = field_messages()
    assert msgs["otp_wrong"].startswith("EN:")
    assert set(seen) == {"en"}


def test_the_page_offers_the_otp_and_face_steps(field_agent, staff_client):
    html = staff_client(field_agent).get("/lapangan/").content.decode()
    for el in ('id="otp-send"', 'id="otp-code"', 'id="otp-check"', 'id="otp-offline"',
               'id="face-photo"', 'id="method-otp"'):  # fmt: skip
        assert el in html
