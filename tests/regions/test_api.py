"""The public regions API: provinces, one region, its children and ancestors."""

from __future__ import annotations

import pytest
from django.test import Client

from tepat.regions.models import Region

pytestmark = pytest.mark.django_db


def test_it_lists_the_provinces_without_a_log_in(client: Client, west_java: dict[str, Region]):
    response = client.get("/api/regions/")

    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "32",
            "dotted_code": "32",
            "name": "Jawa Barat",
            "level": "province",
            "parent_code": None,
        },
        {
            "code": "33",
            "dotted_code": "33",
            "name": "Jawa Tengah",
            "level": "province",
            "parent_code": None,
        },
    ]


def test_it_returns_one_region_by_dotted_code(client: Client, west_java: dict[str, Region]):
    response = client.get("/api/regions/32.73")

    assert response.status_code == 200
    assert response.json() == {
        "code": "3273",
        "dotted_code": "32.73",
        "name": "Kota Bandung",
        "level": "regency",
        "parent_code": "32",
    }


def test_it_lists_the_children_of_a_region(client: Client, west_java: dict[str, Region]):
    response = client.get("/api/regions/3273/children")

    assert response.status_code == 200
    assert [r["code"] for r in response.json()] == ["327301", "327302"]
    assert {r["parent_code"] for r in response.json()} == {"3273"}


def test_it_lists_the_ancestors_of_a_village(client: Client, west_java: dict[str, Region]):
    response = client.get("/api/regions/3273011001/ancestors")

    assert [r["code"] for r in response.json()] == ["32", "3273", "327301", "3273011001"]


def test_it_rejects_unknown_region_with_the_error_shape(
    client: Client, west_java: dict[str, Region]
):
    response = client.get("/api/regions/9999")

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_region"
    assert body["field"] == "code"
    assert "9999" in body["message"]


def test_it_rejects_a_malformed_code_with_a_422(client: Client, west_java: dict[str, Region]):
    response = client.get("/api/regions/bandung/children")

    # The schema's pattern says what a code is, so the refusal is the schema's (issue 20).
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["field"] == "code"


def test_children_of_an_unknown_region_are_a_404(client: Client, west_java: dict[str, Region]):
    assert client.get("/api/regions/99/children").status_code == 404
