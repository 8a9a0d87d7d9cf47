"""Citizen journeys in a real browser: check a status, file and track a complaint, submit an
usul with a photo and a location, and see the offline page when the network is gone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.conftest import BANDUNG_VILLAGE
from tests.grievances.conftest import JPEG
from tests.portal.conftest import WORDS, citizen  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def _answer(page) -> str:
    label = page.locator('label[for="answer"]').inner_text()
    m = re.search(r"Berapa (\w+) ditambah (\w+)", label)
    assert m, label
    return str(WORDS[m.group(1)] + WORDS[m.group(2)])


def test_a_citizen_checks_their_status_by_nik_and_name(page, axe, citizen):  # noqa: F811
    page.goto("/cek/")
    axe(page, label="status check")
    page.get_by_label("NIK (16 angka").fill(citizen["nik"])
    page.get_by_label("Nama lengkap sesuai KTP").fill("Asep Sunandar")
    page.locator("#answer").fill(_answer(page))
    page.get_by_role("button", name="Cari data").click()
    result = page.locator("#hasil-card")
    assert "As** Su******" in result.inner_text()
    assert "Kantor Pos Sukasari" in result.inner_text()
    # cek-result.js is deferred: it runs once the page is parsed, which may be after the card is
    # readable; wait for it (up to the page's timeout) rather than read the focus too early.
    page.wait_for_function("() => document.activeElement?.id === 'hasil-card'")
    axe(page, label="status check: found")


def test_a_wrong_name_reads_as_not_found(page, axe, citizen):  # noqa: F811
    page.goto("/cek/")
    page.get_by_label("NIK (16 angka").fill(citizen["nik"])
    page.get_by_label("Nama lengkap sesuai KTP").fill("Orang Lain")
    page.locator("#answer").fill(_answer(page))
    page.get_by_role("button", name="Cari data").click()
    assert "Data tidak ditemukan" in page.locator("#hasil-card").inner_text()
    axe(page, label="status check: not found")


def test_a_citizen_files_a_complaint_and_tracks_it_by_its_number(page, axe, regions):
    page.goto("/pengaduan/")
    axe(page, label="complaint form")
    page.get_by_role("button", name="Kirim pengaduan").click()
    assert "Pilih kategori" in page.content()
    axe(page, label="complaint form: failed submit")
    page.get_by_label("Kategori").select_option("not_received")
    page.get_by_label("Kode desa/kelurahan").fill(BANDUNG_VILLAGE)
    page.get_by_label("Uraian pengaduan").fill("Bantuan tahap 4 belum masuk ke rekening KKS saya.")
    page.get_by_role("button", name="Kirim pengaduan").click()
    code = page.locator("#tracking-code").inner_text()
    assert code.startswith("ADU-")
    axe(page, label="complaint filed")
    page.goto("/pengaduan/lacak/")
    axe(page, label="complaint tracking form")
    page.get_by_label("Nomor pelacakan").fill(code.lower())
    page.get_by_role("button", name="Lacak").click()
    assert page.locator("#status").inner_text() == "Diterima"
    axe(page, label="complaint tracked")


def test_a_citizen_submits_an_usul_with_a_photo_and_a_location(
    page, axe, regions, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    photo = Path(tmp_path / "rumah.jpg")
    photo.write_bytes(JPEG)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": -6.8712, "longitude": 107.5891})
    page.goto("/pengaduan/usul-sanggah/?jenis=usul")
    axe(page, label="usul form")
    page.get_by_label("Kode desa/kelurahan").fill(BANDUNG_VILLAGE)
    page.get_by_label("Nama kepala keluarga").fill("Ibu Sumiati")
    page.get_by_label("Alasan").fill("Janda lansia, rumah bilik bambu, tidak ada penghasilan.")
    page.get_by_label("Foto rumah").set_input_files(str(photo))
    page.get_by_role("button", name="Ambil lokasi saya").click()
    page.wait_for_function("() => document.getElementById('latitude').value !== ''")
    assert page.get_by_label("Lintang").input_value() == "-6.871200"
    axe(page, label="usul form: location filled")
    page.get_by_role("button", name="Kirim", exact=True).click()
    assert page.locator("#tracking-code").inner_text().startswith("USL-")
    assert page.locator("#status").inner_text() == "Menunggu verifikasi"
    axe(page, label="usul submitted")


def test_the_offline_page_appears_when_the_network_is_gone(page, axe, regions):
    page.goto("/cek/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # the page is now controlled by the worker
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.goto("/pengaduan/")
    assert "Anda sedang luring" in page.locator("h1").inner_text()
    axe(page, label="offline page")
    page.context.set_offline(False)


def test_a_citizen_finds_their_village_with_the_cascading_selects(page, axe, citizen):  # noqa: F811
    page.goto("/cek/")
    page.get_by_label("Wilayah dan nama").check()
    page.get_by_label("Provinsi").select_option("32")
    page.get_by_label("Kabupaten/kota").select_option("3273")
    page.get_by_label("Kecamatan").select_option("327301")
    page.get_by_label("Desa/kelurahan", exact=True).select_option("3273011001")
    assert page.locator("#village_code").input_value() == BANDUNG_VILLAGE
    axe(page, label="status check: region selects filled")
    page.get_by_label("NIK (16 angka").fill(citizen["kk"])  # the second factor: NIK or KK
    page.get_by_label("Nama lengkap sesuai KTP").fill("Asep Sunandar")
    page.locator("#answer").fill(_answer(page))
    page.get_by_role("button", name="Cari data").click()
    assert "As** Su******" in page.locator("#hasil-card").inner_text()
    axe(page, label="status check by region: found")
