"""The public status check (Cek Bansos): what it shows, what it hides, how it resists bots."""

from __future__ import annotations

import pytest

from tests.conftest import BANDUNG_VILLAGE
from tests.portal.conftest import solve

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
    assert "Rp750.000" in html
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


def test_region_name_and_kk_or_nik_find_the_same_masked_answer(client, citizen):
    for number in (citizen["kk"], citizen["nik"]):
        r = _check(
            client, mode="region", village_code=BANDUNG_VILLAGE, name="Asep Sunandar", nik=number
        )
        html = r.content.decode()
        assert r.status_code == 200
        assert "As** Su******" in html
        assert "Tahap 4" in html
    other = _check(
        client, mode="region", village_code="3273011002", name="Asep Sunandar", nik=citizen["kk"]
    )
    assert "Data tidak ditemukan" in other.content.decode()


def test_the_page_switches_to_english(client, citizen):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/cek/").content.decode()
    assert '<html lang="en">' in html
    r = _check(client, nik=citizen["nik"], name=citizen["name"])
    assert r.status_code == 200


def test_not_found_and_wrong_name_run_the_very_same_statements(client, citizen):
    # Same statements, same (zero) rows: nothing for a timing measurement to tell apart.
    from django.db import connection

    def statements(nik: str, name: str = "Budi Santoso") -> list[str]:
        page = client.get("/cek/").content.decode()
        data = {"mode": "nik", "nik": nik, "name": name, **solve(page)}
        seen: list[str] = []

        def record(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            assert client.post("/cek/", data).status_code == 200
        return seen

    wrong_name = statements(citizen["nik"])
    unknown = statements("3273011205809999")
    assert wrong_name == unknown
    assert len(wrong_name) == 1
    assert "name_search" in wrong_name[0]
    # A match runs that same statement too (its tahap rows come back in the same round trip).
    found = statements(citizen["nik"], citizen["name"])
    assert found == wrong_name


def test_a_village_search_keeps_each_familys_tahap_with_its_own_person(citizen, bandung_operator):
    from tepat.portal.selectors import status_by_region
    from tepat.registry.services import household_register
    from tests.conftest import make_household, make_members

    # Another family in the village whose head and child are both called Asep Sunandar and
    # who get nothing yet: their KK number brings both back, and only them.
    members = make_members(serial=2)
    members[2]["full_name"] = "Asep Sunandar"
    household_register(
        acting_user=bandung_operator,
        source="test",
        household=make_household(serial=2),
        members=members,
    )
    (mine,) = status_by_region(
        village_code=BANDUNG_VILLAGE, name="Asep Sunandar", number=citizen["kk"]
    )
    assert [r.tahap for r in mine.rows] == [4]
    assert mine.desil == 2
    kk2 = make_household(serial=2)["kk"]
    first, second = status_by_region(village_code=BANDUNG_VILLAGE, name="Asep Sunandar", number=kk2)
    assert first.rows == second.rows == []
    assert first.desil is None
    one = status_by_region(village_code=BANDUNG_VILLAGE, name="Asep Sunandar", number=kk2, limit=1)
    assert len(one) == 1
