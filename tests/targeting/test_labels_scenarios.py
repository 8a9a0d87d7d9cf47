"""The scenario comparison in Indonesian: chart headings in words, bar geometry with decimal
points (a decimal comma in an SVG attribute draws nothing), the head's sex in words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tepat.targeting import services

from .conftest import register_households


@pytest.fixture
def evaluated(db: Any, regions: None, survey_csv: Path, spec_toml: Path, settings: Any) -> Any:
    settings.TEPAT_MIN_CELL = 2  # ten households: show what a bigger registry would show
    register_households(10)
    model = services.pmt_calibrate(acting_user=None, survey_path=survey_csv, spec_path=spec_toml)
    services.scoring_run(acting_user=None, model=model)
    rule = services.rule_save(acting_user=None, name="bottom40", expression="desil <= 4")
    scenario = services.scenario_save(acting_user=None, name="Desil 1-4", rule=rule)
    return services.scenario_evaluate(acting_user=None, scenario=scenario)


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
GEOMETRY = ("width", "height", "x", "y")


def _svg_numbers(body: str) -> list[str]:
    """Every number of every chart's geometry: attributes, viewBox and translate()."""
    out = []
    for svg in re.findall(r"<svg.*?</svg>", body, flags=re.S):
        for name, value in re.findall(r'\b(width|height|x|y|viewBox|transform)="([^"]*)"', svg):
            inner = value.removeprefix("translate(").removesuffix(")")
            out.extend(re.split(r"[ ,]+", inner) if name in ("viewBox", "transform") else [inner])
    return out


def test_indonesian_charts_carry_decimal_points_and_headings_in_words(
    evaluated, staff_client, admin_user
):
    body = staff_client(admin_user).get("/targeting/skenario/").content.decode()
    numbers = _svg_numbers(body)
    assert numbers, "no chart was drawn"
    assert all(NUMBER.fullmatch(n) for n in numbers), numbers
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([^"]+)"', body)]
    assert widths
    assert all(w > 0 for w in widths)
    assert ">Cakupan</h3>" in body
    assert ">Galat inklusi</h3>" in body
    assert ">coverage<" not in body
    assert ">inclusion_error<" not in body
    assert "Kepala keluarga: Laki-laki" in body
    assert "Tidak ada angka untuk digambar" in body  # a chart whose values are all hidden
    assert not re.search(r"KK [MF?]<", body)


def test_the_chart_headings_speak_english_when_chosen(evaluated, staff_client, admin_user):
    client = staff_client(admin_user)
    client.post("/i18n/setlang/", {"language": "en"})
    body = client.get("/targeting/skenario/").content.decode()
    assert ">Coverage</h3>" in body
    assert ">Inclusion error</h3>" in body
    assert all(NUMBER.fullmatch(n) for n in _svg_numbers(body))


def test_a_hidden_value_leaves_no_gap_and_an_empty_chart_says_why():
    from tepat.targeting.views import _bars

    rows = [
        {"name": "A", "overall": {"coverage": None, "inclusion_error": None}},
        {"name": "B", "overall": {"coverage": 0.25, "inclusion_error": None}},
    ]
    charts = {c["metric"]: c for c in _bars(rows)}
    (bar,) = charts["coverage"]["bars"]
    assert bar["y"] == 0
    assert charts["coverage"]["height"] == 22
    assert bar["width"] == 75.0
    assert bar["text_x"] == 280.0
    assert charts["inclusion_error"]["bars"] == []


def test_the_model_card_names_its_method_in_words_beside_the_spec_code(
    evaluated, staff_client, bandung_operator
):
    version = evaluated.results["model_version"]
    body = staff_client(bandung_operator).get(f"/targeting/model/{version}/").content.decode()
    assert "OLS (kuadrat terkecil) <code>ols</code>" in body  # the spec names it `ols`
    assert "Data latih (OLS (kuadrat terkecil))" in body
