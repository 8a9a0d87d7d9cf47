"""The design matrix: transforms, missing indicators, categorical levels, areas, saved designs."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tepat.core.errors import ValidationFailed
from tepat.targeting import design as ds
from tepat.targeting.evaluation import weighted_quantile
from tepat.targeting.spec import Proxy

AGE = Proxy("head_age", "UMUR", "numeric")
AREA_M2 = Proxy("floor_area_m2", "LUAS", "numeric", log=True)
SIZE = Proxy("household_size", "ART", "numeric")
FLOOR = Proxy("floor_material", "LANTAI", "categorical")


def raw_data(n: int = 200, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "head_age": rng.integers(18, 90, n).astype(float),
        "floor_area_m2": rng.integers(10, 200, n).astype(float),
        "household_size": rng.integers(1, 9, n).astype(float),
        "floor_material": np.array(["ceramic", "cement", "earth"], dtype=object)[
            rng.integers(0, 3, n)
        ],
    }


def roundtrip(d: ds.Design) -> ds.Design:
    return ds.Design.from_dict(json.loads(json.dumps(d.as_dict(), allow_nan=False)))


# --- the old call and the old saved format ----------------------------------------------------


def test_the_old_positional_call_gives_the_old_columns() -> None:
    raw = raw_data()
    area = np.array(["3201", "3202", "3203", "3201"] * 50)
    d = ds.design_fit([AREA_M2, FLOOR], raw, np.ones(200), area, area_effects=True)
    assert d.names == [
        "floor_area_m2",
        *[f"floor_material={lv}" for lv in d.levels["floor_material"]],
        "area=3202",
        "area=3203",
    ]
    assert d.area_reference == "3201"
    assert d.area_prefix == 4
    X = ds.design_matrix(d, raw, area)
    assert np.allclose(X[:, 0], np.log1p(raw["floor_area_m2"]))
    assert (X[:, -2] == (area == "3202")).all()


def test_a_design_saved_in_the_old_format_still_reads_and_scores() -> None:
    old = {
        "proxies": [
            {"name": "floor_area_m2", "kind": "numeric", "log": True},
            {"name": "floor_material", "kind": "categorical", "log": False},
        ],
        "fill": {"floor_area_m2": 3.5},
        "levels": {"floor_material": ["ceramic", "earth"]},
        "reference": {"floor_material": "cement"},
        "areas": ["3202"],
        "area_prefix": 4,
    }
    d = ds.Design.from_dict(old)
    assert d.names == [
        "floor_area_m2",
        "floor_material=ceramic",
        "floor_material=earth",
        "area=3202",
    ]
    assert d.missing == []
    assert d.splines == {}
    assert d.folded == {}
    raw = {
        "floor_area_m2": np.array([np.nan, 9.0]),
        "floor_material": np.array(["earth", "cement"], dtype=object),
    }
    X = ds.design_matrix(d, raw, np.array(["3202", "3201"]))
    assert X.tolist() == [[3.5, 0, 1, 1], [np.log1p(9.0), 0, 0, 0]]


def test_a_full_design_survives_json() -> None:
    raw = raw_data()
    raw["head_age"][:7] = np.nan
    d = ds.design_fit(
        [AGE, AREA_M2, SIZE, FLOOR],
        raw,
        np.ones(200),
        np.array(["32"] * 200),
        missing_indicators=True,
        squares=["household_size"],
        interactions=[("household_size", "floor_area_m2")],
        splines={"head_age": 4},
    )
    again = roundtrip(d)
    assert again == d
    assert np.array_equal(ds.design_matrix(again, raw, None), ds.design_matrix(d, raw, None))


def test_a_spec_supplies_the_features() -> None:
    raw = raw_data()
    spec = SimpleNamespace(
        proxies=[AGE, SIZE, FLOOR],
        area_effects="random",  # random effects are the estimator's: no area columns here
        area_level=0,
        missing_indicators=False,
        squares=["head_age"],
        interactions=[],
        splines={"household_size": 3},
    )
    area = np.array(["3201", "3202"] * 100)
    d = ds.design_fit(spec, raw, np.ones(200), area)
    assert d.squares == ["head_age"]
    assert list(d.splines) == ["household_size"]
    assert d.areas == []
    assert ds.design_fit(spec, raw, np.ones(200), area, squares=[]).squares == []


# --- transforms -------------------------------------------------------------------------------


def test_squares_are_centred_at_the_training_median() -> None:
    raw = raw_data()
    d = ds.design_fit([AGE], raw, np.ones(200), None, squares=["head_age"])
    X = ds.design_matrix(d, raw, None)
    med = float(np.median(raw["head_age"]))
    assert d.names == ["head_age", "head_age^2"]
    assert np.allclose(X[:, 1], (raw["head_age"] - med) ** 2)


def test_a_square_of_a_yes_no_proxy_is_left_out_with_a_warning() -> None:
    raw = {"owns_car": np.array([0.0, 1.0] * 50)}
    d = ds.design_fit(
        [Proxy("owns_car", "MOBIL", "numeric")], raw, np.ones(100), None, squares=["owns_car"]
    )
    assert d.squares == []
    assert d.names == ["owns_car"]
    assert [w["code"] for w in d.warnings] == ["too_few_values"]


def test_interactions_multiply_the_centred_proxies() -> None:
    raw = raw_data()
    d = ds.design_fit(
        [AREA_M2, SIZE], raw, np.ones(200), None, interactions=[("household_size", "floor_area_m2")]
    )
    X = ds.design_matrix(d, raw, None)
    a = np.log1p(raw["floor_area_m2"])
    expected = (raw["household_size"] - np.median(raw["household_size"])) * (a - np.median(a))
    assert d.names[-1] == "household_size*floor_area_m2"
    assert np.allclose(X[:, -1], expected)
    assert d.column_groups()["household_size*floor_area_m2"] == [2]


@pytest.mark.parametrize(
    ("features", "field"),
    [
        ({"squares": ["floor_material"]}, "features.squares"),
        ({"squares": ["nope"]}, "features.squares"),
        ({"interactions": [("head_age", "floor_material")]}, "features.interactions"),
        ({"interactions": [("head_age", "head_age")]}, "features.interactions"),
        ({"splines": {"head_age": 2}}, "features.splines"),
        ({"splines": {"floor_material": 4}}, "features.splines"),
    ],
)
def test_features_must_name_numeric_proxies(features: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        ds.design_fit([AGE, FLOOR], raw_data(), np.ones(200), None, **features)
    assert exc.value.field == field


def test_spline_knots_sit_at_weighted_quantiles_of_the_training_data() -> None:
    raw = raw_data(500)
    w = np.random.default_rng(2).uniform(0.5, 3, 500)
    d = ds.design_fit([AGE], raw, w, None, splines={"head_age": 4})
    expected = [weighted_quantile(raw["head_age"], w, q) for q in (0.05, 0.35, 0.65, 0.95)]
    assert d.splines["head_age"] == expected
    assert d.names == ["head_age", "head_age:spline1", "head_age:spline2"]


def test_the_spline_spans_the_natural_cubic_splines_through_its_knots() -> None:
    # Any natural cubic spline with these knots (scipy's, through arbitrary values) is a linear
    # combination of 1, x and the spline columns: a regression on them reproduces it exactly.
    from scipy.interpolate import CubicSpline

    raw = {"head_age": np.linspace(10, 100, 400)}
    d = ds.design_fit([AGE], raw, np.ones(400), None, splines={"head_age": 5})
    knots = d.splines["head_age"]
    natural = CubicSpline(knots, [3.0, -1.0, 2.0, 0.5, 4.0], bc_type="natural")
    inside = (raw["head_age"] >= knots[0]) & (raw["head_age"] <= knots[-1])
    X = np.column_stack([np.ones(400), ds.design_matrix(d, raw, None)])[inside]
    target = natural(raw["head_age"][inside])
    beta, *_ = np.linalg.lstsq(X, target, rcond=None)
    assert np.abs(X @ beta - target).max() < 1e-8


def test_the_spline_is_linear_beyond_the_outer_knots() -> None:
    raw = {"head_age": np.linspace(0, 200, 2001)}
    d = ds.design_fit(
        [AGE], {"head_age": np.linspace(20, 80, 300)}, np.ones(300), None, splines={"head_age": 4}
    )
    basis = ds.design_matrix(d, raw, None)[:, 1:]
    lo, hi = d.splines["head_age"][0], d.splines["head_age"][-1]
    assert np.all(basis[raw["head_age"] <= lo] == 0)
    beyond = basis[raw["head_age"] > hi + 1]
    assert np.allclose(np.diff(beyond, n=2, axis=0), 0, atol=1e-9)


def test_a_spline_on_a_proxy_with_few_values_is_left_out_with_a_warning() -> None:
    raw = {"household_size": np.array([1.0, 2.0] * 50)}
    d = ds.design_fit([SIZE], raw, np.ones(100), None, splines={"household_size": 4})
    assert d.splines == {}
    assert d.names == ["household_size"]
    assert d.warnings[0]["field"] == "features.splines"


# --- missing values ---------------------------------------------------------------------------


def test_missing_indicators_only_for_proxies_missing_in_training_with_counts() -> None:
    raw = raw_data()
    raw["head_age"][:12] = np.nan
    d = ds.design_fit([AGE, SIZE], raw, np.ones(200), None, missing_indicators=True)
    assert d.missing == ["head_age"]
    assert d.missing_count == {"head_age": 12}
    assert d.names == ["head_age", "head_age:missing", "household_size"]
    X = ds.design_matrix(d, raw, None)
    assert X[:, 1].sum() == 12
    assert (X[:12, 0] == d.fill["head_age"]).all()
    assert d.fill["head_age"] == np.median(raw["head_age"][12:])
    assert [(w["code"], w["count"]) for w in d.warnings] == [("missing_indicator", 12)]


def test_missing_values_without_indicators_are_filled_and_warned_about() -> None:
    raw = raw_data()
    raw["head_age"][:5] = np.nan
    d = ds.design_fit([AGE], raw, np.ones(200), None)
    assert d.missing == []
    assert d.missing_count == {"head_age": 5}
    assert d.warnings[0]["code"] == "missing_filled"
    assert d.warnings[0]["count"] == 5


def test_a_proxy_missing_everywhere_is_warned_about() -> None:
    d = ds.design_fit(
        [AGE], {"head_age": np.full(30, np.nan)}, np.ones(30), None, missing_indicators=True
    )
    assert d.fill["head_age"] == 0.0
    assert d.warnings[0]["code"] == "all_missing"


# --- categorical levels -----------------------------------------------------------------------


def test_long_labels_are_kept_whole_and_stay_distinct() -> None:
    a = "Lantai keramik dengan lapisan semen di bagian dapur"
    b = "Lantai keramik dengan lapisan semen di bagian teras"
    assert a[:32] == b[:32]
    raw = {"floor_material": np.array([a, b, "tanah"] * 40, dtype=object)}
    d = ds.design_fit([FLOOR], raw, np.ones(120), None)
    X = ds.design_matrix(d, raw, None)
    assert {d.reference["floor_material"], *d.levels["floor_material"]} == {a, b, "tanah"}
    assert X.sum(axis=0).tolist() == [40.0, 40.0]


def test_rare_levels_are_folded_into_the_reference_and_listed_with_counts() -> None:
    # below 0.2 % of the weight: 3 and 1 of 2000 rows
    labels = ["cement"] * 1200 + ["ceramic"] * 796 + ["bamboo"] * 3 + ["wood"]
    raw = {"floor_material": np.array(labels, dtype=object)}
    d = ds.design_fit([FLOOR], raw, np.ones(2000), None)
    assert d.reference["floor_material"] == "cement"
    assert d.levels["floor_material"] == ["ceramic"]
    assert d.folded == {"floor_material": {"bamboo": 3, "wood": 1}}
    assert d.warnings[0]["code"] == "rare_levels_folded"
    assert d.warnings[0]["count"] == 4
    assert "bamboo (3)" in d.warnings[0]["message"]


def test_missing_categorical_values_are_the_empty_level() -> None:
    raw = {"floor_material": np.array(["earth", None, "", "cement"] * 30, dtype=object)}
    d = ds.design_fit([FLOOR], raw, np.ones(120), None)
    X = ds.design_matrix(d, raw, None)
    col = dict(zip(d.names, X.T, strict=True))
    if "floor_material=" in col:
        assert col["floor_material="].sum() == 60
    else:
        assert d.reference["floor_material"] == ""


def test_unseen_levels_are_counted_and_folded_ones_are_not() -> None:
    labels = ["cement"] * 600 + ["ceramic"] * 399 + ["wood"]
    d = ds.design_fit(
        [FLOOR, AGE],
        {"floor_material": np.array(labels, dtype=object), "head_age": np.ones(1000)},
        np.ones(1000),
        None,
    )
    scoring = {
        "floor_material": np.array(["ceramic", "wood", "marmer", "marmer", "0"], dtype=object),
        "head_age": np.ones(5),
    }
    assert ds.unseen_levels(d, scoring) == {"floor_material": {"0": 1, "marmer": 2}}
    X = ds.design_matrix(d, scoring, None)
    assert X[:, 0].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]  # unseen and folded: the reference


# --- areas ------------------------------------------------------------------------------------


def test_the_area_level_sets_the_prefix_and_mixed_lengths_without_it_are_warned() -> None:
    raw = {"head_age": np.arange(6.0)}
    area = np.array(["320101", "3201011001", "320102"] * 2)
    d = ds.design_fit([AGE], raw, np.ones(6), area, area_effects="fixed")
    assert d.area_prefix == 0
    assert d.warnings[0]["code"] == "area_lengths_differ"
    d = ds.design_fit([AGE], raw, np.ones(6), area, area_effects="fixed", area_level=6)
    assert d.area_prefix == 6
    assert d.warnings == []


def test_an_area_code_longer_than_sixteen_characters_is_kept_whole() -> None:
    long_a, long_b = "3201011001-RT001-RW002", "3201011001-RT001-RW003"
    area = np.array([long_a, long_b, long_b] * 10, dtype=object)
    d = ds.design_fit([AGE], {"head_age": np.arange(30.0)}, np.ones(30), area, area_effects=True)
    assert d.areas == [long_a]
    X = ds.design_matrix(d, {"head_age": np.arange(30.0)}, area)
    assert X[:, -1].sum() == 10


def test_column_groups_cover_every_column_once() -> None:
    raw = raw_data()
    d = ds.design_fit(
        [AGE, SIZE, FLOOR],
        raw,
        np.ones(200),
        np.array(["a", "b"] * 100),
        area_effects=True,
        squares=["head_age"],
        splines={"household_size": 3},
        interactions=[("head_age", "household_size")],
    )
    groups = d.column_groups()
    assert sorted(j for cols in groups.values() for j in cols) == list(range(len(d.names)))
    assert [d.names[j] for j in groups["head_age"]] == ["head_age", "head_age^2"]
    assert [d.names[j] for j in groups["area"]] == ["area=b"]


@pytest.mark.slow
def test_a_million_rows_by_eighty_columns_build_in_seconds() -> None:
    n = 1_000_000
    rng = np.random.default_rng(0)
    proxies, raw = [], {}
    for i in range(20):
        proxies.append(Proxy(f"num{i}", f"N{i}", "numeric", log=i % 2 == 0))
        raw[f"num{i}"] = rng.uniform(0, 100, n)
    for i in range(10):
        proxies.append(Proxy(f"cat{i}", f"C{i}", "categorical"))
        raw[f"cat{i}"] = np.array([f"level {k}" for k in range(6)], dtype=object)[
            rng.integers(0, 6, n)
        ]
    sample = {k: v[:20_000] for k, v in raw.items()}
    d = ds.design_fit(
        proxies,
        sample,
        np.ones(20_000),
        None,
        squares=["num1", "num3"],
        splines={"num5": 5},
        interactions=[("num1", "num2")],
    )
    start = time.perf_counter()
    X = ds.design_matrix(d, raw, None)
    took = time.perf_counter() - start
    assert X.shape == (n, len(d.names))
    assert len(d.names) >= 75
    assert took < 15, took
