"""A citizen objects to an automated decision in a real browser: signs in with the SMS code,
files the objection from the account page, and finds it in their list with its status and
3x24-hour deadline."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

from tepat.privacy.models import DataSubjectRequest
from tests.portal.conftest import WORDS, citizen  # noqa: F401 (citizen: a fixture)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def _answer(page) -> str:
    label = page.locator('label[for="answer"]').inner_text()
    m = re.search(r"Berapa (\w+) ditambah (\w+)", label)
    assert m, label
    return str(WORDS[m.group(1)] + WORDS[m.group(2)])


def _sign_in(page, nik: str, outbox, axe) -> None:
    from tepat.messaging.gateway import sms_gateway
    from tepat.portal.citizen import otp_deliver

    page.goto("/akun/masuk/")
    axe(page, label="citizen sign-in")
    page.get_by_label("NIK (16 angka)").fill(nik)
    page.locator("#answer").fill(_answer(page))
    page.get_by_role("button", name="Kirim kode").click()
    page.wait_for_url("**/akun/kode/")
    axe(page, label="citizen sign-in: code")
    otp_deliver(gateway=sms_gateway())  # the SMS worker's turn
    body = json.loads(outbox.read_text().splitlines()[-1])["body"]
    code = re.search(r"\b(\d{6})\b", body)
    assert code
    page.get_by_label("Kode 6 angka").fill(code.group(1))
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/akun/")
    axe(page, label="citizen account")


def test_a_citizen_files_an_objection_and_sees_it_in_their_list(
    page,
    axe,
    citizen,
    settings,
    tmp_path,
):
    outbox = tmp_path / "outbox.jsonl"
    settings.TEPAT_SMS_SIM_PATH = str(outbox)
    _sign_in(page, citizen["nik"], outbox, axe)
    page.get_by_role("link", name=re.compile("Hak atas data pribadi")).click()
    page.wait_for_url("**/akun/hak/")
    axe(page, label="citizen rights")
    page.get_by_role("link", name="Keberatan atas keputusan otomatis").click()
    page.wait_for_url("**/akun/hak/ajukan/**")
    axe(page, label="objection form")
    page.get_by_role("button", name="Kirim permintaan").click()
    assert "Pilih keputusan yang Anda keberatan" in page.content()  # nothing chosen yet
    axe(page, label="objection form: failed submit")
    page.get_by_label("Keputusan yang Anda keberatan").select_option("desil")
    page.get_by_label("Mengapa keputusan itu menurut Anda keliru").fill(
        "Motor di rumah kami milik saudara, bukan milik kami."
    )
    page.get_by_role("button", name="Kirim permintaan").click()
    assert page.locator("#status").inner_text() == "Diterima"
    assert "lagi" in page.locator("#due").inner_text()
    axe(page, label="objection filed")
    page.get_by_role("link", name="Semua permintaan Anda").click()
    dsr = DataSubjectRequest.objects.get()
    assert dsr.kind == "objection"
    assert dsr.subject == citizen["head"]
    row = page.locator(f'tr[data-request="{dsr.public_id}"]')
    assert "Keberatan atas keputusan otomatis" in row.inner_text()
    assert row.locator(".request-status").inner_text() == "Diterima"
    assert re.search(r"7[01] jam \d\d menit lagi", row.inner_text())
    axe(page, label="citizen's requests")
