"""The field PWA's one-time-code step: offered only where the programme accepts it, online only
(and says so when offline), a wrong code refused, and the handover synced with method `otp`."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings

from tepat.verification.models import Handover, HandoverStatus
from tests.browser.test_field_offline import device, first_voucher
from tests.verification.conftest import *  # noqa: F403 - the verification cast

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the live server answers on threads an in-memory SQLite test database cannot serve "
    "(run with TEPAT_DATABASE_URL=postgres://...)",
)


def status_has(page, el: str, text: str) -> None:
    page.wait_for_selector(f"#{el}:has-text({json.dumps(text)})")


def test_an_agent_verifies_by_one_time_code_and_the_handover_syncs(
    browser, live_server, transactional_db, vouchers, field_agent, allow, settings, tmp_path, axe
):
    settings.TEPAT_SMS_SIM_PATH = tmp_path / "sms.jsonl"
    allow("otp")
    v = first_voucher(vouchers)
    context, page = device(browser, live_server, field_agent, axe)
    page.fill("#token", v.token)
    page.wait_for_function("document.getElementById('method-card').disabled")
    assert page.is_checked("#method-otp")
    axe(page, label="field app, code method offered")
    assert page.is_visible("#otp-send")
    assert not page.is_visible("#card")

    context.set_offline(True)
    page.click("#otp-send")
    status_has(page, "otp-status", "perlu koneksi internet")
    assert page.is_visible("#otp-offline")
    axe(page, label="field app, code needs a connection")
    assert not settings.TEPAT_SMS_SIM_PATH.exists()  # nothing was sent

    context.set_offline(False)
    page.click("#otp-send")
    status_has(page, "otp-status", "Kode dikirim")
    axe(page, label="field app, code sent")
    body = json.loads(settings.TEPAT_SMS_SIM_PATH.read_text().splitlines()[-1])["body"]
    code = re.search(r"\b(\d{6})\b", body).group(1)

    page.fill("#otp-code", "000000" if code != "000000" else "111111")
    page.click("#otp-check")
    status_has(page, "otp-status", "Kode salah")
    axe(page, label="field app, wrong code")
    page.click("#verify")
    status_has(page, "result", "belum diperiksa")
    axe(page, label="field app, code not yet checked")

    page.fill("#otp-code", code)
    page.click("#otp-check")
    status_has(page, "otp-status", "terverifikasi")
    axe(page, label="field app, code verified")
    page.click("#verify")
    status_has(page, "result", "Diserahkan")
    axe(page, label="field app, handed over by code")
    page.click("#sync")
    status_has(page, "syncresult", "1 diterima")
    axe(page, label="field app, synced")
    h = Handover.objects.get()
    assert (h.status, h.method) == (HandoverStatus.ACCEPTED, "otp")
    context.close()


def test_the_card_method_is_refused_on_the_device_when_the_programme_wants_a_code(
    browser, live_server, transactional_db, vouchers, field_agent, allow, axe
):
    allow("otp")
    v = first_voucher(vouchers)
    context, page = device(browser, live_server, field_agent)
    # Force the card method past the disabled radio, as a tampered page might.
    page.fill("#token", v.token)
    page.wait_for_function("document.getElementById('method-card').disabled")
    page.evaluate(
        "const r=document.getElementById('method-card'); r.disabled=false; r.checked=true"
    )
    page.click("#verify")
    status_has(page, "result", "tidak berlaku")
    axe(page, label="field app, card method refused")
    assert page.text_content("#queued") == "0"
    context.close()
