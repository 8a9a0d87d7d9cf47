"""Targeting rule checks and scenario results as a way to read personal data.

Attacks tried:
- an operator of Kabupaten Bogor counts households of Kota Bandung with a rule that names a
  Bandung village (the count used to run over the whole nation);
- the same operator narrows a rule to one household and adds `n_severe_disability > 0`, reading a
  disability status from whether the count changes;
- a national admin narrows a rule to a handful of households (small counts, and the complement:
  a rule that matches everyone but a few);
- a rule check that leaves no trace in the audit log, and one by a field agent (who has no use
  for population counts);
- a regionally scoped supervisor runs a national scenario evaluation, and a scoped operator reads
  national evaluation results on the scenario page;
- scenario results that show small groups (a region's eligible or selected count under the
  threshold).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tepat.core.models import AuditEvent
from tepat.targeting import services
from tests.conftest import BANDUNG_VILLAGE, BOGOR_VILLAGE
from tests.targeting.conftest import *  # noqa: F403  (regions, staff, survey, spec fixtures)
from tests.targeting.conftest import register_households

BANDUNG_HOUSEHOLDS = 12
BOGOR_HOUSEHOLDS = 30  # households i = 1..30; floor "earth" where i % 3 == 0: exactly 10


@pytest.fixture
def scored(db: Any, regions: None, survey_csv: Path, spec_toml: Path) -> dict[str, Any]:
    bandung = register_households(BANDUNG_HOUSEHOLDS, village=BANDUNG_VILLAGE)
    bogor = register_households(BOGOR_HOUSEHOLDS, village=BOGOR_VILLAGE, start=101)
    model = services.pmt_calibrate(acting_user=None, survey_path=survey_csv, spec_path=spec_toml)
    run = services.scoring_run(acting_user=None, model=model)
    rule = services.rule_save(acting_user=None, name="bottom40", expression="desil <= 4")
    scenario = services.scenario_save(acting_user=None, name="Desil 1-4", rule=rule)
    return {"bandung": bandung, "bogor": bogor, "run": run, "scenario": scenario}


def _check(client: Any, expression: str) -> dict[str, Any]:
    response = client.post(
        "/api/targeting/rules/check",
        json.dumps({"expression": expression}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    out: dict[str, Any] = response.json()
    return out


def test_an_operator_of_bogor_counts_only_bogor_households(
    scored: dict[str, Any], staff_client: Any, bogor_operator: Any
) -> None:
    # Households 101..130 of Bogor: i % 3 == 0 for 102, 105, ..., 129 = 10 with an earth floor.
    out = _check(staff_client(bogor_operator), 'floor_material == "earth"')
    assert out["households"] == BOGOR_HOUSEHOLDS
    assert out["eligible_households"] == 10
    assert out["scope"] == ["3201"]
    assert out["hidden"] is False


def test_an_operator_of_bogor_cannot_count_a_bandung_village(
    scored: dict[str, Any], staff_client: Any, bogor_operator: Any
) -> None:
    out = _check(staff_client(bogor_operator), f'village == "{BANDUNG_VILLAGE}"')
    assert out["eligible_households"] is None
    assert out["eligible_text"] == "< 10"
    assert out["households"] == BOGOR_HOUSEHOLDS


def test_a_disability_status_outside_the_scope_cannot_be_read_by_differencing(
    scored: dict[str, Any], staff_client: Any, bogor_operator: Any
) -> None:
    c = staff_client(bogor_operator)
    narrow = f'village == "{BANDUNG_VILLAGE}" and household_size == 1'
    plain = _check(c, narrow)
    disabled = _check(c, narrow + " and n_severe_disability > 0")
    for key in ("eligible_households", "eligible_text", "households", "hidden"):
        assert plain[key] == disabled[key]
    assert plain["eligible_households"] is None


def test_a_national_admin_sees_no_small_count_nor_a_small_complement(
    scored: dict[str, Any], staff_client: Any, admin_user: Any
) -> None:
    c = staff_client(admin_user)
    total = BANDUNG_HOUSEHOLDS + BOGOR_HOUSEHOLDS
    few = _check(c, f'village == "{BANDUNG_VILLAGE}" and floor_material == "earth"')
    assert few["eligible_households"] is None
    assert few["eligible_text"] == "< 10"
    assert few["households"] == total
    assert few["scope"] == ["nasional"]
    all_but_few = _check(c, f'not (village == "{BANDUNG_VILLAGE}" and floor_material == "earth")')
    assert all_but_few["eligible_households"] is None
    assert all_but_few["eligible_text"] == f"> {total - 10}"
    middle = _check(c, f'village == "{BOGOR_VILLAGE}"')
    assert middle["eligible_households"] == BOGOR_HOUSEHOLDS


def test_every_rule_check_is_audited_with_its_rule_scope_and_shown_count(
    scored: dict[str, Any], staff_client: Any, bogor_operator: Any
) -> None:
    c = staff_client(bogor_operator)
    _check(c, 'floor_material == "earth"')
    c.get("/targeting/aturan/", {"expression": f'village == "{BANDUNG_VILLAGE}"'})
    events = list(AuditEvent.objects.filter(action="targeting.rule_check").order_by("id"))
    assert len(events) == 2
    api, page = events
    assert api.actor == bogor_operator
    assert api.region_code == "3201"
    assert api.detail["expression"] == 'floor_material == "earth"'
    assert api.detail["scope"] == ["3201"]
    assert api.detail["eligible_shown"] == "10"
    assert page.detail["eligible_shown"] == "< 10"
    assert page.detail["hidden"] is True


def test_the_rule_editor_page_counts_in_scope_and_says_a_small_count_is_hidden(
    scored: dict[str, Any], staff_client: Any, bogor_operator: Any
) -> None:
    body = (
        staff_client(bogor_operator)
        .get("/targeting/aturan/", {"expression": f'village == "{BANDUNG_VILLAGE}"'})
        .content.decode()
    )
    assert f"&lt; 10 dari {BOGOR_HOUSEHOLDS} rumah tangga" in body
    assert "disembunyikan" in body.lower()


def test_a_field_agent_cannot_count_rules_at_all(
    scored: dict[str, Any], staff_client: Any, field_agent: Any
) -> None:
    response = staff_client(field_agent).post(
        "/api/targeting/rules/check",
        json.dumps({"expression": "desil <= 4"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="targeting.rule_check").exists()


def test_a_regionally_scoped_supervisor_cannot_evaluate_a_national_scenario(
    scored: dict[str, Any], staff_client: Any, supervisor: Any
) -> None:
    c = staff_client(supervisor)
    response = c.post(f"/api/targeting/scenarios/{scored['scenario'].public_id}/evaluate")
    assert response.status_code == 403
    with pytest.raises(Exception, match="nasional"):
        services.scenario_evaluate(acting_user=supervisor, scenario=scored["scenario"])


def _counts_shown(results: dict[str, Any]) -> list[tuple[int, int | None]]:
    rows = [results["overall"]]
    for key, groups in results.items():
        if key.startswith("by_"):
            rows.extend(groups.values())
    return [(r[k], r["households"]) for r in rows for k in ("eligible", "selected") if k in r]


def test_scenario_results_never_show_a_small_group(
    scored: dict[str, Any], staff_client: Any, admin_user: Any
) -> None:
    response = staff_client(admin_user).post(
        f"/api/targeting/scenarios/{scored['scenario'].public_id}/evaluate"
    )
    assert response.status_code == 201
    results = response.json()["results"]
    for value, households in _counts_shown(results):
        if value is not None:
            assert households is not None
            assert value >= 10
            assert households - value >= 10
    # The stored (exact) results do hold small cells: the hiding above did real work.
    from tepat.targeting.models import EvaluationRun

    raw = EvaluationRun.objects.get(public_id=response.json()["public_id"]).results
    assert any(v < 10 or h - v < 10 for v, h in _counts_shown(raw))


def test_a_scoped_operator_sees_no_national_scenario_results(
    scored: dict[str, Any], staff_client: Any, bogor_operator: Any, admin_user: Any
) -> None:
    services.scenario_evaluate(acting_user=admin_user, scenario=scored["scenario"])
    body = staff_client(bogor_operator).get("/targeting/skenario/").content.decode()
    assert "<svg" not in body
    assert "hanya peran nasional" in body
