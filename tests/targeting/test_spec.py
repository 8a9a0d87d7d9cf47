"""The calibration spec: strict keys (bug 3), types, consistency, legacy fields, overrides, and
the rule that a spec from the web never names a server file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tepat.core.errors import ValidationFailed
from tepat.targeting.spec import (
    METHODS_FOR,
    SECTIONS,
    Spec,
    filter_parse,
    spec_load,
    spec_parse,
)

from .conftest import SPEC

SYNTH_SPEC = Path(__file__).parents[2] / "src/tepat/targeting/specs/synth_survey.toml"

ORDINAL = """
[survey]
outcome = "Target"
classes = ["1", "2", "3", "4"]
poor_classes = ["1", "2"]

[proxies]
rooms = { column = "rooms", kind = "numeric" }
region = { column = "lugar", kind = "categorical", registry = false }
"""


def problems(text: str, **kwargs: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as exc:
        spec_parse(text, **kwargs)  # type: ignore[arg-type]
    return {p.field: p.message for p in exc.value.problems}


def with_model(extra: str, base: str = SPEC) -> str:
    """The base spec with lines added to its [model] table."""
    return base.replace("[model]\n", f"[model]\n{extra}\n")


def test_the_shipped_and_fixture_specs_parse_with_their_old_meaning() -> None:
    spec, _ = spec_load(SYNTH_SPEC)
    # The shipped spec compares four models and lets `auto` choose; the rest keeps its meaning.
    assert (spec.methods, spec.select) == (["ols", "enet", "gbm", "ensemble"], "auto")
    assert spec.coverage == spec.quota == 0.4
    assert spec.area_effects == "none"
    assert not spec.area_effects
    assert spec.quota_scope == "area"  # an area is given: quotas within it, as before
    assert len(spec.proxies) == 24
    fixture = spec_parse(SPEC)
    assert (fixture.folds, fixture.weight, fixture.area) == (4, "W", "KEC")
    assert fixture.outcome_kind == "continuous"
    assert fixture.poor_share == 0.4


@pytest.mark.parametrize(
    ("text", "field", "hint"),
    [
        (with_model("area_effect = true"), "model.area_effect", "area_effects"),
        (with_model('metod = "quantile"'), "model.metod", "method"),
        (SPEC.replace("kind = \"numeric\" }", "kind = \"numeric\", lgo = true }", 1),
         "proxies.owns_motorcycle.lgo", "log"),
        (SPEC + "\n[modle]\nfolds = 3\n", "modle", "model"),
        (SPEC + "\n[features]\nsquare = [\"owns_motorcycle\"]\n", "features.square", "squares"),
        (SPEC + "\n[target]\nquota_scop = \"area\"\n", "target.quota_scop", "quota_scope"),
        (SPEC.replace('weight = "W"', 'wieght = "W"'), "survey.wieght", "weight"),
        (SPEC + "\n[filters]\nkep = \"ART > 1\"\n", "filters.kep", "keep"),
    ],
)  # fmt: skip
def test_an_unknown_key_is_an_error_naming_it_and_the_allowed_keys(
    text: str, field: str, hint: str
) -> None:
    found = problems(text)
    assert field in found
    message = found[field]
    key = field.rsplit(".", 1)[-1]
    assert f"`{key}`" in message
    assert f"did you mean `{hint}`" in message
    assert "allowed:" in message


def test_a_key_outside_any_section_says_where_it_belongs() -> None:
    found = problems("folds = 3\n" + SPEC)
    assert "[model]" in found["folds"]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("folds = 4", 'folds = "5"'), "model.folds"),
        (("coverage = 0.4", 'coverage = "0.3"'), "model.coverage"),
        (("folds = 4", "folds = 4\nquantile = true"), "model.quantile"),
        (("folds = 4", "folds = 4\nseed = 1.5"), "model.seed"),
        (("folds = 4", 'folds = 4\narea_effects = "yes"'), "model.area_effects"),
        (('method = "ols"', 'methods = "ols"'), "model.methods"),
        (('area = "KEC"', "area = 327301"), "survey.area"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key(edit: tuple[str, str], field: str) -> None:
    found = problems(SPEC.replace(*edit))
    assert set(found) == {field}
    assert f"`{field.rsplit('.', 1)[-1]}`" in found[field]


def test_proxy_values_are_typed() -> None:
    text = SPEC.replace(
        'owns_motorcycle = { column = "MOTOR", kind = "numeric" }',
        'owns_motorcycle = { column = "MOTOR", kind = "numeric", recode = { ya = "1" }, '
        'log = "yes" }\nroof = { column = "ATAP", kind = "categoric" }\nbare = "X"',
    )
    found = problems(text)
    assert "must be a number" in found["proxies.owns_motorcycle.recode.ya"]
    assert "log" in found["proxies.owns_motorcycle.log"]
    assert "did you mean `categorical`" in found["proxies.roof.kind"]
    assert "must be a table" in found["proxies.bare"]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        with_model('metod = "x"\narea_effect = true').replace("folds = 4", "folds = 1")
    )
    assert {"model.folds", "model.metod", "model.area_effect"} <= set(found)


def test_legacy_boolean_area_effects_still_mean_fixed_effects() -> None:
    on = spec_parse(with_model("area_effects = true"))
    off = spec_parse(with_model("area_effects = false"))
    assert on.area_effects == "fixed"
    assert on.area_effects
    assert bool(on.area_effects)
    assert not off.area_effects
    assert off.area_effects == "none"
    assert not off.area_effects
    assert spec_parse(with_model('area_effects = "random"')).area_effects == "random"
    # Stored as plain JSON text.
    assert json.loads(json.dumps(on.as_dict()))["area_effects"] == "fixed"


def test_area_effects_need_an_area_column() -> None:
    text = with_model('area_effects = "random"').replace('area = "KEC"\n', "")
    assert "survey.area" in problems(text)["model.area_effects"]


def test_coverage_is_the_old_name_of_the_quota() -> None:
    assert spec_parse(with_model("coverage = 0.3").replace("coverage = 0.4\n", "")).quota == 0.3
    same = spec_parse(SPEC + "\n[target]\nquota = 0.4\n")
    assert same.quota == same.coverage == 0.4
    found = problems(SPEC + "\n[target]\nquota = 0.3\n")
    assert "0.4" in found["model.coverage"]
    assert "0.3" in found["model.coverage"]


def test_the_quota_defaults_to_the_poor_share() -> None:
    bare = SPEC.replace("coverage = 0.4\n", "")
    assert spec_parse(bare + "\n[target]\npoor_share = 0.25\n").quota == 0.25
    line = spec_parse(bare + "\n[target]\npoverty_line = 450000\n")
    assert (line.poverty_line, line.poor_share, line.quota) == (450000.0, None, 0.4)


def test_a_poverty_line_and_a_poor_share_together_are_an_error() -> None:
    found = problems(SPEC + "\n[target]\npoverty_line = 450000\npoor_share = 0.3\n")
    assert "not both" in found["target.poor_share"]


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (('classes = ["1", "2", "3", "4"]\n', ""), "survey.classes", "poorest first"),
        (('poor_classes = ["1", "2"]', 'poor_classes = ["1", "5"]'), "survey.poor_classes",
         "not among classes"),
        (('poor_classes = ["1", "2"]', 'poor_classes = ["1", "3"]'), "survey.poor_classes",
         "poorest"),
        (('poor_classes = ["1", "2"]\n', ""), "survey.poor_classes", "name the poor classes"),
        (('outcome = "Target"', 'outcome = "Target"\nconsumption = "C"'), "survey.outcome",
         "not both"),
        (('outcome = "Target"', 'outcome = "Target"\noutcome_kind = "binary"'),
         "survey.classes", "2 classes"),
    ],
)  # fmt: skip
def test_class_outcomes_are_consistent(edit: tuple[str, str], field: str, words: str) -> None:
    found = problems(ORDINAL.replace(*edit))
    assert words in found[field]


def test_class_outcomes_get_class_models_by_default() -> None:
    ordinal = spec_parse(ORDINAL)
    assert (ordinal.outcome_kind, ordinal.methods, ordinal.method) == (
        "ordinal",
        ["ordinal"],
        "ordinal",
    )
    assert ordinal.consumption == ""
    assert ordinal.outcome_column == "Target"
    binary = spec_parse(
        ORDINAL.replace('["1", "2", "3", "4"]', '["ya", "tidak"]').replace(
            'poor_classes = ["1", "2"]\n', ""
        )
    )
    assert (binary.outcome_kind, binary.poor_classes, binary.methods) == (
        "binary", ["ya"], ["logit"],
    )  # fmt: skip
    assert binary.poverty_line is None
    # A binary outcome has no order: the poor class may be either.
    either = spec_parse(
        ORDINAL.replace('["1", "2", "3", "4"]', '["0", "1"]').replace(
            'poor_classes = ["1", "2"]', 'poor_classes = ["1"]'
        )
    )
    assert (either.outcome_kind, either.poor_classes) == ("binary", ["1"])
    assert binary.poor_share is None


@pytest.mark.parametrize(
    ("base", "method"),
    [(SPEC, m) for m in ("logit", "ordinal")] + [(ORDINAL, m) for m in ("ols", "quantile", "enet")],
)
def test_a_method_that_does_not_fit_the_outcome_is_an_error(base: str, method: str) -> None:
    if base is SPEC:
        text = SPEC.replace('method = "ols"', f'methods = ["{method}"]')
    else:
        text = base + f'\n[model]\nmethods = ["{method}"]\n'
    found = problems(text)
    assert "does not fit" in found["model.methods"]


def test_methods_for_each_outcome_are_the_documented_ones() -> None:
    assert set(METHODS_FOR["continuous"]) == {"ols", "quantile", "enet", "gbm", "ensemble"}
    assert set(METHODS_FOR["ordinal"]) == {"logit", "ordinal", "gbm", "ensemble"}


def test_select_must_be_auto_or_one_of_the_methods() -> None:
    text = SPEC.replace('method = "ols"', 'methods = ["ols", "gbm"]\nselect = "enet"')
    assert "one of the methods" in problems(text)["model.select"]
    both = SPEC.replace('method = "ols"', 'method = "ols"\nmethods = ["ols", "gbm"]')
    assert "not both" in problems(both)["model.method"]
    many = spec_parse(SPEC.replace('method = "ols"', 'methods = ["ols", "enet", "gbm"]'))
    assert (many.select, many.method) == ("auto", "ols")
    chosen = spec_parse(SPEC.replace('method = "ols"', 'methods = ["ols", "gbm"]\nselect = "gbm"'))
    assert (chosen.select, chosen.method) == ("gbm", "gbm")


def test_features_name_numeric_proxies() -> None:
    text = SPEC + (
        '\n[features]\nsquares = ["owns_motorcycle", "floor_material"]\n'
        'interactions = [["owns_motorcycle", "flor_area_m2"]]\n'
        "splines = { floor_area_m2 = 2 }\n"
    )
    found = problems(text)
    assert "categorical" in found["features.squares"]
    assert "did you mean `floor_area_m2`" in found["features.interactions"]
    assert "3..10" in found["features.splines.floor_area_m2"]
    ok = spec_parse(
        SPEC + '\n[features]\nmissing_indicators = true\nsquares = ["household_size"]\n'
        'interactions = [["household_size", "floor_area_m2"]]\nsplines = { floor_area_m2 = 4 }\n'
    )
    assert ok.missing_indicators
    assert ok.squares == ["household_size"]
    assert ok.interactions == [("household_size", "floor_area_m2")]
    assert ok.splines == {"floor_area_m2": 4}


def test_proxy_recodes_missing_values_and_survey_only_proxies() -> None:
    spec = spec_parse(
        SPEC.replace(
            'owns_motorcycle = { column = "MOTOR", kind = "numeric" }',
            'owns_motorcycle = { column = "MOTOR", recode = { ya = 1, tidak = 0 }, '
            'missing = ["-", 99999], registry = false }',
        )
    )
    x = next(x for x in spec.proxies if x.name == "owns_motorcycle")
    assert (x.kind, x.recode, x.missing, x.registry) == (
        "numeric", {"ya": 1.0, "tidak": 0.0}, ("-", "99999"), False,
    )  # fmt: skip


def test_a_quota_file_is_refused_from_the_web_form(tmp_path: Path) -> None:
    text = SPEC + '\n[target]\nquota_file = "/etc/passwd"\n'
    found = problems(text)
    assert "command line only" in found["target.quota_file"]
    # Nor may an override from a web request smuggle one in.
    found = problems(SPEC, overrides={"quota_file": "/etc/passwd"})
    assert "target.quota_file" in found


def test_a_quota_file_is_read_from_the_spec_folder_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "quotas.csv").write_text("area,quota\n327301,0.3\n", encoding="utf-8")
    (tmp_path / "spec.toml").write_text(SPEC + '\n[target]\nquota_file = "quotas.csv"\n')
    spec, _ = spec_load(tmp_path / "spec.toml")
    assert spec.quota_file == str(tmp_path / "quotas.csv")
    (tmp_path / "gone.toml").write_text(SPEC + '\n[target]\nquota_file = "nope.csv"\n')
    with pytest.raises(ValidationFailed) as exc:
        spec_load(tmp_path / "gone.toml")
    assert exc.value.field == "target.quota_file"
    assert "not found" in exc.value.message


def test_per_area_quotas_need_quota_areas() -> None:
    bare = SPEC.replace('area = "KEC"\n', "")
    found = problems(bare + '\n[target]\nquota_column = "KUOTA"\n')
    assert "quota_scope" in found["target.quota_column"]
    assert (
        "survey.quota_area"
        in problems(bare + '\n[target]\nquota_scope = "area"\n')["target.quota_scope"]
    )


def test_overrides_win_over_the_file_and_clear_what_they_replace() -> None:
    many = SPEC.replace('method = "ols"', 'methods = ["ols", "gbm"]\nselect = "gbm"')
    spec = spec_parse(many, overrides={"method": "quantile", "coverage": 0.3, "folds": None})
    assert (spec.methods, spec.select, spec.method, spec.quota, spec.folds) == (
        ["quantile"], "quantile", "quantile", 0.3, 4,
    )  # fmt: skip
    quota = spec_parse(SPEC + "\n[target]\nquota = 0.4\n", overrides={"coverage": 0.2})
    assert quota.quota == quota.coverage == 0.2
    assert spec_parse(SPEC, overrides={"area_effects": True}).area_effects == "fixed"
    line = spec_parse(SPEC + "\n[target]\npoor_share = 0.3\n", overrides={"poverty_line": 5e5})
    assert (line.poverty_line, line.poor_share) == (5e5, None)
    assert "did you mean" in problems(SPEC, overrides={"metod": "ols"})["metod"]


def test_the_row_filter_is_checked_when_the_spec_is_read() -> None:
    f = filter_parse("JML_ART >= 1 and PROV in ['32', '33'] and not 0 < UMUR <= 15")
    assert f.columns == {"JML_ART": "numeric", "PROV": "text", "UMUR": "numeric"}
    for bad, words in [
        ("__import__('os').system('true')", "comparison"),
        ("JML_ART >= ", "syntax"),
        ("A > B", "not with another column"),
        ("A == 1 or A == 'x'", "both numbers and text"),
        ("A < 'x'", "text compares only"),
        ("A in [1, 'x']", "only numbers or only"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            filter_parse(bad)
        assert exc.value.field == "filters.keep", bad
        assert words in exc.value.message, bad
    found = problems(SPEC + '\n[filters]\nkeep = "ART >="\n')
    assert "syntax" in found["filters.keep"]
    assert spec_parse(SPEC + '\n[filters]\nkeep = "ART >= 1"\n').filters == "ART >= 1"


def test_the_spec_round_trips_as_json() -> None:
    spec = spec_parse(SPEC + '\n[features]\ninteractions = [["household_size", "floor_area_m2"]]\n')
    again = json.loads(json.dumps(spec.as_dict()))
    assert again["methods"] == ["ols"]
    assert again["interactions"] == [["household_size", "floor_area_m2"]]
    assert set(SECTIONS) == {"survey", "target", "model", "features", "proxies", "filters"}
    assert isinstance(spec, Spec)


def test_every_key_of_the_format_is_documented() -> None:
    """docs/targeting.md documents the format in full: a table row per key of every section."""
    from tepat.targeting.spec import PROXY_KEYS

    doc = (Path(__file__).parents[2] / "docs" / "targeting.md").read_text(encoding="utf-8")
    for section, keys in SECTIONS.items():
        assert f"### `[{section}]`" in doc, section
        for key in keys:
            assert f"| `{key}` |" in doc, f"{section}.{key}"
    for key in PROXY_KEYS:
        assert f"| `{key}` |" in doc, f"proxies.*.{key}"
