"""Scoring the registry with any saved PMT: in chunks, never a traceback, and nothing dropped
silently (issue 19, bugs 4-6 at scoring time)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tepat.core.errors import TepatError, ValidationFailed
from tepat.registry.models import Household
from tepat.targeting import services
from tepat.targeting.models import HouseholdScore, PmtModel
from tests.conftest import BOGOR_VILLAGE

from .conftest import SPEC, register_households


@pytest.fixture
def households(regions: None) -> list[Any]:
    return register_households(12) + register_households(8, village=BOGOR_VILLAGE, start=20)


@pytest.fixture
def model(db: Any, survey_csv: Path, spec_toml: Path) -> PmtModel:
    return services.pmt_calibrate(acting_user=None, survey_path=survey_csv, spec_path=spec_toml)


def old_model(*, proxies: list[dict[str, Any]], coef: list[float], **design: Any) -> PmtModel:
    """A model as versions before issue 19 saved it (format 1: LinearPmt's dict, no checks)."""
    parameters = {
        "design": {
            "proxies": proxies,
            "fill": {p["name"]: 1.0 for p in proxies if p["kind"] == "numeric"},
            "levels": design.get("levels", {}),
            "reference": design.get("reference", {}),
            "areas": design.get("areas", []),
            "area_prefix": design.get("area_prefix", 0),
        },
        "intercept": 13.0,
        "coef": coef,
        "centre": {p["name"]: 0.0 for p in proxies},
    }
    return PmtModel.objects.create(
        version=99, name="lama", method="ols", spec={}, parameters=parameters, coefficients={},
        metrics={"cv": {}, "train": {}}, training_summary={},
    )  # fmt: skip


def scores_of(run: Any) -> dict[int, float]:
    return dict(HouseholdScore.objects.filter(run=run).values_list("household_id", "score"))


# --- bug 4 --------------------------------------------------------------------------------------


def test_an_old_model_with_a_numeric_floor_material_is_refused_without_a_traceback(
    households: list[Any],
) -> None:
    m = old_model(
        proxies=[
            {"name": "floor_material", "kind": "numeric", "log": False},
            {"name": "floor_area_m2", "kind": "numeric", "log": True},
        ],
        coef=[0.1, 0.2],
    )
    with pytest.raises(ValidationFailed) as exc:
        services.scoring_run(acting_user=None, model=m)
    assert exc.value.field == "floor_material"
    assert exc.value.problems[0].code == "kind_mismatch"
    assert "categorical" in exc.value.message
    assert not HouseholdScore.objects.exists()


def test_the_score_command_names_the_proxy_instead_of_a_traceback(households: list[Any]) -> None:
    old_model(proxies=[{"name": "floor_material", "kind": "numeric", "log": False}], coef=[0.1])
    with pytest.raises(CommandError, match=r"floor_material.*categorical"):
        call_command("pmt", "score", "--model", "99", "--no-progress")


def test_unreadable_parameters_are_a_clear_error(households: list[Any]) -> None:
    m = old_model(proxies=[{"name": "owns_car", "kind": "numeric", "log": False}], coef=[0.1])
    m.parameters = {"format": 2, "design": {}}
    m.save()
    with pytest.raises(TepatError, match="v99") as exc:
        services.scoring_run(acting_user=None, model=m)
    assert exc.value.field == "model"


# --- bug 5 --------------------------------------------------------------------------------------


def test_registry_codes_the_model_never_saw_are_counted_on_the_run(
    model: PmtModel, households: list[Any]
) -> None:
    wood = [h.pk for h in households[:3]]
    Household.objects.filter(pk__in=wood).update(floor_material="wood")
    Household.objects.filter(pk=households[3].pk).update(floor_material="", floor_area_m2=None)
    run = services.scoring_run(acting_user=None, model=model)
    assert run.households == 20
    assert run.summary["unseen_levels"] == {"floor_material": {"wood": 3, "": 1}}
    assert run.summary["unseen_households"] == {"floor_material": 4}
    assert run.summary["missing_filled"] == {"floor_area_m2": 1}
    codes = {(w["field"], w["code"]): w for w in run.summary["warnings"]}
    assert codes["floor_material", "unseen_levels"]["count"] == 4
    assert "'wood' (3)" in codes["floor_material", "unseen_levels"]["message"]
    assert codes["floor_area_m2", "missing_filled"]["count"] == 1


def test_the_runs_page_shows_what_scoring_could_not_score(
    model: PmtModel, households: list[Any], staff_client: Any, supervisor: Any
) -> None:
    Household.objects.filter(pk=households[0].pk).update(floor_material="bamboo")
    services.scoring_run(acting_user=None, model=model)
    body = staff_client(supervisor).get("/targeting/skoring/").content.decode()
    assert "run-warnings" in body
    assert "&#x27;bamboo&#x27; (1)" in body or "'bamboo' (1)" in body


def test_a_survey_only_model_calibrates_and_then_refuses_to_score_clearly(
    households: list[Any], survey_csv: Path, tmp_path: Path, staff_client: Any, supervisor: Any
) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC + 'kulkas = { column = "MOTOR", kind = "numeric", registry = false }\n')
    m = services.pmt_calibrate(acting_user=None, survey_path=survey_csv, spec_path=spec)
    assert m.parameters["scoring"] is False
    with pytest.raises(ValidationFailed) as exc:
        services.scoring_run(acting_user=None, model=m)
    assert (exc.value.field, exc.value.problems[0].code) == ("model", "not_for_scoring")
    page = staff_client(supervisor).post("/targeting/skoring/", {"model_version": m.version})
    assert "registry = false" in page.content.decode()
    with pytest.raises(CommandError, match="registry = false"):
        call_command("pmt", "score", "--model", str(m.version), "--no-progress")


# --- bug 6 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("effects", ["fixed", "random"])
def test_households_whose_area_has_no_effect_are_counted(
    effects: str, households: list[Any], survey_csv: Path, tmp_path: Path
) -> None:
    # The survey has no household in Cibinong (320101): the 8 Bogor households get no effect.
    # Its districts differ in consumption, so random effects are not all shrunk to 0.
    lines = survey_csv.read_text().splitlines()
    factor = {"327301": 1.0, "320101": 0.6, "327302": 1.5, "320102": 0.6}
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[0] = str(round(float(cells[0]) * factor[cells[2]]))
        cells[2] = cells[2].replace("320101", "320102")
        out.append(",".join(cells))
    survey_csv.write_text("\n".join(out) + "\n")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.replace('method = "ols"', f'method = "ols"\narea_effects = "{effects}"'))
    m = services.pmt_calibrate(acting_user=None, survey_path=survey_csv, spec_path=spec)
    run = services.scoring_run(acting_user=None, model=m)
    areas = run.summary["areas_without_effect"]
    assert (areas["households"], areas["areas"], areas["first"]) == (8, 1, ["320101"])
    assert areas["reference_unnamed"] is False
    assert any(w["code"] == "areas_without_effect" for w in run.summary["warnings"])


def test_an_old_model_whose_area_effects_were_lost_says_so_for_every_household(
    households: list[Any],
) -> None:
    # Survey area codes of two lengths: the old design kept the effects but no prefix (0), so
    # scoring silently applied none of them.
    m = old_model(
        proxies=[{"name": "floor_area_m2", "kind": "numeric", "log": True}],
        coef=[0.2, 0.1, -0.1],
        areas=["327301", "3201011001"],
        area_prefix=0,
    )
    run = services.scoring_run(acting_user=None, model=m)
    areas = run.summary["areas_without_effect"]
    assert (areas["households"], areas["prefix_unknown"]) == (20, True)
    [w] = [w for w in run.summary["warnings"] if w["field"] == "area"]
    assert w["code"] == "area_prefix_unknown"
    assert "area_level" in w["message"]


# --- chunks -------------------------------------------------------------------------------------


def test_scoring_in_chunks_gives_the_same_scores_and_desil_as_one_chunk(
    model: PmtModel, households: list[Any]
) -> None:
    whole = services.scoring_run(acting_user=None, model=model)
    chunked = services.scoring_run(acting_user=None, model=model, chunk=3)
    assert chunked.summary["chunks"] == math.ceil(20 / 3)
    assert whole.summary["chunks"] == 1
    a, b = scores_of(whole), scores_of(chunked)
    assert a.keys() == b.keys() == {h.pk for h in households}
    assert all(a[k] == pytest.approx(b[k], abs=1e-12) for k in a)
    desil = HouseholdScore.objects.values_list("household_id", "desil_national", "desil_regional")
    assert set(desil.filter(run=whole)) == set(desil.filter(run=chunked))


def test_an_empty_registry_scores_nothing_without_failing(model: PmtModel) -> None:
    run = services.scoring_run(acting_user=None, model=model)
    assert (run.households, run.summary["chunks"]) == (0, 0)
    assert run.summary["households_per_desil"] == [0] * 10


def test_a_chunk_must_hold_a_household(model: PmtModel) -> None:
    with pytest.raises(TepatError) as exc:
        services.scoring_run(acting_user=None, model=model, chunk=0)
    assert exc.value.field == "chunk"
