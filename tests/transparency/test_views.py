"""The public dashboard: no log-in, drill-down from the nation to the village, maps, ledger."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.programs.models import Cycle
from tepat.regions.services import regions_load_boundaries
from tepat.transparency.services import aggregates_refresh, opendata_export
from tests.conftest import GEGERKALONG, PONDOK_RAJEG, SUKAASIH
from tests.transparency.builders import make_cycle, make_recipients

pytestmark = pytest.mark.django_db
URL = "/transparansi/"


@pytest.fixture
def refreshed(published: Cycle) -> Cycle:
    aggregates_refresh()
    return published


def test_the_dashboard_says_so_when_nothing_is_published(client: Any, regions: None) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert b'id="no-data"' in response.content
    assert b'id="ledger-panel"' in response.content


def test_the_national_view_needs_no_log_in_and_shows_provinces(
    client: Any, refreshed: Cycle
) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jawa Barat" in html
    assert "Banten" in html
    assert 'data-figure="recipients">56<' in html


def test_without_boundaries_the_nation_is_drawn_as_a_tile_grid(
    client: Any, refreshed: Cycle
) -> None:
    html = client.get(URL).content.decode()
    assert 'id="tile-grid"' in html
    assert html.count('class="tepat-tile ') == 38
    assert 'wilayah=32" title="Jawa Barat"' in html
    assert 'id="region-map"' not in html


def test_with_loaded_boundaries_it_draws_a_choropleth(
    client: Any, refreshed: Cycle, shared_file: Any
) -> None:
    regions_load_boundaries(
        path=shared_file("data", "geo", "cahyadsn_provinsi_38_lite.geojson"),
        level="province",
        code_property="kode",
    )
    html = client.get(URL).content.decode()
    assert 'id="region-map"' in html
    assert "vendor/leaflet/leaflet.js" in html
    assert 'id="tile-grid"' not in html
    geo = client.get(f"/api/transparency/boundaries?cycle={refreshed.public_id}").json()
    with_data = {
        f["properties"]["region_code"] for f in geo["features"] if f["properties"]["has_data"]
    }
    assert with_data == {"32", "36"}
    assert len(geo["features"]) == 2  # only provinces known to the region table get a shape


def test_drilling_down_follows_the_region_tree(client: Any, refreshed: Cycle) -> None:
    html = client.get(URL, {"tahap": refreshed.public_id, "wilayah": "32"}).content.decode()
    assert "Kota Bandung" in html
    assert "Kabupaten Bogor" in html
    html = client.get(URL, {"tahap": refreshed.public_id, "wilayah": "327301"}).content.decode()
    assert "Sukarasa" in html
    assert "Gegerkalong" in html
    assert 'id="region-trail"' in html
    assert "Kota Bandung</span></a>" in html


def test_a_hidden_cell_is_shown_as_a_dot_never_as_its_value(client: Any, refreshed: Cycle) -> None:
    html = client.get(URL, {"wilayah": "327301"}).content.decode()
    row = html.split(f'data-code="{GEGERKALONG}"')[1].split("</tr>")[0]
    assert "tepat-hidden" in row
    assert ">4<" not in row


def test_a_village_page_lists_no_children(client: Any, refreshed: Cycle) -> None:
    response = client.get(URL, {"wilayah": PONDOK_RAJEG})
    assert response.status_code == 200
    assert b'id="region-table"' not in response.content


def test_an_unknown_region_or_cycle_is_not_found(client: Any, refreshed: Cycle) -> None:
    assert client.get(URL, {"wilayah": "9999"}).status_code == 404
    assert client.get(URL, {"wilayah": "abc"}).status_code == 404
    assert client.get(URL, {"tahap": "nope"}).status_code == 404


def test_the_open_data_pages_list_releases_and_serve_files(
    client: Any, refreshed: Cycle, tmp_path: Any
) -> None:
    release = opendata_export(out=tmp_path)
    assert release.public_id in client.get("/transparansi/data/").content.decode()
    page = client.get(f"/transparansi/data/{release.public_id}/")
    assert b"agregat.csv" in page.content
    response = client.get(f"/transparansi/data/{release.public_id}/tepat-agregat/agregat.csv")
    assert response.status_code == 200
    assert b"kode_wilayah" in b"".join(response.streaming_content)


def test_a_file_outside_the_release_is_never_served(
    client: Any, refreshed: Cycle, tmp_path: Any
) -> None:
    release = opendata_export(out=tmp_path)
    base = f"/transparansi/data/{release.public_id}/"
    assert client.get(base + "../../etc/passwd").status_code == 404
    assert client.get(base + "tepat-agregat/other.csv").status_code == 404
    assert client.get("/transparansi/data/unknown/tepat-agregat/agregat.csv").status_code == 404


def test_choosing_a_cycle_without_this_region_goes_back_to_the_nation(
    client: Any, refreshed: Cycle
) -> None:
    other = make_cycle(code="2026-T5")
    make_recipients(other, SUKAASIH, 12)
    aggregates_refresh()
    response = client.get(URL, {"tahap": other.public_id, "wilayah": "3273"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?tahap={other.public_id}"
