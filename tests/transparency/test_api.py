"""The public API: aggregates with hidden cells as null, GeoJSON, ledger, DCAT catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.programs.models import Cycle
from tepat.transparency.services import aggregates_refresh, opendata_export
from tests.conftest import GEGERKALONG

pytestmark = pytest.mark.django_db


@pytest.fixture
def refreshed(published: Cycle) -> Cycle:
    aggregates_refresh()
    return published


def test_cycles_are_listed_without_log_in(client: Any, refreshed: Cycle) -> None:
    body = client.get("/api/transparency/cycles").json()
    assert [c["public_id"] for c in body] == [refreshed.public_id]


def test_aggregates_give_hidden_cells_as_null(client: Any, refreshed: Cycle) -> None:
    body = client.get("/api/transparency/aggregates", {"region": "32.73.01"}).json()
    assert body["region"]["recipients"] == 29
    child = {c["region_code"]: c for c in body["children"]}[GEGERKALONG]
    assert child["recipients"] is None
    assert child["amount"] is None
    assert child["progress"] is None
    assert body["threshold"] == 10
    assert body["trail"][0] == ["", "Indonesia"]


def test_progress_is_a_share_of_published_counts(client: Any, refreshed: Cycle) -> None:
    body = client.get("/api/transparency/aggregates").json()
    assert body["region"]["paid"] == 42
    assert body["region"]["progress"] == 75


def test_an_unknown_region_is_a_clear_error(client: Any, refreshed: Cycle) -> None:
    response = client.get("/api/transparency/aggregates", {"region": "99"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_boundaries_are_empty_when_none_are_loaded(client: Any, refreshed: Cycle) -> None:
    body = client.get("/api/transparency/boundaries").json()
    assert body == {"type": "FeatureCollection", "features": []}


def test_the_ledger_summary_is_public(client: Any, refreshed: Cycle) -> None:
    body = client.get("/api/transparency/ledger").json()
    assert body["log_size"] >= 0
    assert "checkpoint_size" in body


def test_the_catalogue_lists_each_package_with_downloads(
    client: Any, refreshed: Cycle, tmp_path: Any
) -> None:
    release = opendata_export(out=tmp_path)
    body = client.get("/api/transparency/catalog").json()
    assert body["@type"] == "dcat:Catalog"
    datasets = body["dcat:dataset"]
    assert len(datasets) == 2
    urls = [d["dcat:downloadURL"] for ds in datasets for d in ds["dcat:distribution"]]
    assert any(
        u.endswith(f"/transparansi/data/{release.public_id}/tepat-agregat/agregat.csv")
        for u in urls
    )
    for url in urls:
        path = url.split("testserver", 1)[1]
        assert client.get(path).status_code == 200
