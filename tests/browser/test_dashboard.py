"""The public dashboard in a real browser: tile grid, drill-down, chart, Leaflet choropleth, and
not one request to a third party (no tile server, no CDN)."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.programs.models import Cycle
from tepat.regions.services import regions_load_boundaries
from tepat.transparency.services import aggregates_refresh
from tests.transparency.builders import published  # noqa: F401 (a fixture)


@pytest.fixture
def refreshed(published: Cycle) -> Cycle:  # noqa: F811
    aggregates_refresh()
    return published


@pytest.fixture
def requests_seen(page: Any) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def _only_local(urls: list[str], live_server: Any) -> None:
    foreign = [u for u in urls if not u.startswith(live_server.url) and not u.startswith("data:")]
    assert foreign == []


def test_a_visitor_drills_down_from_the_tile_grid_to_the_villages(
    page: Any,
    axe: Any,
    live_server: Any,
    refreshed: Cycle,
    requests_seen: list[str],
    screenshots_dir: Any,
) -> None:
    page.goto("/transparansi/")
    assert page.locator("#tile-grid .tepat-tile").count() == 38
    axe(page, label="dashboard: tile grid")
    page.click('#tile-grid a[data-code="32"]')
    page.wait_for_selector("#region-name:has-text('Jawa Barat')")
    axe(page, label="dashboard: province")
    page.click("#region-table >> text=Kota Bandung")
    page.wait_for_selector("#region-name:has-text('Kota Bandung')")
    axe(page, label="dashboard: regency")
    page.click("#region-table >> text=Sukasari")
    page.wait_for_selector("#region-name:has-text('Sukasari')")
    rows = page.locator("#region-table tbody tr")
    assert rows.count() == 2
    assert page.locator("#region-table .tepat-hidden").count() >= 2
    axe(page, label="dashboard: district")
    # The breadcrumb goes back up.
    page.click("#region-trail >> text=Jawa Barat")
    page.wait_for_selector("#region-name:has-text('Jawa Barat')")
    page.screenshot(path=str(screenshots_dir / "transparency-dashboard.png"), full_page=True)
    _only_local(requests_seen, live_server)


def test_the_chart_is_drawn(page: Any, axe: Any, live_server: Any, refreshed: Cycle) -> None:
    # Drawn on the server as SVG (no chart library): one row of bars per child region, real
    # widths, and no script needed.
    page.goto("/transparansi/?wilayah=32")
    rows = page.locator("#region-chart .tepat-bars__row")
    assert rows.evaluate_all("gs => gs.map(g => g.dataset.region)") == [
        "Kabupaten Bogor",
        "Kota Bandung",
    ]
    widths = page.locator("#region-chart rect.tepat-bars__recipients").evaluate_all(
        "rs => rs.map(r => r.getBBox().width)"
    )
    assert len(widths) == 3  # the legend's swatch, then one bar a region
    assert all(w > 0 for w in widths)
    assert page.evaluate("() => typeof window.Chart") == "undefined"
    axe(page, label="dashboard: chart drawn")


def test_loaded_boundaries_become_a_clickable_choropleth(
    page: Any,
    axe: Any,
    live_server: Any,
    refreshed: Cycle,
    shared_file: Any,
    requests_seen: list[str],
    screenshots_dir: Any,
) -> None:
    regions_load_boundaries(
        path=shared_file("data", "geo", "cahyadsn_provinsi_38_lite.geojson"),
        level="province",
        code_property="kode",
    )
    page.goto("/transparansi/")
    page.wait_for_selector("#region-map[data-ready='2']")
    shapes = page.locator("#region-map path.leaflet-interactive")
    assert shapes.count() >= 2
    axe(page, label="dashboard: choropleth")
    page.screenshot(path=str(screenshots_dir / "transparency-map.png"), full_page=True)
    assert page.locator("#tile-grid").count() == 0
    shapes.first.dispatch_event("click")
    page.wait_for_url("**wilayah=*")
    assert page.inner_text("#region-name") in {"Jawa Barat", "Banten"}
    axe(page, label="dashboard: province from the map")
    _only_local(requests_seen, live_server)
