"""A spec against the registry it will score (issue 19, bugs 4-6): what calibration refuses or
warns about, before fitting anything."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tepat.core.errors import ValidationFailed
from tepat.targeting import compat, services
from tepat.targeting.features import registry_vocabulary
from tepat.targeting.spec import spec_parse

from .conftest import SPEC, write_survey

BASE = """
[survey]
consumption = "KAPITA"
{survey}

[model]
{model}

[proxies]
{proxies}
"""


def spec_of(proxies: str, survey: str = "", model: str = "") -> Any:
    return spec_parse(BASE.format(proxies=proxies, survey=survey, model=model))


def survey_of(n: int = 0, area: list[str] | None = None, **proxies: list[Any]) -> Any:
    n = n or len(next(iter(proxies.values()), area or []))
    return SimpleNamespace(
        proxies={k: np.array(v, dtype=object) for k, v in proxies.items()},
        area=np.array(area if area is not None else [""] * n, dtype=object),
    )


def by_code(problems: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["code"]: p for p in problems}


# --- bug 4: a registry categorical proxy declared numeric --------------------------------------


def test_a_categorical_registry_proxy_declared_numeric_is_refused_naming_the_registry_kind() -> (
    None
):
    spec = spec_of('floor_material = { column = "LANTAI", kind = "numeric" }')
    problems = compat.check_spec_against_registry(spec, survey_of(floor_material=[0.0, 1.0]))
    [p] = problems
    assert (p["level"], p["field"], p["code"]) == (
        "error",
        "proxies.floor_material",
        "kind_mismatch",
    )
    assert "categorical" in p["message"]
    assert 'kind = "categorical"' in p["message"]


def test_a_numeric_registry_proxy_declared_categorical_is_refused() -> None:
    spec = spec_of('owns_car = { column = "MOBIL", kind = "categorical" }')
    [p] = compat.check_spec_against_registry(spec, survey_of(owns_car=["1", "0"]))
    assert p["code"] == "kind_mismatch"
    assert "numeric" in p["message"]


def test_calibration_refuses_a_numeric_floor_material_before_fitting(
    db: Any, tmp_path: Path
) -> None:
    survey = write_survey(tmp_path / "s.csv")
    text = survey.read_text().replace("ceramic", "2").replace("cement", "1").replace("earth", "0")
    survey.write_text(text)
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.replace('kind = "categorical"', 'kind = "numeric"'))
    with pytest.raises(ValidationFailed) as exc:
        services.pmt_calibrate(acting_user=None, survey_path=survey, spec_path=spec)
    assert exc.value.field == "proxies.floor_material"
    assert "categorical" in str(exc.value.problems[0])


# --- bug 5: category codes the registry does not use; proxies it does not have ----------------


def test_survey_codes_the_registry_does_not_use_are_listed_with_counts_and_a_recode_hint() -> None:
    spec = spec_of('floor_material = { column = "LANTAI", kind = "categorical" }')
    values = ["0"] * 5 + ["1"] * 3 + ["ceramic"] * 2
    [p] = compat.check_spec_against_registry(spec, survey_of(floor_material=values))
    assert (p["level"], p["code"], p["count"]) == ("error", "unknown_levels", 8)
    assert "'0' (5)" in p["message"]
    assert "'1' (3)" in p["message"]
    assert "recode" in p["message"]
    assert "'ceramic'" in p["message"]  # the registry's codes are listed to map onto
    assert "'ceramic' (" not in p["message"]  # a code the registry uses is not unmatched


def test_codes_recoded_to_the_registry_vocabulary_pass() -> None:
    spec = spec_of(
        'floor_material = { column = "LANTAI", kind = "categorical", '
        'recode = { "0" = "earth", "1" = "ceramic" } }'
    )
    # survey.py applies the recode: what reaches the check is the registry's vocabulary.
    survey = survey_of(floor_material=["earth", "ceramic", "", "earth"])
    assert compat.check_spec_against_registry(spec, survey) == []


def test_the_registry_vocabulary_comes_from_the_registry_choices() -> None:
    assert set(registry_vocabulary("floor_material")) == {
        "", "ceramic", "tile", "cement", "wood", "bamboo", "earth",
    }  # fmt: skip
    assert "M" in registry_vocabulary("head_sex")
    assert registry_vocabulary("floor_area_m2") == ()


def test_a_proxy_the_registry_lacks_is_an_error_unless_marked_survey_only() -> None:
    spec = spec_of('sepeda_motor = { column = "MOTOR", kind = "numeric" }')
    [p] = compat.check_spec_against_registry(spec, survey_of(sepeda_motor=[1.0]))
    assert (p["level"], p["field"], p["code"]) == ("error", "proxies.sepeda_motor", "unknown_proxy")
    assert "registry = false" in p["message"]
    spec = spec_of('sepeda_motor = { column = "MOTOR", kind = "numeric", registry = false }')
    [p] = compat.check_spec_against_registry(spec, survey_of(sepeda_motor=[1.0]))
    assert (p["level"], p["code"]) == ("warning", "not_in_registry")


def test_calibration_refuses_a_proxy_the_registry_lacks(
    db: Any, survey_csv: Path, tmp_path: Path
) -> None:
    (tmp_path / "odd.toml").write_text(SPEC.replace("owns_motorcycle =", "sepeda_motor ="))
    with pytest.raises(ValidationFailed) as exc:
        services.pmt_calibrate(
            acting_user=None, survey_path=survey_csv, spec_path=tmp_path / "odd.toml"
        )
    assert exc.value.field == "proxies.sepeda_motor"


def test_calibration_lists_unmatched_codes_and_accepts_them_once_recoded(
    db: Any, tmp_path: Path
) -> None:
    survey = write_survey(tmp_path / "s.csv")
    survey.write_text(survey.read_text().replace(",ceramic,", ",1,").replace(",earth,", ",0,"))
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    with pytest.raises(ValidationFailed) as exc:
        services.pmt_calibrate(acting_user=None, survey_path=survey, spec_path=spec)
    assert exc.value.field == "proxies.floor_material"
    assert "recode" in str(exc.value.problems[0])
    assert "'0' (" in str(exc.value.problems[0])
    spec.write_text(
        SPEC.replace(
            '{ column = "LANTAI", kind = "categorical" }',
            '{ column = "LANTAI", kind = "categorical", recode = { "0" = "earth", "1" = "ceramic" } }',
        )
    )
    model = services.pmt_calibrate(acting_user=None, survey_path=survey, spec_path=spec)
    assert "floor_material=earth" in model.coefficients or "floor_material=ceramic" in (
        model.coefficients
    )


# --- bug 6: area codes --------------------------------------------------------------------------


def test_mixed_area_code_lengths_are_an_error_naming_lengths_and_counts() -> None:
    spec = spec_of(
        'floor_area_m2 = { column = "L", kind = "numeric" }',
        survey='area = "DESA"',
        model='area_effects = "fixed"',
    )
    area = ["3273011001"] * 4 + ["327301"] * 2 + ["3201011001"]
    problems = by_code(
        compat.check_spec_against_registry(
            spec, survey_of(area=area, floor_area_m2=[1.0] * 7), region_codes=[]
        )
    )
    p = problems["area_lengths"]
    assert p["level"] == "error"
    assert p["count"] == 7
    assert "6 digit: 2 baris/rows, 1 wilayah/areas" in p["message"]
    assert "10 digit: 5 baris/rows, 2 wilayah/areas" in p["message"]
    assert "area_level" in p["message"]


def test_area_codes_must_be_digits_of_the_area_level() -> None:
    spec = spec_of(
        'floor_area_m2 = { column = "L", kind = "numeric" }',
        survey='area = "KEC"\narea_level = 6',
        model='area_effects = "random"',
    )
    area = ["327301", "32730", "3273011001", "KEC-01", ""]
    problems = by_code(
        compat.check_spec_against_registry(
            spec, survey_of(area=area, floor_area_m2=[1.0] * 5), region_codes=[]
        )
    )
    assert problems["area_not_digits"]["level"] == "error"
    assert "'KEC-01' (1)" in problems["area_not_digits"]["message"]
    assert problems["area_too_short"]["count"] == 1
    assert problems["area_too_long"]["count"] == 1
    assert problems["area_missing"]["level"] == "warning"


def test_one_common_length_is_the_area_level() -> None:
    spec = spec_of(
        'floor_area_m2 = { column = "L", kind = "numeric" }',
        survey='area = "KEC"',
        model='area_effects = "fixed"',
    )
    survey = survey_of(area=["327301", "320101"], floor_area_m2=[1.0, 2.0])
    assert compat.area_level_of(spec, survey.area) == 6
    assert compat.check_spec_against_registry(spec, survey, region_codes=["327301", "320101"]) == []
    [p] = compat.check_spec_against_registry(spec, survey, region_codes=["327301"])
    assert (p["level"], p["code"], p["count"]) == ("warning", "area_not_in_registry", 1)
    assert "'320101' (1)" in p["message"]


def test_area_codes_are_checked_only_with_area_effects() -> None:
    spec = spec_of('floor_area_m2 = { column = "L", kind = "numeric" }', survey='area = "KEC"')
    survey = survey_of(area=["1", "22", "x"], floor_area_m2=[1.0] * 3)
    assert compat.check_spec_against_registry(spec, survey, region_codes=[]) == []


def test_survey_areas_are_looked_up_among_the_registry_regions(regions: None) -> None:
    spec = spec_of(
        'floor_area_m2 = { column = "L", kind = "numeric" }',
        survey='area = "KEC"',
        model='area_effects = "fixed"',
    )
    survey = survey_of(area=["327301", "327301", "329999"], floor_area_m2=[1.0] * 3)
    [p] = compat.check_spec_against_registry(spec, survey)
    assert p["code"] == "area_not_in_registry"
    assert p["count"] == 1
    assert "'329999' (1)" in p["message"]


def test_require_compatible_raises_every_error_at_once_and_returns_the_warnings() -> None:
    spec = spec_of(
        'floor_material = { column = "LANTAI", kind = "numeric" }\n'
        'sepeda = { column = "S", kind = "numeric" }\n'
        'kulkas = { column = "K", kind = "numeric", registry = false }'
    )
    survey = survey_of(floor_material=[1.0], sepeda=[1.0], kulkas=[0.0])
    with pytest.raises(ValidationFailed) as exc:
        compat.require_compatible(spec, survey)
    assert [p.field for p in exc.value.problems] == ["proxies.floor_material", "proxies.sepeda"]
    ok = spec_of('kulkas = { column = "K", kind = "numeric", registry = false }')
    [w] = compat.require_compatible(ok, survey_of(kulkas=[0.0]))
    assert w["code"] == "not_in_registry"


# --- before scoring: a saved model against the registry ----------------------------------------


def model_of(*proxies: tuple[str, str], scoring: bool = True) -> Any:
    design = SimpleNamespace(proxies=[SimpleNamespace(name=n, kind=k) for n, k in proxies])
    return SimpleNamespace(design=design, scoring=scoring)


def test_a_saved_model_is_checked_proxy_by_proxy() -> None:
    model = model_of(("floor_material", "numeric"), ("sepeda", "numeric"), ("owns_car", "numeric"))
    problems = compat.check_model_against_registry(model)
    assert [(p["field"], p["code"]) for p in problems] == [
        ("floor_material", "kind_mismatch"),
        ("sepeda", "unknown_proxy"),
    ]
    assert "recalibrate" in problems[0]["message"]


def test_a_survey_only_model_is_not_for_scoring() -> None:
    [p] = compat.check_model_against_registry(model_of(("owns_car", "numeric"), scoring=False))
    assert (p["field"], p["code"]) == ("model", "not_for_scoring")
    assert "registry = false" in p["message"]
