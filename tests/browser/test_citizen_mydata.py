"""A citizen's own copy of their data in a real browser (UU 27/2022 Art. 7, 13): sign in with the
code sent to the registered phone, open "Data saya" from the account page, read the copy and
download the JSON, which holds the family's payment and not the neighbours'."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.portal.conftest import WORDS
from tests.privacy.export_cast import NEIGHBOUR_NAME, family  # noqa: F401 (family: a fixture)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


@pytest.fixture
def outbox(settings, tmp_path) -> Path:
    settings.TEPAT_SMS_SIM_PATH = str(tmp_path / "outbox.jsonl")
    return tmp_path / "outbox.jsonl"


def _answer(page) -> str:
    label = page.locator('label[for="answer"]').inner_text()
    m = re.search(r"Berapa (\w+) ditambah (\w+)", label)
    assert m, label
    return str(WORDS[m.group(1)] + WORDS[m.group(2)])


def _sign_in(page, nik: str, outbox: Path, axe) -> None:
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
    last = json.loads(outbox.read_text().splitlines()[-1])
    code = re.search(r"\b(\d{6})\b", last["body"])
    assert code, last
    page.get_by_label("Kode 6 angka").fill(code.group(1))
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/akun/")
    axe(page, label="citizen account")


def test_a_citizen_downloads_their_data_and_finds_their_payment(
    page, axe, family, outbox, tmp_path, screenshots_dir
):
    _sign_in(page, family.nik, outbox, axe)
    page.get_by_role("link", name="Data saya").click()
    page.wait_for_url("**/akun/data-saya/")
    assert page.locator("h1").inner_text() == "Data saya"
    payments = page.locator("#bagian-payments")
    assert family.payment_ref in payments.inner_text()
    assert "Program Keluarga Harapan" in payments.inner_text()
    assert NEIGHBOUR_NAME not in page.content()
    axe(page, label="my data")
    page.screenshot(path=str(screenshots_dir / "citizen-mydata.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="JSON (untuk aplikasi lain)").click()
    download = info.value
    assert re.fullmatch(r"data-saya-tepat-\d{8}-\d{4}\.json", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["subject"]["public_id"] == family.head.public_id
    (payment,) = data["sections"]["payments"]["rows"]
    assert payment["payment"] == family.payment_ref
    assert payment["amount"] > 0
    assert family.neighbour_payment_ref not in saved.read_text(encoding="utf-8")

    with page.expect_download() as info:
        page.get_by_role("link", name="PDF (untuk dibaca/dicetak)").click()
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF-")
