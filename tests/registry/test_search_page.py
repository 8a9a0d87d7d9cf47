"""The registry search page: it says when results are capped and pages on; its region pickers
offer only the user's regions (issue 20, item 9)."""

from __future__ import annotations

import re

import pytest

from tepat.core.models import AuditEvent
from tepat.registry import selectors

pytestmark = pytest.mark.django_db


def _names(page: str) -> list[str]:
    return re.findall(r'<a href="/registry/orang/[^"]+/">([^<]+)</a>', page)


def _options(page: str, select_id: str) -> list[str]:
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', page, re.S)
    assert select is not None, select_id
    return re.findall(r'<option value="(\d+)"', select.group(0))


def test_a_capped_search_says_so_and_pages_on_and_back(
    staff_client, bandung_operator, bandung_household, monkeypatch
):
    monkeypatch.setattr(selectors, "SEARCH_PAGE_SIZE", 2)
    client = staff_client(bandung_operator)
    first = client.get("/registry/", {"region_code": "3273"}).content.decode()
    assert len(_names(first)) == 2
    assert "lebih dari 2" in first  # "showing the first 2 of more than 2"
    nxt = re.search(r'href="([^"]*page=2[^"]*)"[^>]*rel="next"', first)
    assert nxt is not None
    assert 'rel="prev"' not in first

    second = client.get(nxt.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
    body = second.content.decode()
    assert b"<form" not in second.content  # htmx: the results only
    names_two = _names(body)
    assert len(names_two) == 1
    assert not set(names_two) & set(_names(first))  # the rest, not the same people again
    assert 'rel="next"' not in body
    assert "lebih dari" not in body
    assert re.search(r'href="[^"]*page=1[^"]*"[^>]*rel="prev"', body)
    # Every name of the household is found across the two pages, in name order.
    everyone = _names(first) + names_two
    assert sorted(everyone, key=str.casefold) == everyone
    assert len(everyone) == bandung_household.members.count()

    pages = list(
        AuditEvent.objects.filter(actor=bandung_operator, action="registry.search")
        .order_by("id")
        .values_list("detail__page", "detail__results")
    )
    assert pages == [(1, 2), (2, 1)]


def test_a_search_that_fits_one_page_shows_no_pager(
    staff_client, bandung_operator, bandung_household
):
    page = staff_client(bandung_operator).get("/registry/", {"name": "asep"}).content.decode()
    assert "1 orang ditemukan" in page
    assert "tepat-pager" not in page
    assert "lebih dari" not in page


@pytest.mark.parametrize("raw", ["0", "abc", "-1", "9" * 30, "201"])
def test_a_page_out_of_bounds_is_a_clear_message_not_an_error(
    staff_client, bandung_operator, bandung_household, raw
):
    response = staff_client(bandung_operator).get("/registry/", {"name": "asep", "page": raw})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "Asep Sunandar" not in _names(page)
    assert "halaman" in page.lower()


def test_the_province_picker_lists_only_the_users_regions(
    staff_client, bogor_operator, banten_operator, auditor, regions
):
    client = staff_client(bogor_operator)
    assert _options(client.get("/registry/").content.decode(), "id_province") == ["32"]
    # Choosing the province offers only the regency the operator works in, not Kota Bandung.
    page = client.get("/registry/", {"province": "32"}).content.decode()
    assert _options(page, "id_regency") == ["3201"]
    # The htmx cascade answers the same way.
    options = client.get("/registry/wilayah/", {"province": "32"}).content.decode()
    assert re.findall(r'<option value="(\d+)"', options) == ["3201"]
    assert "Kota Bandung" not in options

    client = staff_client(banten_operator)
    assert _options(client.get("/registry/").content.decode(), "id_province") == ["36"]
    options = client.get("/registry/wilayah/", {"province": "32"}).content.decode()
    assert re.findall(r'<option value="(\d+)"', options) == []

    # Readers of every region (auditors, admins) are offered every province.
    client = staff_client(auditor)
    assert _options(client.get("/registry/").content.decode(), "id_province") == ["32", "36"]


def test_a_field_agent_is_offered_the_way_down_to_their_village(staff_client, field_agent, regions):
    client = staff_client(field_agent)
    page = client.get(
        "/registry/", {"province": "32", "regency": "3273", "district": "327301"}
    ).content.decode()
    assert _options(page, "id_province") == ["32"]
    assert _options(page, "id_regency") == ["3273"]
    assert _options(page, "id_district") == ["327301"]
    assert _options(page, "id_village") == ["3273011001"]  # Sukarasa, not Gegerkalong


def test_the_region_options_need_sign_in(client, regions):
    response = client.get("/registry/wilayah/", {"province": "32"})
    assert response.status_code == 302


@pytest.mark.parametrize("parent", ["abc", "99", "3273011001" * 3])
def test_region_options_for_a_bad_or_unknown_parent_are_empty_not_an_error(
    staff_client, supervisor, parent
):
    response = staff_client(supervisor).get("/registry/wilayah/", {"province": parent})
    assert response.status_code == 200
    assert re.findall(r'<option value="(\d+)"', response.content.decode()) == []
