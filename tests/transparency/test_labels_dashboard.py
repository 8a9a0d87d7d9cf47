"""The dashboard's chart and map words come from the page, in the page's language: the script
holds none (it used to draw "Penerima"/"Tersalur" on the English page)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import tepat
from tepat.programs.models import Cycle
from tepat.transparency.services import aggregates_refresh
from tests.transparency.builders import published  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def _script_text(html: str) -> dict[str, str]:
    found = re.search(r'<script id="dashboard-text" type="application/json">(.*?)</script>', html)
    assert found
    return json.loads(found.group(1))


def test_the_chart_and_map_words_follow_the_language(client: Any, published: Cycle) -> None:  # noqa: F811
    aggregates_refresh()
    text = _script_text(client.get("/transparansi/").content.decode())
    assert text == {
        "recipients": "Penerima", "paid": "Tersalur", "no_data": "tidak ada data",
        "hidden": "disembunyikan", "locale": "id-ID",
    }  # fmt: skip
    client.post("/i18n/setlang/", {"language": "en"})
    english = _script_text(client.get("/transparansi/").content.decode())
    assert english["recipients"] == "Recipients"
    assert english["locale"] == "en-GB"


def test_the_dashboard_script_holds_no_indonesian_words() -> None:
    script = Path(tepat.__file__).parent / "transparency/static/transparency/dashboard.js"
    source = script.read_text("utf-8")
    for words in ("Penerima", "Tersalur", "tidak ada data", "disembunyikan"):
        assert f'"{words}"' not in source
