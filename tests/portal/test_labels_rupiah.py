"""Money on citizen pages reads as people write it (Rp5.831.325), never as raw digits, in both
languages: the status check (written without the template engine, and its template) and the
signed-in citizen's payment history."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import translation

from tepat.core import guard
from tepat.portal import cekpage
from tests.portal.conftest import solve

from .test_citizen_status_page import FULL

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_status_check_shows_amounts_in_rupiah(language: str) -> None:
    rows = [dataclasses.replace(r, amount=5_831_325) for r in FULL.rows]
    found = dataclasses.replace(FULL, rows=rows)
    request = RequestFactory().get("/cek/")
    with translation.override(language):
        html = cekpage.page(
            csrf_token="c", full_path=request.get_full_path(), form={}, errors={},
            challenge=guard.Challenge("q", "t"), mode="nik", searched=True, results=[found],
        )  # fmt: skip
    assert html.count("<td>Rp5.831.325</td>") == len(rows)
    assert "5831325" not in html


@pytest.fixture
def outbox(settings, tmp_path):
    settings.TEPAT_SMS_SIM_PATH = str(tmp_path / "outbox.jsonl")
    return tmp_path / "outbox.jsonl"


def _signed_in(client, citizen, outbox):
    from tepat.messaging.gateway import sms_gateway
    from tepat.portal.citizen import otp_deliver

    page = client.get("/akun/masuk/").content.decode()
    client.post("/akun/masuk/", {"nik": citizen["nik"], **solve(page)})
    otp_deliver(gateway=sms_gateway())
    body = json.loads(outbox.read_text().splitlines()[-1])["body"]
    code = re.search(r"\b(\d{6})\b", body)
    assert code
    assert client.post("/akun/kode/", {"code": code.group(1)}).status_code == 302
    return client


def test_the_payment_history_shows_rupiah_and_labels(client: Any, citizen, outbox) -> None:
    html = _signed_in(client, citizen, outbox).get("/akun/").content.decode()
    assert "<td>Rp750.000</td>" in html
    assert "Rp750000" not in html
    assert re.search(r"<td>Dibayar</td>", html)  # the payment's state, not `paid`
    assert "(Kepala keluarga)" in html  # a family member's relationship, not `head`
