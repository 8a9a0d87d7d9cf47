"""Indonesian everywhere, as an administrator sees it in Chromium (locale id-ID): the household's
history and "as of" answer in words, an import's status in words and an upload box without
English, and the scenario charts actually drawn (a decimal comma in an SVG attribute drew
nothing). axe-core at WCAG 2.1 AA on every state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.test import Client

from tests.conftest import signed_in
from tests.integration.test_importing import BAD_DATE, GOOD, _csv
from tests.targeting.conftest import SPEC, write_survey

CODES = re.compile(
    r"\b(financial_address|household|person|work_sector|relationship|other_family|not_working|"
    r"head|spouse|done|failed|pending|coverage|inclusion_error|exclusion_error)\b"
)


def _sign_in(page: Any, live_server: Any, user: Any) -> None:
    client = signed_in(Client(), user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _data(household: Any, tmp_path: Path) -> None:
    """A history to read, a finished import, and one evaluated scenario."""
    from tepat.integration.importing import import_file
    from tepat.integration.services import sources_ensure_builtin
    from tepat.registry.services import person_update
    from tepat.targeting import services
    from tests.targeting.conftest import register_households

    person_update(
        acting_user=None, person=household.members.get(relationship="spouse"), source="test",
        changes={"relationship": "other_family", "work_sector": "trade"},
    )  # fmt: skip
    sources_ensure_builtin()
    import_file(acting_user=None, source_key="bpjs", file_name="b.csv", data=_csv(GOOD, BAD_DATE))
    register_households(9, start=2)
    survey = write_survey(tmp_path / "survey.csv")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    model = services.pmt_calibrate(acting_user=None, survey_path=survey, spec_path=spec)
    services.scoring_run(acting_user=None, model=model)
    rule = services.rule_save(acting_user=None, name="bottom40", expression="desil <= 4")
    scenario = services.scenario_save(acting_user=None, name="Desil 1-4", rule=rule)
    services.scenario_evaluate(acting_user=None, scenario=scenario)


def test_an_administrator_reads_words_and_rupiah_and_sees_the_charts(
    page: Any, live_server: Any, axe: Any, admin_user: Any, bandung_household: Any,
    tmp_path: Path, settings: Any,
) -> None:  # fmt: skip
    settings.TEPAT_MIN_CELL = 2  # ten households: show what a bigger registry would show
    _data(bandung_household, tmp_path)
    _sign_in(page, live_server, admin_user)

    # The household: each change named in words, members "as of" with relationship and sex.
    page.goto(f"/registry/rumah-tangga/{bandung_household.public_id}/?as_of=2100-01-01")
    history = page.locator("main").inner_text().split("Data per tanggal", 1)[1]
    assert "Hubungan dengan kepala keluarga: Istri/suami → Famili lain" in history
    assert "Pekerjaan: Tidak bekerja → Perdagangan" in history
    assert "Kepala keluarga, Laki-laki" in history
    assert not CODES.search(history), CODES.search(history)
    axe(page, label="household history and as-of")

    # Imports: the status in words; the upload box explains itself in Indonesian only.
    page.goto("/integrasi/")
    assert page.locator("td[data-status=done]").first.inner_text() == "Selesai"
    assert page.locator("#file-hint").is_visible()
    form = page.locator("form:has(#file)").inner_text()
    assert not re.search(r"Drag|choose from folder|files? here", form), form
    axe(page, label="integration home")

    # Scenarios: the bars are drawn (a width with a decimal comma drew nothing), in words.
    page.goto("/targeting/skenario/")
    heading = page.locator("h3[data-metric=coverage]")
    assert heading.inner_text() == "Cakupan"
    bar = page.locator("h3[data-metric=coverage] + svg rect").first
    box = bar.bounding_box()
    assert box is not None
    assert box["width"] > 10, box
    assert "Kepala keluarga: Laki-laki" in page.locator("main").inner_text()
    axe(page, label="scenario comparison")
