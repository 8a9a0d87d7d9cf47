"""The dashboard's chart per region is SVG drawn on the server: bars scaled to the largest shown
value, a hidden (small-count) value drawn as no bar and named, never as zero, and geometry that
never carries a decimal comma on the Indonesian page. No chart library is loaded."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from tepat.programs.models import Cycle
from tepat.transparency.services import aggregates_refresh
from tepat.transparency.views import CHART_BAR_W, _bar_chart
from tests.transparency.builders import published  # noqa: F401 (a fixture)


def _child(name: str, recipients: int | None, paid: int | None) -> SimpleNamespace:
    return SimpleNamespace(region_name=name, recipients=recipients, paid=paid)


def test_bars_scale_to_the_largest_value_and_a_hidden_value_draws_no_bar() -> None:
    chart = _bar_chart([_child("A", 40, 10), _child("B", None, 20)])
    a, b = chart["rows"]
    assert a["w_recipients"] == CHART_BAR_W
    assert a["w_paid"] == CHART_BAR_W / 4
    assert b["w_recipients"] is None  # hidden: no bar, never a zero-length one
    assert b["w_paid"] == CHART_BAR_W / 2
    assert chart["height"] > b["y_paid"]


def test_nothing_shown_draws_zero_length_bars_not_a_division_error() -> None:
    chart = _bar_chart([_child("A", 0, 0)])
    assert chart["rows"][0]["w_recipients"] == 0.0


@pytest.mark.django_db
def test_the_indonesian_page_draws_the_chart_without_a_chart_library(
    client: Any,
    published: Cycle,  # noqa: F811
) -> None:
    aggregates_refresh()
    html = client.get("/transparansi/?wilayah=32").content.decode()
    svg = html.split('<svg id="region-chart"', 1)[1].split("</svg>", 1)[0]
    assert "<title" in svg
    for value in re.findall(r' (?:x|y|width|height)="([^"]*)"', svg):
        assert re.fullmatch(r"-?\d+(\.\d+)?", value), value
    assert "chart.umd" not in html
