"""Targeting metrics: the poor target, quotas, selection, the errors, folds and their spread."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tepat.core.errors import ValidationFailed
from tepat.targeting import evaluation as ev
from tepat.targeting.spec import Spec


def survey(**kw: Any) -> SimpleNamespace:
    """The parts of a Survey the metrics read."""
    n = len(kw["y"])
    base: dict[str, Any] = {
        "weight": np.ones(n),
        "area": np.full(n, "", dtype=object),
        "quota_group": np.full(n, "", dtype=object),
        "quota_share": None,
    }
    base.update(kw)
    if "poor" not in base:
        base["poor"] = ev.poor_from_share(base["y"], base["weight"], 0.4)
    return SimpleNamespace(**base)


def spec(**kw: Any) -> Spec:
    return Spec(consumption="KAPITA", proxies=[], **kw)


def json_safe(m: dict[str, Any]) -> str:
    return json.dumps(m, allow_nan=False)


# --- bug 1: a NaN metric made calibration crash on saving -------------------------------------


def test_metrics_stay_json_safe_when_ties_put_every_row_in_the_bottom_forty_percent() -> None:
    # A binary outcome where only 30 % hold the lower value: the old rule `y <= quantile(0.4)`
    # made every row the target, the AUC NaN, and the JSON CHECK constraint refused the model.
    y = np.array([0.0] * 30 + [1.0] * 70)
    pred = np.linspace(0, 1, 100)
    m = ev.metrics(y, pred, np.ones(100), None, 0.4)
    json_safe(m)
    assert m["auc_bottom40"] is not None
    assert m["poor_share"] == pytest.approx(0.3)


def test_metrics_of_an_outcome_without_variation_are_none_with_a_reason_not_nan() -> None:
    y = np.full(50, 2.0)  # every household in one class: no target contrast, no R²
    notes: dict[str, str] = {}
    m = ev.metrics(y, np.zeros(50), np.ones(50), None, 0.4, notes=notes)
    json_safe(m)
    assert m["r2"] is None
    assert m["auc_bottom40"] is None
    assert "r2" in notes
    assert "auc_bottom40" in notes


def test_metrics_with_missing_predictions_are_none_not_nan() -> None:
    y = np.arange(20, dtype=float)
    pred = y.copy()
    pred[3] = np.nan
    m = ev.metrics(y, pred, np.ones(20), None, 0.4)
    json_safe(m)
    assert m["r2"] is None
    assert m["auc_bottom40"] is None
    assert m["coverage"] == pytest.approx(0.4)  # the missing score is simply never selected


def test_ordinal_metrics_on_a_survey_report_auc_but_no_r2() -> None:
    # 4 classes, 45 % in the poorest: the target is that class, the index is the class itself.
    y = np.array([0.0] * 45 + [1.0] * 25 + [2.0] * 20 + [3.0] * 10)
    s = survey(y=y, poor=y == 0)
    m = ev.metrics(s, y, spec(outcome_kind="ordinal", quota=0.4))
    json_safe(m)
    assert m["r2"] is None
    assert m["auc"] == pytest.approx(1.0)
    assert m["poor_share"] == pytest.approx(0.45)


def test_auc_is_none_when_every_household_is_poor() -> None:
    s = survey(y=np.arange(10.0), poor=np.ones(10, dtype=bool))
    notes: dict[str, str] = {}
    m = ev.metrics(s, np.arange(10.0), spec(), notes=notes)
    json_safe(m)
    assert m["auc"] is None
    assert m["inclusion_error"] is None
    assert "poor" in notes["auc"]


# --- who is poor -----------------------------------------------------------------------------


def test_a_tied_bottom_class_is_wholly_poor_when_that_is_nearer_the_share() -> None:
    y = np.array([0.0] * 45 + [1.0] * 55)
    assert ev.poor_from_share(y, np.ones(100), 0.4).sum() == 45


def test_a_tied_block_past_the_share_midpoint_is_not_poor() -> None:
    y = np.array([0.0] * 10 + [1.0] * 90)
    assert ev.poor_from_share(y, np.ones(100), 0.4).sum() == 10
    assert ev.poor_from_share(np.ones(100), np.ones(100), 0.4).sum() == 0


def test_without_ties_the_poor_are_exactly_who_select_lowest_picks() -> None:
    rng = np.random.default_rng(3)
    y, w = rng.normal(size=500), rng.uniform(0.5, 2, 500)
    assert (ev.poor_from_share(y, w, 0.4) == ev.select_lowest(y, w, 0.4)).all()


def test_a_person_weighted_share_counts_people_not_households() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    size = np.array([6.0, 1.0, 1.0, 1.0, 1.0])  # 10 persons; the poorest household holds 6
    assert ev.poor_from_share(y, np.ones(5), 0.4).tolist() == [True, True, False, False, False]
    assert ev.poor_from_share(y, np.ones(5), 0.4, person_weight=size).tolist() == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_the_poverty_line_includes_consumption_at_the_line() -> None:
    c = np.array([300_000.0, 450_000.0, 450_001.0, np.nan])
    assert ev.poor_from_line(c, 450_000).tolist() == [True, True, False, False]
    with pytest.raises(ValueError, match="positive amount"):
        ev.poor_from_line(c, 0)


# --- the errors, by hand ----------------------------------------------------------------------


def test_targeting_errors_on_ten_households_computed_by_hand() -> None:
    #            rows: 0     1     2     3      4      5      6      7      8      9
    poor = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    selected = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    weight = np.array([1, 2, 1, 1, 2, 1, 1, 1, 1, 1], dtype=float)
    e = ev.targeting_errors(selected, poor, weight)
    # total 12; poor 5 (rows 0-3); non-poor 7; selected 5 (rows 0, 1, 4)
    # selected non-poor: row 4 (2); missed poor: rows 2, 3 (2)
    assert e["coverage"] == pytest.approx(5 / 12)
    assert e["poor_share"] == pytest.approx(5 / 12)
    assert e["mistargeting"] == pytest.approx((2 + 2) / 12)
    assert e["inclusion_error"] == pytest.approx(2 / 7)  # of the non-poor, selected
    assert e["exclusion_error"] == pytest.approx(2 / 5)  # of the poor, missed
    assert e["undercoverage"] == e["exclusion_error"]
    assert e["leakage"] == pytest.approx(2 / 5)  # of the selected, non-poor


def test_targeting_errors_are_none_where_the_denominator_is_empty() -> None:
    e = ev.targeting_errors(np.zeros(4, dtype=bool), np.zeros(4, dtype=bool), np.ones(4))
    assert e["exclusion_error"] is None
    assert e["leakage"] is None
    assert e["inclusion_error"] == 0.0
    assert e["mistargeting"] == 0.0


def test_auc_counts_pairs_where_the_poor_household_scores_lower() -> None:
    score = np.array([1.0, 2.0, 3.0, 4.0])
    poor = np.array([True, False, True, False])
    # pairs (poor, non-poor): (1,2) (1,4) (3,4) ordered right, (3,2) wrong
    assert ev.auc(score, poor, np.ones(4)) == pytest.approx(3 / 4)
    assert ev.auc(score, np.zeros(4, dtype=bool), np.ones(4)) is None


def test_r2_is_none_for_a_constant_outcome() -> None:
    assert ev.r2(np.ones(5), np.arange(5.0), np.ones(5)) is None
    assert ev.r2(np.arange(5.0), np.arange(5.0), np.ones(5)) == pytest.approx(1.0)


# --- quotas -----------------------------------------------------------------------------------


def test_a_national_quota_selects_the_lowest_across_areas() -> None:
    score = np.array([1, 2, 3, 4, 5, 10, 20, 30, 40, 50], dtype=float)
    s = survey(y=score, quota_group=np.array(["a"] * 5 + ["b"] * 5, dtype=object))
    m = ev.metrics(s, score, spec(quota=0.4, quota_scope="national"))
    assert m["coverage"] == pytest.approx(0.4)
    assert ev.quota_groups(spec(quota_scope="national"), s) is None
    chosen = ev.select_lowest(score, np.ones(10), 0.4)
    assert chosen.tolist() == [True] * 4 + [False] * 6


def test_a_quota_within_areas_selects_each_areas_share() -> None:
    score = np.array([1, 2, 3, 4, 5, 10, 20, 30, 40, 50], dtype=float)
    group = np.array(["a"] * 5 + ["b"] * 5, dtype=object)
    s = survey(y=score, quota_group=group)
    sp = spec(quota=0.4, quota_scope="area")
    assert ev.quota_groups(sp, s) is group
    chosen = ev.select_lowest(score, np.ones(10), ev.quota_shares(sp, s), ev.quota_groups(sp, s))
    assert chosen.tolist() == [True, True] + [False] * 3 + [True, True] + [False] * 3


def test_a_per_row_share_gives_each_area_its_own_quota() -> None:
    score = np.arange(10, dtype=float)
    group = np.array(["a"] * 5 + ["b"] * 5)
    share = np.array([0.2] * 5 + [0.6] * 5)
    chosen = ev.select_lowest(score, np.ones(10), share, group)
    assert chosen.tolist() == [True] + [False] * 4 + [True] * 3 + [False] * 2


def test_a_quota_column_is_used_per_row_and_a_varying_one_is_warned_about() -> None:
    group = np.array(["a"] * 5 + ["b"] * 5, dtype=object)
    column = np.array([0.2] * 5 + [0.6] * 4 + [0.8])
    s = survey(y=np.arange(10.0), quota_group=group, quota_share=column)
    warnings: list[dict[str, Any]] = []
    shares = ev.quota_shares(spec(quota_column="KUOTA"), s, warnings=warnings)
    assert shares.tolist() == column.tolist()
    assert [w["code"] for w in warnings] == ["quota_varies_in_area"]
    assert warnings[0]["count"] == 1


def test_a_quota_column_outside_zero_to_one_is_an_error_naming_the_rows() -> None:
    s = survey(y=np.arange(4.0), quota_share=np.array([0.3, np.nan, 1.5, 0.3]))
    with pytest.raises(ValidationFailed) as exc:
        ev.quota_shares(spec(quota_column="KUOTA"), s)
    assert "2 rows" in str(exc.value)
    assert "2, 3" in str(exc.value)


def test_a_quota_table_sets_each_areas_share_and_names_areas_without_one() -> None:
    group = np.array(["3201"] * 3 + ["3202"] * 3, dtype=object)
    s = survey(y=np.arange(6.0), quota_group=group)
    warnings: list[dict[str, Any]] = []
    table = {"3201": 0.1, "3202": 0.5, "3299": 0.3}
    shares = ev.quota_shares(spec(), s, table, warnings=warnings)
    assert shares.tolist() == [0.1] * 3 + [0.5] * 3
    assert warnings[0]["code"] == "quota_area_not_in_survey"
    assert "3299" in warnings[0]["message"]
    with pytest.raises(ValidationFailed) as exc:
        ev.quota_shares(spec(), s, {"3201": 0.1})
    assert "3202" in str(exc.value)
    assert "3 rows" in str(exc.value)


def test_a_quota_table_needs_quota_areas() -> None:
    with pytest.raises(ValidationFailed, match="quota area"):
        ev.quota_shares(spec(), survey(y=np.arange(4.0)), {"a": 0.3})


def test_quota_file_of_shares_keeps_area_codes_as_text(tmp_path: Path) -> None:
    f = tmp_path / "kuota.csv"
    f.write_text("area,quota\n0101,0.25\n0102,0.4\n", encoding="utf-8")
    assert ev.quota_table_read(f) == {"0101": 0.25, "0102": 0.4}


def test_quota_file_of_counts_is_converted_with_the_households_column(tmp_path: Path) -> None:
    f = tmp_path / "kuota.csv"
    f.write_text("area,quota,households\n3201011001,30,120\n3201011002,0,50\n", encoding="utf-8")
    assert ev.quota_table_read(f) == {"3201011001": 0.25, "3201011002": 0.0}


def test_quota_file_from_an_indonesian_spreadsheet_uses_semicolons_and_decimal_commas(
    tmp_path: Path,
) -> None:
    f = tmp_path / "kuota.csv"
    f.write_text("\ufeffarea;quota\r\n3201;0,25\r\n3202;0,4\r\n", encoding="utf-8")
    assert ev.quota_table_read(f) == {"3201": 0.25, "3202": 0.4}
    f.write_text('area,quota\n3201,"0,25"\n', encoding="utf-8")
    with pytest.raises(ValidationFailed, match="not a number"):
        ev.quota_table_read(f)  # a comma-separated file has decimal points


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("area,quota,extra\na,0.2,1\n", "unknown columns ['extra']"),
        ("area\na\n", "`quota`"),
        ("area,quota\na,0.2\na,0.3\n", "duplicate area (row 2)"),
        ("area,quota\na,30\n", "for a count add a `households` column"),
        ("area,quota\na,banyak\n", "row 2, quota: kuota bukan angka"),
        ("area,quota,households\na,30,20\n", "quota above the households"),
        ("area,quota,households\na,3,\n", "households not a number"),
        ("area,quota\n,0.2\n", "empty area code"),
        ("area,quota\n", "no rows"),
    ],
)
def test_quota_file_problems_are_errors_naming_the_row(
    tmp_path: Path, text: str, expected: str
) -> None:
    f = tmp_path / "kuota.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        ev.quota_table_read(f)
    assert expected in str(exc.value)


def test_quota_file_reports_every_bad_row_at_once(tmp_path: Path) -> None:
    f = tmp_path / "kuota.csv"
    f.write_text("area,quota\na,2\nb,x\nc,0.3\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        ev.quota_table_read(f)
    assert [p.row for p in exc.value.problems] == [2, 3]


def test_metrics_at_a_quota_file_apply_it_within_quota_areas() -> None:
    score = np.arange(10, dtype=float)
    group = np.array(["a"] * 5 + ["b"] * 5, dtype=object)
    s = survey(y=score, quota_group=group, poor=np.array([1] * 5 + [0] * 5, dtype=bool))
    m = ev.metrics(s, score, spec(quota_scope="national"), quota_table={"a": 0.2, "b": 0.6})
    # a selects row 0, b rows 5-7: 4 of 10; poor missed: rows 1-4 of 5
    assert m["coverage"] == pytest.approx(0.4)
    assert m["exclusion_error"] == pytest.approx(0.8)
    assert m["leakage"] == pytest.approx(0.75)


# --- folds and their spread -------------------------------------------------------------------


def test_folds_with_fewer_areas_than_folds_say_they_are_not_grouped() -> None:
    # Bug 8: with 3 areas and 5 folds the rows were split at random while the model recorded
    # grouped_by_area True.
    area = np.array(["a", "b", "c"] * 20)
    fold, grouped = ev.folds_for(60, 5, area, seed=1)
    assert grouped is False
    assert len(np.unique(fold)) == 5
    warning = ev.fold_warning(area, 5, "survey.cv_group")
    assert warning is not None
    assert warning["field"] == "survey.cv_group"
    assert warning["count"] == 3
    assert ev.fold_warning(area, 3, "survey.cv_group") is None
    assert ev.fold_warning(None, 5, "survey.cv_group") is None


def test_folds_keep_each_area_in_one_fold_when_there_are_enough_areas() -> None:
    area = np.array([f"a{i % 12}" for i in range(120)])
    fold, grouped = ev.folds_for(120, 5, area, seed=1)
    assert grouped is True
    for a in np.unique(area):
        assert len(np.unique(fold[area == a])) == 1
    again, _ = ev.folds_for(120, 5, area, seed=1)
    assert (fold == again).all()


def test_folds_without_groups_are_by_row() -> None:
    fold, grouped = ev.folds_for(50, 5, None, seed=1)
    assert grouped is False
    assert np.bincount(fold).tolist() == [10] * 5
    _, grouped = ev.folds_for(50, 5, np.full(50, ""), seed=1)
    assert grouped is False


def test_fold_spread_summarises_each_metric_over_the_folds_where_it_is_defined() -> None:
    per_fold: list[dict[str, float | None]] = [
        {"mistargeting": 0.2, "auc": 0.8},
        {"mistargeting": 0.3, "auc": None},
        {"mistargeting": 0.4, "auc": 0.9},
    ]
    spread = ev.fold_spread(per_fold)
    json_safe(spread)
    mt = spread["mistargeting"]
    assert mt["mean"] == pytest.approx(0.3)
    assert mt["sd"] == pytest.approx(0.1)
    assert mt["se"] == pytest.approx(0.1 / np.sqrt(3), abs=1e-4)
    assert (mt["min"], mt["max"], mt["n"]) == (0.2, 0.4, 3)
    assert spread["auc"]["n"] == 2
    assert spread["auc"]["mean"] == pytest.approx(0.85)


def test_metrics_by_fold_work_when_a_quota_area_has_no_rows_in_a_fold() -> None:
    rng = np.random.default_rng(4)
    n = 40
    y = rng.normal(size=n)
    group = np.array(["a"] * 10 + ["b"] * 30, dtype=object)
    fold = np.array([0] * 10 + [1] * 15 + [2] * 15, dtype=np.int64)  # area a only in fold 0
    s = survey(y=y, quota_group=group)
    per_fold = ev.metrics_by_fold(s, y, spec(quota=0.3, quota_scope="area"), fold)
    assert len(per_fold) == 3
    for m in per_fold:
        json_safe(m)
        assert m["coverage"] == pytest.approx(0.3, abs=0.04)
    spread = ev.fold_spread(per_fold)
    assert spread["coverage"]["n"] == 3
