"""Public pages: the dashboard with drill-down and maps, and the open-data releases."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext

from tepat.core.errors import NotFound, TepatError
from tepat.transparency import selectors
from tepat.transparency.tilegrid import TILES

BUCKETS = 5


def _bucket(value: int | None, top: int) -> int | None:
    if value is None:
        return None
    if top <= 0:
        return 0
    return min(BUCKETS - 1, int(BUCKETS * value / (top + 1)))


def _tile_grid(table: selectors.RegionTable) -> list[dict[str, Any]]:
    by_code = {c.region_code: c for c in table.children}
    top = max((c.recipients or 0 for c in table.children), default=0)
    names = dict(selectors.provinces())
    tiles = []
    for code, (col, row, short) in sorted(TILES.items()):
        cell = by_code.get(code)
        tiles.append(
            {
                "code": code,
                "short": short,
                "name": cell.region_name if cell else names.get(code, code),
                "col": col + 1,
                "row": row + 1,
                "has_data": cell is not None,
                "recipients": cell.recipients if cell else 0,
                "bucket": _bucket(cell.recipients, top) if cell else -1,
            }
        )
    return tiles


# The chart per region, drawn on the server as SVG (no chart library: the page stays light and
# works without scripts). Geometry in SVG user units; the page scales it to its width.
CHART_LABEL_W = 220  # region names
CHART_BAR_W = 340  # the longest bar
CHART_ROW_H = 34  # two bars of 12 and their gap
CHART_TOP = 30  # the legend


def _bar_chart(children: Any) -> dict[str, Any]:
    """Two bars per child region (recipients, paid) scaled to the largest shown value. A value
    hidden by small-count suppression draws no bar and says so; it never reads as zero."""
    shown = [v for c in children for v in (c.recipients, c.paid) if v is not None]
    top = max(shown, default=0)

    def width(value: int | None) -> float | None:
        if value is None:
            return None
        return round(CHART_BAR_W * value / top, 1) if top else 0.0

    rows = []
    for i, c in enumerate(children):
        y = CHART_TOP + i * CHART_ROW_H
        rows.append(
            {
                "name": c.region_name,
                "y": y,
                "y_paid": y + 13,
                "y_text": y + 17,
                "recipients": c.recipients,
                "paid": c.paid,
                "w_recipients": width(c.recipients),
                "w_paid": width(c.paid),
                "x_recipients_value": CHART_LABEL_W + (width(c.recipients) or 0) + 6,
                "x_paid_value": CHART_LABEL_W + (width(c.paid) or 0) + 6,
            }
        )
    return {
        "rows": rows,
        "width": CHART_LABEL_W + CHART_BAR_W + 90,
        "height": CHART_TOP + len(rows) * CHART_ROW_H,
        "bar_x": CHART_LABEL_W,
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    cycle_id = request.GET.get("tahap") or None
    region = request.GET.get("wilayah") or None
    try:
        table = selectors.region_table(cycle_id=cycle_id, region_code=region)
    except NotFound as exc:
        if cycle_id and region and selectors.cycle_has_region(cycle_id=cycle_id, region_code=""):
            # Another cycle was chosen on a region page that has no recipients in it.
            return redirect(f"{reverse('transparency:dashboard')}?tahap={cycle_id}")
        if cycle_id or region:
            raise Http404(exc.message) from exc
        return render(
            request,
            "transparency/dashboard.html",
            {"table": None, "ledger": selectors.ledger_panel()},
        )
    except TepatError as exc:
        raise Http404(exc.message) from exc
    geo = selectors.boundaries(table=table)
    tiles = _tile_grid(table) if geo is None and table.region.level == "national" else None
    chart = _bar_chart(table.children)
    # dashboard.js holds no words: series names and map tooltips come in the page's language.
    script_text = {
        "recipients": gettext("Penerima"),
        "paid": gettext("Tersalur"),
        "no_data": gettext("tidak ada data"),
        "hidden": gettext("disembunyikan"),
        "locale": "en-GB" if (get_language() or "").startswith("en") else "id-ID",
    }
    context = {
        "table": table,
        "cycles": selectors.public_cycles(),
        "has_boundaries": geo is not None,
        "boundaries_url": reverse("api:transparency_boundaries")
        + f"?cycle={table.cycle.public_id}&region={table.region.region_code}",
        "tiles": tiles,
        "chart": chart,
        "script_text": script_text,
        "ledger": selectors.ledger_panel(),
        "refresh": selectors.last_refresh(),
        "drillable": table.child_level is not None and table.child_level != "",
    }
    return render(request, "transparency/dashboard.html", context)


def opendata(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "transparency/opendata.html",
        {"releases": selectors.releases(), "refresh": selectors.last_refresh()},
    )


def release(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        item = selectors.release_get(public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "transparency/release.html", {"release": item})


def release_file(request: HttpRequest, public_id: str, path: str) -> FileResponse:
    try:
        full = selectors.release_file(public_id=public_id, path=path)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    content_type = "application/json" if full.suffix == ".json" else "text/csv; charset=utf-8"
    return FileResponse(full.open("rb"), content_type=content_type, filename=full.name)
