"""The public status check (Cek Bansos): what it shows, what it hides, how it resists bots."""

from __future__ import annotations

import pytest

from tests.portal.conftest import BANDUNG_VILLAGE, solve

pytestmark = pytest.mark.django_db


def _check(client, **fields):
    page = client.get("/cek/").content.decode()
    data = {"mode": "nik", **solve(page), **fields}
    return client.post("/cek/", data)


def test_nik_and_name_show_the_masked_status_per_tahap(client, citizen):
    r = _check(client, nik=citizen["nik"], name="asep  SUNANDAR")
    html = r.content.decode()
    assert r.status_code == 200
    assert "As** Su******" in html
    assert "Program Keluarga Harapan" in html
    assert "Tahap 4" in html
    assert "Dibayar" in html
    assert "750000" in html
    assert "Tunai melalui PT Pos" in html
    assert "Kantor Pos Sukasari" in html
    assert "<dt>Desil</dt><dd>2</dd>" in html


def test_the_answer_never_contains_the_nik_or_the_full_name(client, citizen):
    html = _check(client, nik=citizen["nik"], name=citizen["name"]).content.decode()
    assert citizen["nik"] not in html
    assert "Asep Sunandar" not in html
    assert "Siti" not in html  # other family members are not listed


def _result_section(html: str) -> str:
    start = html.index('id="hasil-card"')
    return html[start : html.index("</section>", start)]


def test_not_found_and_wrong_name_look_exactly_the_same(client, citizen):
    wrong_name = _check(client, nik=citizen["nik"], name="Budi Santoso")
    unknown = _check(client, nik="3273011205809999", name="Budi Santoso")
    assert wrong_name.status_code == unknown.status_code == 200
    assert _result_section(wrong_name.content.decode()) == _result_section(unknown.content.decode())
    assert "Data tidak ditemukan" in unknown.content.decode()


def test_a_malformed_nik_gets_a_clear_message_in_indonesian(client, citizen):
    for bad in ("12345", "3273O11205800001", "3.273011205800001E+15"):
        r = _check(client, nik=bad, name="Asep Sunandar")
        assert r.status_code == 400
        assert "NIK harus 16 angka" in r.content.decode()


def test_a_wrong_or_reused_challenge_answer_is_refused(client, citizen):
    page = client.get("/cek/").content.decode()
    good = solve(page)
    wrong = {**good, "answer": str(int(good["answer"]) + 1)}
    data = {"mode": "nik", "nik": citizen["nik"], "name": citizen["name"]}
    assert client.post("/cek/", {**data, **wrong}).status_code == 400
    assert client.post("/cek/", {**data, **good}).status_code == 200
    replay = client.post("/cek/", {**data, **good})
    assert replay.status_code == 400
    assert "pertanyaan keamanan salah" in replay.content.decode()


def test_one_address_is_limited_per_hour(client, citizen, settings):
    settings.TEPAT_CEK_LIMIT_PER_IP_HOUR = 3
    codes = [
        _check(client, nik=f"327301120580{i:04d}", name="X Y Z").status_code for i in range(2, 6)
    ]
    assert codes == [200, 200, 200, 429]


def test_one_nik_is_limited_per_day_from_any_address(client, citizen, settings):
    settings.TEPAT_CEK_LIMIT_PER_NIK_DAY = 2
    codes = []
    for i in range(3):
        page = client.get("/cek/").content.decode()
        data = {"mode": "nik", "nik": citizen["nik"], "name": citizen["name"], **solve(page)}
        last = client.post("/cek/", data, REMOTE_ADDR=f"10.0.0.{i + 1}")
        codes.append(last.status_code)
    assert codes == [200, 200, 429]
    assert "terlalu sering dicari" in last.content.decode()


def test_region_and_name_find_the_same_masked_answer(client, citizen):
    r = _check(client, mode="region", village_code=BANDUNG_VILLAGE, name="Asep Sunandar")
    html = r.content.decode()
    assert r.status_code == 200
    assert "As** Su******" in html
    assert "Tahap 4" in html
    other = _check(client, mode="region", village_code="3273011002", name="Asep Sunandar")
    assert "Data tidak ditemukan" in other.content.decode()


def test_the_page_switches_to_english(client, citizen):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/cek/").content.decode()
    assert '<html lang="en">' in html
    r = _check(client, nik=citizen["nik"], name=citizen["name"])
    assert r.status_code == 200
