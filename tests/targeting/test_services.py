from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tepat.core.errors import PermissionDenied, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.targeting import selectors, services
from tepat.targeting.models import HouseholdScore, PmtModel, TruthConsumption
from tests.conftest import BOGOR_VILLAGE

from .conftest import register_households


@pytest.fixture
def model(db: Any, survey_csv: Path, spec_toml: Path) -> PmtModel:
    return services.pmt_calibrate(acting_user=None, survey_path=survey_csv, spec_path=spec_toml)


@pytest.fixture
def households(regions: None) -> list[Any]:
    return register_households(12) + register_households(8, village=BOGOR_VILLAGE, start=20)


def test_calibration_saves_a_versioned_model_with_metrics_and_summary(
    admin_user: Any, survey_csv: Path, spec_toml: Path
) -> None:
    first = services.pmt_calibrate(
        acting_user=admin_user, survey_path=survey_csv, spec_path=spec_toml
    )
    second = services.pmt_calibrate(
        acting_user=admin_user, survey_path=survey_csv, spec_path=spec_toml,
        overrides={"method": "quantile"},
    )  # fmt: skip
    assert (first.version, second.version) == (1, 2)
    assert second.method == "quantile"
    assert first.created_by == admin_user
    assert first.metrics["cv"]["auc"] > 0.85
    assert first.training_summary["rows_used"] == 600
    assert "floor_material" in first.training_summary["proxies"]
    assert "LANTAI" in first.spec_text
    assert AuditEvent.objects.filter(action="targeting.pmt_calibrate").count() == 2


def test_an_operator_may_not_calibrate(
    bandung_operator: Any, survey_csv: Path, spec_toml: Path
) -> None:
    with pytest.raises(PermissionDenied):
        services.pmt_calibrate(
            acting_user=bandung_operator, survey_path=survey_csv, spec_path=spec_toml
        )


def test_scoring_keeps_a_score_and_both_desil_for_every_household(
    model: PmtModel, households: list[Any], supervisor: Any
) -> None:
    run = services.scoring_run(acting_user=supervisor, model=model)
    assert run.households == 20
    assert run.created_by == supervisor
    scores = HouseholdScore.objects.filter(run=run)
    assert scores.count() == 20
    assert set(scores.values_list("desil_national", flat=True)) == set(range(1, 11))
    assert sum(run.summary["households_per_desil"]) == 20
    bogor = scores.filter(household__village_id=BOGOR_VILLAGE)
    assert sorted(bogor.values_list("desil_regional", flat=True))[0] == 1


def test_better_housing_scores_higher(model: PmtModel, households: list[Any]) -> None:
    run = services.scoring_run(acting_user=None, model=model)
    by_floor: dict[str, list[float]] = {}
    for s in HouseholdScore.objects.filter(run=run).select_related("household"):
        by_floor.setdefault(s.household.floor_material, []).append(s.score)
    mean = {k: sum(v) / len(v) for k, v in by_floor.items()}
    assert mean["earth"] < mean["cement"] < mean["ceramic"]


def test_ranking_by_persons_is_a_setting_of_the_run(model: PmtModel, households: list[Any]) -> None:
    run = services.scoring_run(acting_user=None, model=model, rank_by="persons", regional_level=6)
    assert (run.rank_by, run.regional_level) == ("persons", 6)


def test_a_model_with_a_proxy_the_registry_lacks_refuses_to_score(
    households: list[Any], tmp_path: Path, survey_csv: Path
) -> None:
    from .conftest import SPEC

    # Issue 19 (bug 5): refused at calibration already, naming the proxy, not at scoring.
    (tmp_path / "odd.toml").write_text(SPEC.replace("owns_motorcycle =", "sepeda_motor ="))
    with pytest.raises(ValidationFailed) as exc:
        services.pmt_calibrate(
            acting_user=None, survey_path=survey_csv, spec_path=tmp_path / "odd.toml"
        )
    assert exc.value.field == "proxies.sepeda_motor"
    assert not PmtModel.objects.exists()


def test_a_scenario_with_quotas_is_evaluated_against_the_truth(
    model: PmtModel, households: list[Any], admin_user: Any
) -> None:
    run = services.scoring_run(acting_user=None, model=model)
    for h in households:
        TruthConsumption.objects.create(
            household=h, consumption_pc=500_000 + 100_000 * h.floor_area_m2, source="test"
        )
    rule = services.rule_save(acting_user=admin_user, name="bottom40", expression="desil <= 4")
    scenario = services.scenario_save(
        acting_user=admin_user, name="kuota 4", rule=rule, quota_method="proportional",
        quota_total=4, region_level=4,
    )  # fmt: skip
    ev = services.scenario_evaluate(acting_user=admin_user, scenario=scenario, run=run)
    r = ev.results
    assert r["overall"]["selected"] == 4
    assert sum(r["quotas"].values()) == 4
    assert set(r["by_region"]) == {"3273", "3201"}
    assert set(r["by_head_sex"]) == {"M"}
    assert {"inclusion_error", "exclusion_error", "coverage"} <= set(r["overall"])
    assert r["model_version"] == model.version
    assert ev.created_by == admin_user


def test_without_quotas_every_eligible_household_is_selected(
    model: PmtModel, households: list[Any]
) -> None:
    services.scoring_run(acting_user=None, model=model)
    rule = services.rule_save(acting_user=None, name="r", expression="desil <= 4")
    scenario = services.scenario_save(acting_user=None, name="s", rule=rule)
    ev = services.scenario_evaluate(acting_user=None, scenario=scenario)
    assert ev.results["overall"]["selected"] == ev.results["overall"]["eligible"] == 8
    assert "inclusion_error" not in ev.results["overall"]  # no truth loaded


def test_a_budget_becomes_a_household_count(db: Any) -> None:
    rule = services.rule_save(acting_user=None, name="r", expression="desil <= 4")
    s = services.scenario_save(
        acting_user=None, name="b", rule=rule, quota_method="proportional",
        budget_rupiah=6_000_000, benefit_rupiah=600_000,
    )  # fmt: skip
    assert s.quota_total == 10


def test_fixed_quotas_must_name_regions_at_the_chosen_level(db: Any) -> None:
    rule = services.rule_save(acting_user=None, name="r", expression="desil <= 4")
    with pytest.raises(ValidationFailed) as exc:
        services.scenario_save(
            acting_user=None, name="f", rule=rule, quota_method="fixed", fixed_quotas={"32": 5}
        )
    assert exc.value.field == "fixed_quotas"


def test_a_bad_rule_is_not_saved(db: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.rule_save(acting_user=None, name="r", expression="desil <=")
    assert not selectors.rules_list().exists()


def test_the_explanation_names_the_proxies_that_moved_the_score(
    model: PmtModel, households: list[Any], bandung_operator: Any
) -> None:
    from tepat.targeting.rules import rule_parse

    services.scoring_run(acting_user=None, model=model)
    h = households[0]
    ex = selectors.household_explain(
        user=bandung_operator, public_id=h.public_id, rule=rule_parse("desil <= 10")
    )
    assert ex.effects
    assert abs(ex.effects[0].effect) >= abs(ex.effects[-1].effect)
    assert {e.proxy for e in ex.effects} <= {
        "floor_material",
        "floor_area_m2",
        "owns_motorcycle",
        "household_size",
    }
    assert ex.rule is not None
    assert ex.rule["eligible"]


def test_the_explanation_is_region_scoped(
    model: PmtModel, households: list[Any], bogor_operator: Any
) -> None:
    from tepat.core.errors import NotFound

    services.scoring_run(acting_user=None, model=model)
    with pytest.raises(NotFound):
        selectors.household_explain(user=bogor_operator, public_id=households[0].public_id)


def test_truth_is_loaded_by_no_kk_without_storing_it_in_clear(
    households: list[Any], tmp_path: Path
) -> None:
    path = tmp_path / "truth.csv"
    path.write_text("kk,consumption_pc,poor\n3273011503150001,750000,1\n9999999999999999,1,0\n")
    out = services.truth_load(acting_user=None, path=path)
    assert out == {"matched": 1, "unmatched": 1}
    assert TruthConsumption.objects.get().household == households[0]


def test_integration_flags_reach_eligibility_rules(model: PmtModel, households: list[Any]) -> None:
    import datetime as dt

    from tepat.integration.models import Flag, LinkRun

    services.scoring_run(acting_user=None, model=model)
    rule = services.rule_save(acting_user=None, name="r", expression="desil <= 4")
    plain = services.scenario_evaluate(
        acting_user=None, scenario=services.scenario_save(acting_user=None, name="s", rule=rule)
    )
    eligible = plain.results["overall"]["eligible"]
    link_run = LinkRun.objects.create()
    scores = {s.household_id: s.desil_national for s in HouseholdScore.objects.all()}
    flagged = [h for h in households if scores[h.pk] <= 4][:3]
    assert len(flagged) == 3
    for h in flagged:
        Flag.objects.create(
            kind="civil_servant",
            person=h.members.first(),
            household=h,
            village_code=h.village_id,
            source="asn_payroll",
            as_of=dt.date(2026, 11, 1),
            link_run=link_run,
        )
    strict = services.rule_save(
        acting_user=None, name="r2", expression="desil <= 4 and not flags.civil_servant"
    )
    ev = services.scenario_evaluate(
        acting_user=None, scenario=services.scenario_save(acting_user=None, name="s2", rule=strict)
    )
    assert ev.results["overall"]["eligible"] == eligible - 3
