"""Least privilege: a Kota Bandung operator cannot see a Kabupaten Bogor household through any
page or API, and a household outside one's region looks exactly like one that does not exist."""

from __future__ import annotations

import pytest

from tepat.core.errors import NotFound
from tepat.registry import sealed, selectors

pytestmark = pytest.mark.django_db


def _head(h):
    return h.members.get(relationship="head")


def test_search_returns_only_households_in_the_operators_region(
    bandung_operator, bandung_household, bogor_household
):
    rows = selectors.person_search(user=bandung_operator, region_code="32")
    assert {r.household_public_id for r in rows} == {bandung_household.public_id}


def test_a_nik_lookup_outside_the_region_finds_nothing(bandung_operator, bogor_household):
    head = _head(bogor_household)
    nik = sealed.unseal(head.nik_enc, context=sealed.NIK, row=head.public_id)
    assert selectors.person_search(user=bandung_operator, nik=nik) == []


def test_household_outside_region_is_not_found(bandung_operator, bogor_household):
    with pytest.raises(NotFound):
        selectors.household_get(user=bandung_operator, public_id=bogor_household.public_id)


def test_a_supervisor_of_the_province_sees_both(supervisor, bandung_household, bogor_household):
    rows = selectors.person_search(user=supervisor, name="Asep")
    rows += selectors.person_search(user=supervisor, name="Ujang")
    assert {r.household_public_id for r in rows} == {
        bandung_household.public_id,
        bogor_household.public_id,
    }


def test_a_user_without_any_region_sees_nothing(unscoped_operator, bandung_household):
    assert selectors.person_search(user=unscoped_operator, region_code="3") == []


def test_a_field_agent_sees_only_their_village(field_agent, bandung_household, bogor_household):
    assert len(selectors.person_search(user=field_agent, region_code="32")) == 3


@pytest.mark.parametrize(
    "path",
    [
        "/registry/rumah-tangga/{h}/",
        "/registry/orang/{p}/",
        "/api/registry/households/{h}",
        "/api/registry/households/{h}/history",
        "/api/registry/households/{h}/as-of?at=2030-01-01T00:00:00Z",
        "/api/registry/persons/{p}",
    ],
)
def test_no_page_or_api_shows_a_bogor_household_to_a_bandung_operator(
    staff_client, bandung_operator, bogor_household, path
):
    client = staff_client(bandung_operator)
    url = path.format(h=bogor_household.public_id, p=_head(bogor_household).public_id)
    response = client.get(url)
    assert response.status_code == 404
    assert b"Ujang" not in response.content


def test_the_same_urls_work_inside_the_region(staff_client, bogor_operator, bogor_household):
    client = staff_client(bogor_operator)
    assert client.get(f"/registry/rumah-tangga/{bogor_household.public_id}/").status_code == 200
    assert client.get(f"/api/registry/households/{bogor_household.public_id}").status_code == 200


def test_search_page_and_api_hide_other_regions(
    staff_client, bandung_operator, bogor_household, bandung_household
):
    client = staff_client(bandung_operator)
    page = client.get("/registry/", {"region_code": "32"})
    assert b"Asep" in page.content
    assert b"Ujang" not in page.content
    api = client.get("/api/registry/persons", {"name": "ujang"})
    assert api.status_code == 200
    assert api.json() == []
    reveal = client.post(
        f"/api/registry/persons/{_head(bogor_household).public_id}/reveal",
        {"purpose": "cek data penerima"},
        content_type="application/json",
    )
    assert reveal.status_code == 404
