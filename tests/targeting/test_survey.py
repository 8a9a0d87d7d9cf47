"""Reading a survey as the spec maps it: nothing dropped or changed silently (bugs 2 and 7),
recodes, filters, outcomes, poverty targets, quota columns, and files shaped unlike the synthetic
Indonesian survey (a Costa Rican household poverty survey)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tepat.core.errors import ValidationFailed
from tepat.targeting.spec import Spec, spec_parse
from tepat.targeting.survey import Survey, survey_read

from .conftest import SPEC, write_survey


def edit_csv(
    path: Path,
    column: str,
    change: Callable[[int, str], str],
    *,
    add: str | None = None,
) -> Path:
    """Rewrite one column (or `add` a new one) with change(row index, old value)."""
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    if add is not None:
        header.append(add)
        for r in body:
            r.append("")
        column = add
    j = header.index(column)
    for i, r in enumerate(body):
        r[j] = change(i, r[j])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def spec_with(*edits: tuple[str, str], extra: str = "") -> Spec:
    text = SPEC
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return spec_parse(text + extra)


def read_error(path: Path, spec: Spec) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as exc:
        survey_read(path, spec)
    return exc.value


def warning(s: Survey, field: str, code: str) -> dict[str, Any]:
    found = [w for w in s.warnings if w["field"] == field and w["code"] == code]
    assert found, (field, code, s.warnings)
    return found[0]


MOTOR = 'owns_motorcycle = { column = "MOTOR", kind = "numeric" }'


# --- bug 2: text in a numeric proxy ----------------------------------------------------------------


def test_text_in_a_numeric_proxy_is_an_error_that_asks_for_a_recode(tmp_path: Path) -> None:
    path = edit_csv(
        write_survey(tmp_path / "s.csv"), "MOTOR", lambda i, v: "ya" if v == "1" else "tidak"
    )
    exc = read_error(path, spec_parse(SPEC))
    assert exc.field == "proxies.owns_motorcycle"
    assert "recode" in exc.message
    assert "'ya'" in exc.message or '"ya"' in exc.message


def test_a_recode_reads_yes_and_no_as_numbers(tmp_path: Path) -> None:
    original = write_survey(tmp_path / "a.csv")
    plain = survey_read(original, spec_parse(SPEC))
    path = edit_csv(
        write_survey(tmp_path / "s.csv"), "MOTOR", lambda i, v: "ya" if v == "1" else "tidak"
    )
    spec = spec_with(
        (MOTOR, 'owns_motorcycle = { column = "MOTOR", recode = { ya = 1, tidak = 0 } }')
    )
    s = survey_read(path, spec)
    assert np.array_equal(s.proxies["owns_motorcycle"], plain.proxies["owns_motorcycle"])
    assert not [w for w in s.warnings if w["field"] == "proxies.owns_motorcycle"]


def test_a_few_text_values_are_a_warning_with_their_count_and_first_rows(tmp_path: Path) -> None:
    path = edit_csv(
        write_survey(tmp_path / "s.csv"), "MOTOR", lambda i, v: "n/a" if i in (3, 10, 11) else v
    )
    s = survey_read(path, spec_parse(SPEC))
    w = warning(s, "proxies.owns_motorcycle", "not_numeric")
    assert (w["count"], w["rows"]) == (3, [4, 11, 12])
    assert "'n/a' (3)" in w["message"]
    assert np.isnan(s.proxies["owns_motorcycle"][[3, 10, 11]]).all()


def test_values_the_spec_declares_missing_are_missing_and_counted(tmp_path: Path) -> None:
    path = edit_csv(
        write_survey(tmp_path / "s.csv"),
        "LUAS",
        lambda i, v: {0: "99999", 1: "-", 2: "99999.0", 3: ""}.get(i, v),
    )
    spec = spec_with(
        (
            'floor_area_m2 = { column = "LUAS", kind = "numeric", log = true }',
            'floor_area_m2 = { column = "LUAS", log = true, missing = ["-", 99999] }',
        )
    )
    s = survey_read(path, spec)
    assert np.isnan(s.proxies["floor_area_m2"][:4]).all()
    assert not np.isnan(s.proxies["floor_area_m2"][4:]).any()
    w = warning(s, "proxies.floor_area_m2", "missing_values")
    assert (w["count"], w["rows"]) == (4, [1, 2, 3, 4])


# --- bug 7: labels and codes kept whole -------------------------------------------------------------

LONG_A = "semen/plester dengan lapisan keramik putih polos"
LONG_B = "semen/plester dengan lapisan keramik hitam motif"


def test_long_category_labels_and_area_codes_are_never_cut(tmp_path: Path) -> None:
    assert LONG_A[:32] == LONG_B[:32]
    path = write_survey(tmp_path / "s.csv")
    edit_csv(path, "LANTAI", lambda i, v: LONG_A if i % 7 == 0 else LONG_B if i % 7 == 1 else v)
    codes = ["3273010001-RW01-RT001", "3273010001-RW01-RT002"]
    edit_csv(path, "KEC", lambda i, v: codes[i % 2])
    s = survey_read(path, spec_parse(SPEC))
    labels = set(s.proxies["floor_material"].tolist())
    assert {LONG_A, LONG_B} <= labels
    assert set(s.area.tolist()) == set(codes)
    assert s.area.dtype == object
    assert s.proxies["floor_material"].dtype == object


# --- categorical proxies ------------------------------------------------------------------------


def test_empty_category_values_become_their_own_level_with_a_warning(tmp_path: Path) -> None:
    path = edit_csv(write_survey(tmp_path / "s.csv"), "LANTAI", lambda i, v: "" if i < 6 else v)
    s = survey_read(path, spec_parse(SPEC))
    assert s.proxies["floor_material"][:6].tolist() == [""] * 6
    w = warning(s, "proxies.floor_material", "empty_category")
    assert (w["count"], w["rows"]) == (6, [1, 2, 3, 4, 5])


def test_a_categorical_recode_maps_codes_and_reports_values_it_does_not_cover(
    tmp_path: Path,
) -> None:
    codes = {"ceramic": "1", "cement": "2", "earth": "3"}
    path = edit_csv(
        write_survey(tmp_path / "s.csv"), "LANTAI", lambda i, v: "9" if i == 5 else codes[v]
    )
    spec = spec_with(
        (
            'floor_material = { column = "LANTAI", kind = "categorical" }',
            'floor_material = { column = "LANTAI", kind = "categorical", '
            'recode = { "1" = "ceramic", "2" = "cement", "3" = "earth" } }',
        )
    )
    s = survey_read(path, spec)
    assert set(s.proxies["floor_material"].tolist()) == {"ceramic", "cement", "earth", "9"}
    w = warning(s, "proxies.floor_material", "not_recoded")
    assert (w["count"], w["rows"]) == (1, [6])
    assert "'9'" in w["message"]


# --- the file ------------------------------------------------------------------------------------


def test_semicolons_a_byte_order_mark_and_decimal_commas_are_read(tmp_path: Path) -> None:
    path = write_survey(tmp_path / "s.csv")
    plain = survey_read(path, spec_parse(SPEC))
    lines = path.read_text(encoding="utf-8").splitlines()
    semi = ["\ufeff" + lines[0].replace(",", ";")]
    for line in lines[1:]:
        cells = line.split(",")
        cells[4] = f"{cells[4]},0"  # LUAS with a decimal comma: 45 -> "45,0"
        semi.append(";".join(cells))
    (tmp_path / "semi.csv").write_text("\n".join(semi) + "\n", encoding="utf-8")
    s = survey_read(tmp_path / "semi.csv", spec_parse(SPEC))
    assert np.array_equal(s.proxies["floor_area_m2"], plain.proxies["floor_area_m2"])
    assert np.allclose(s.y, plain.y)
    assert s.sha256 != plain.sha256


def test_a_column_that_differs_only_in_case_is_suggested(tmp_path: Path) -> None:
    path = write_survey(tmp_path / "s.csv")
    text = path.read_text(encoding="utf-8").replace("MOTOR", "Motor", 1)
    path.write_text(text, encoding="utf-8")
    exc = read_error(path, spec_parse(SPEC))
    assert exc.field == "MOTOR"
    assert "did you mean 'Motor'" in exc.message
    assert "proxies.owns_motorcycle" in exc.message


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = write_survey(tmp_path / "s.csv")
    path.write_bytes(path.read_bytes().replace(b"earth", b"tan\xe1h", 1))
    assert "UTF-8" in read_error(path, spec_parse(SPEC)).message


# --- rows set aside -----------------------------------------------------------------------------


def test_rows_outside_the_filter_are_counted_as_filtered(tmp_path: Path) -> None:
    path = write_survey(tmp_path / "s.csv", bad_rows=3)
    sizes = [int(r["ART"]) for r in csv.DictReader(path.open(encoding="utf-8"))]
    s = survey_read(path, spec_parse(SPEC + '\n[filters]\nkeep = "ART <= 5"\n'))
    filtered = [i + 1 for i, k in enumerate(sizes) if k > 5]
    assert s.dropped_count["filtered"] == len(filtered)
    assert s.dropped["filtered"] == filtered[:20]
    # A row both filtered and without consumption counts once, under its first reason.
    assert (
        s.dropped_count["filtered"]
        + s.dropped_count.get("consumption_missing_or_not_positive", 0)
        + len(s.y)
        == s.rows_read
    )
    assert set(s.rows.tolist()).isdisjoint(filtered)
    assert (s.proxies["household_size"] <= 5).all()


def test_a_text_filter_and_a_missing_filter_column(tmp_path: Path) -> None:
    path = write_survey(tmp_path / "s.csv")
    s = survey_read(path, spec_parse(SPEC + "\n[filters]\nkeep = \"LANTAI != 'earth'\"\n"))
    assert "earth" not in s.proxies["floor_material"].tolist()
    assert s.dropped_count["filtered"] > 0
    exc = read_error(path, spec_parse(SPEC + "\n[filters]\nkeep = \"LANTAII == 'x'\"\n"))
    assert exc.field == "filters.keep"
    assert "did you mean 'LANTAI'" in exc.message


def test_rows_without_consumption_are_set_aside_and_keep_their_row_numbers(
    tmp_path: Path,
) -> None:
    path = edit_csv(
        write_survey(tmp_path / "s.csv", bad_rows=2),
        "KAPITA",
        lambda i, v: {2: "0", 3: "abc"}.get(i, v),
    )
    s = survey_read(path, spec_parse(SPEC))
    assert s.dropped["consumption_missing_or_not_positive"] == [1, 2, 3, 4]
    assert s.rows[:3].tolist() == [5, 6, 7]
    assert warning(s, "survey.consumption", "not_numeric")["rows"] == [4]
    assert s.weight.mean() == pytest.approx(1.0)
    assert s.consumption is not None
    assert np.allclose(np.log(s.consumption), s.y)


def test_under_twenty_rows_is_an_error_and_under_min_rows_a_warning(tmp_path: Path) -> None:
    exc = read_error(write_survey(tmp_path / "a.csv", n=19), spec_parse(SPEC))
    assert exc.code == "validation_failed"
    assert exc.problems[0].code == "too_few_rows"
    s = survey_read(write_survey(tmp_path / "b.csv", n=87), spec_parse(SPEC))
    w = warning(s, "KAPITA", "few_rows")
    assert w["count"] == 87
    assert "min_rows = 200" in w["message"]
    lower = spec_parse(SPEC.replace("folds = 4", "folds = 4\nmin_rows = 50"))
    assert not [
        w for w in survey_read(tmp_path / "b.csv", lower).warnings if w["code"] == "few_rows"
    ]


# --- who is poor --------------------------------------------------------------------------------


def test_a_poverty_line_amount_defines_who_is_poor(tmp_path: Path) -> None:
    path = write_survey(tmp_path / "s.csv")
    base = survey_read(path, spec_parse(SPEC))
    assert base.consumption is not None
    line = float(np.median(base.consumption))
    s = survey_read(path, spec_parse(SPEC + f"\n[target]\npoverty_line = {line}\n"))
    assert s.poverty_line == line
    assert np.array_equal(s.poor, np.exp(s.y) <= line)


def test_the_poor_share_is_weighted_and_by_persons_when_household_size_is_given(
    tmp_path: Path,
) -> None:
    # Poorer households are larger: 40 % of households hold far more than 40 % of persons.
    path = write_survey(tmp_path / "s.csv")
    s = survey_read(path, spec_parse(SPEC + "\n[target]\npoor_share = 0.4\n"))
    w_share = s.weight[s.poor].sum() / s.weight.sum()
    assert w_share == pytest.approx(0.4, abs=0.01)
    persons = spec_parse(
        SPEC.replace('area = "KEC"', 'area = "KEC"\nhousehold_size = "ART"')
        + "\n[target]\npoor_share = 0.4\n"
    )
    p = survey_read(path, persons)
    size = p.proxies["household_size"]
    assert (p.weight * size)[p.poor].sum() / (p.weight * size).sum() == pytest.approx(0.4, abs=0.01)
    assert p.poverty_line is not None
    assert s.poverty_line is not None
    assert p.poverty_line < s.poverty_line  # the large households are the poor ones
    assert np.array_equal(p.poor, p.consumption <= p.poverty_line)  # type: ignore[operator]


def test_a_target_nobody_meets_is_an_error(tmp_path: Path) -> None:
    exc = read_error(
        write_survey(tmp_path / "s.csv"), spec_parse(SPEC + "\n[target]\npoverty_line = 1\n")
    )
    assert exc.field == "target.poverty_line"
    assert "no usable household is poor" in exc.message


# --- groups and quotas --------------------------------------------------------------------------


def test_cv_groups_and_quota_areas_are_columns_of_their_own(tmp_path: Path) -> None:
    path = edit_csv(write_survey(tmp_path / "s.csv"), "", lambda i, v: f"DESA{i % 9}", add="DESA")
    spec = spec_parse(
        SPEC.replace('area = "KEC"', 'area = "KEC"\ncv_group = "DESA"\nquota_area = "DESA"')
    )
    s = survey_read(path, spec)
    assert len(set(s.cv_group.tolist())) == 9
    assert np.array_equal(s.quota_group, s.cv_group)
    assert len(set(s.area.tolist())) == 4
    national = survey_read(path, spec_parse(SPEC + '\n[target]\nquota_scope = "national"\n'))
    assert set(national.quota_group.tolist()) == {""}
    assert np.array_equal(national.cv_group, national.area)


def test_a_quota_column_gives_each_row_its_area_share(tmp_path: Path) -> None:
    path = write_survey(tmp_path / "s.csv")
    kec = [r["KEC"] for r in csv.DictReader(path.open(encoding="utf-8"))]
    share = {"327301": "0.2", "320101": "0.3", "327302": "0.35", "320102": "0.5"}
    edit_csv(path, "", lambda i, v: share[kec[i]], add="KUOTA")
    spec = spec_parse(SPEC + '\n[target]\nquota_column = "KUOTA"\n')
    s = survey_read(path, spec)
    assert s.quota_share is not None
    assert np.allclose(s.quota_share, [float(share[k]) for k in s.quota_group])


@pytest.mark.parametrize(
    ("bad", "code", "words"),
    [
        ({4: "30"}, "quota_range", "write 30 % as 0.3"),
        ({4: ""}, "quota_missing", "rows 5"),
        ({4: "0.25"}, "quota_varies", "differs within"),
    ],
)
def test_a_quota_column_outside_0_to_1_or_ambiguous_is_an_error_with_rows(
    tmp_path: Path, bad: dict[int, str], code: str, words: str
) -> None:
    path = edit_csv(
        write_survey(tmp_path / "s.csv"), "", lambda i, v: bad.get(i, "0.3"), add="KUOTA"
    )
    exc = read_error(path, spec_parse(SPEC + '\n[target]\nquota_column = "KUOTA"\n'))
    assert exc.problems[0].code == code
    assert words in exc.message


def test_area_effects_need_codes_of_one_length(tmp_path: Path) -> None:
    path = edit_csv(write_survey(tmp_path / "s.csv"), "KEC", lambda i, v: v[:4] if i < 3 else v)
    fixed = spec_parse(SPEC.replace("folds = 4", 'folds = 4\narea_effects = "fixed"'))
    exc = read_error(path, fixed)
    assert exc.field == "survey.area_level"
    assert "4 digits: 3 rows" in exc.message
    leveled = spec_parse(SPEC.replace('area = "KEC"', 'area = "KEC"\narea_level = 6'))
    exc = read_error(path, leveled)
    assert exc.field == "KEC"
    assert "rows 1, 2, 3" in exc.message
    # Without area effects the codes are only groups: any length will do.
    assert len(set(survey_read(path, spec_parse(SPEC)).area.tolist())) > 4


# --- class outcomes, and a survey shaped unlike ours -------------------------------------------------

COSTA_RICA_SPEC = """
# The Costa Rican household poverty survey (IADB): ordinal Target 1 = extreme poverty,
# 2 = moderate poverty, 3 = vulnerable, 4 = non-vulnerable; `dependency` and `edjefe` mix
# numbers with yes (= 1) and no (= 0).
[survey]
outcome = "Target"
classes = ["1", "2", "3", "4"]
poor_classes = ["1", "2"]
area = "canton"

[model]
methods = ["ordinal", "gbm"]
min_rows = 50

[proxies]
rooms = { column = "rooms", registry = false }
refrigerator = { column = "refrig", registry = false }
household_size = { column = "hhsize" }
rent = { column = "v2a1", registry = false }
dependency = { column = "dependency", recode = { yes = 1, no = 0 }, registry = false }
head_schooling = { column = "edjefe", recode = { yes = 1, no = 0 }, registry = false }
mean_schooling = { column = "meaneduc", registry = false }
wall = { column = "pared", kind = "categorical", registry = false }
region = { column = "lugar", kind = "categorical", registry = false, recode = { "1" = "Central", "2" = "Chorotega", "3" = "Pacifico central", "4" = "Brunca", "5" = "Huetar Atlantica", "6" = "Huetar Norte" } }

[filters]
keep = "hhsize >= 1"
"""


def write_costa_rica(path: Path, n: int = 120) -> list[dict[str, str]]:
    """`;`-separated with a byte-order mark and decimal commas, as a Spanish-locale spreadsheet
    saves it; mixed-length canton codes; rent empty for owners; a few rows with no or an unknown
    Target."""
    rng = np.random.default_rng(3)
    rows: list[dict[str, str]] = []
    for i in range(n):
        target = 1 + int(rng.integers(0, 4))
        size = int(rng.integers(1, 9)) if i != 7 else 0
        dep = rng.choice(["yes", "no", "0,5", "2", "1,3333334"])
        head = rng.choice(["no", "yes", "6", "11", "9"], p=[0.3, 0.1, 0.3, 0.2, 0.1])
        rows.append(
            {
                "Id": f"ID_{279628684 + i * 7919}",
                "idhogar": f"{rng.integers(0, 16**9):09x}",
                "v2a1": "" if rng.random() < 0.6 else str(int(rng.integers(50, 400)) * 1000),
                "rooms": str(int(rng.integers(1, 9))),
                "refrig": str(int(rng.random() < 0.9)),
                "hhsize": str(size),
                "dependency": str(dep),
                "edjefe": str(head),
                "meaneduc": f"{rng.integers(0, 20)},{rng.integers(0, 10)}",
                "pared": rng.choice(["paredblolad", "paredzocalo", "paredpreb", "pareddes"]),
                "lugar": str(1 + int(rng.integers(0, 6))),
                "canton": ["1", "12", "104", "1108"][i % 4],
                "Target": "" if i == 5 else "9" if i in (9, 10) else str(target),
            }
        )
    lines = [";".join(rows[0])] + [";".join(r.values()) for r in rows]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return rows


def test_a_costa_rican_survey_is_read_by_configuration_alone(tmp_path: Path) -> None:
    path = tmp_path / "costa-rica.csv"
    rows = write_costa_rica(path)
    s = survey_read(path, spec_parse(COSTA_RICA_SPEC))
    assert s.rows_read == 120
    assert s.dropped_count == {"filtered": 1, "outcome_missing": 1, "outcome_not_in_classes": 2}
    assert (s.dropped["filtered"], s.dropped["outcome_missing"]) == ([8], [6])
    assert "'9' (2)" in warning(s, "survey.outcome", "not_in_classes")["message"]
    kept = [r for i, r in enumerate(rows) if i + 1 in set(s.rows.tolist())]
    target = np.array([int(r["Target"]) for r in kept])
    assert np.array_equal(s.y, target - 1)  # class index, 0 = poorest
    assert np.array_equal(s.poor, target <= 2)
    assert s.consumption is None
    assert s.poverty_line is None
    numbers = {"yes": 1.0, "no": 0.0}
    for column, proxy in (("dependency", "dependency"), ("edjefe", "head_schooling")):
        expected = [
            numbers[r[column]] if r[column] in numbers else float(r[column].replace(",", "."))
            for r in kept
        ]
        assert np.allclose(s.proxies[proxy], expected), proxy
    assert np.allclose(
        s.proxies["mean_schooling"], [float(r["meaneduc"].replace(",", ".")) for r in kept]
    )
    assert np.isnan(s.proxies["rent"]).sum() == sum(r["v2a1"] == "" for r in kept)
    assert warning(s, "proxies.rent", "missing_values")["count"] == sum(
        r["v2a1"] == "" for r in kept
    )
    assert set(s.area.tolist()) == {"1", "12", "104", "1108"}
    assert set(s.proxies["region"].tolist()) <= {
        "Central", "Chorotega", "Pacifico central", "Brunca", "Huetar Atlantica", "Huetar Norte",
    }  # fmt: skip
    assert not [w for w in s.warnings if w["code"] in ("not_numeric", "not_recoded")]


def test_the_costa_rican_survey_without_its_recode_says_what_to_add(tmp_path: Path) -> None:
    path = tmp_path / "costa-rica.csv"
    rows = write_costa_rica(path)
    spec = spec_parse(
        COSTA_RICA_SPEC.replace(
            'head_schooling = { column = "edjefe", recode = { yes = 1, no = 0 }, registry = false }',
            'head_schooling = { column = "edjefe", registry = false }',
        )
    )
    # About 40 % of the heads' schooling is "no" or "yes": read as missing, and said so.
    s = survey_read(path, spec)
    w = warning(s, "proxies.head_schooling", "not_numeric")
    kept = [r for i, r in enumerate(rows) if i + 1 in set(s.rows.tolist())]
    assert w["count"] == sum(r["edjefe"] in ("yes", "no") for r in kept)
    assert "'no'" in w["message"]
    assert "recode" in w["message"]
    # Mostly text: an error, not a proxy of missing values.
    for r in rows:
        r["edjefe"] = "no" if r["edjefe"] not in ("yes", "6") else r["edjefe"]
    lines = [";".join(rows[0])] + [";".join(r.values()) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    exc = read_error(path, spec)
    assert exc.field == "proxies.head_schooling"
    assert "recode" in exc.message


def test_a_binary_outcome_from_yes_and_no(tmp_path: Path) -> None:
    path = write_survey(tmp_path / "s.csv")
    kapita = [float(r["KAPITA"]) for r in csv.DictReader(path.open(encoding="utf-8"))]
    cut = float(np.quantile(kapita, 0.3))
    edit_csv(path, "", lambda i, v: "ya" if kapita[i] <= cut else "tidak", add="MISKIN")
    spec = spec_parse(
        SPEC.replace(
            'consumption = "KAPITA"', 'outcome = "MISKIN"\nclasses = ["ya", "tidak"]'
        ).replace('method = "ols"', 'method = "logit"')
    )
    s = survey_read(path, spec)
    assert spec.outcome_kind == "binary"
    assert np.array_equal(s.y, s.poor.astype(float))
    assert s.poor.mean() == pytest.approx(0.3, abs=0.01)
    # The poor class need not come first in a binary outcome.
    flipped = spec_parse(
        SPEC.replace(
            'consumption = "KAPITA"',
            'outcome = "MISKIN"\nclasses = ["tidak", "ya"]\npoor_classes = ["ya"]',
        ).replace('method = "ols"', 'method = "logit"')
    )
    again = survey_read(path, flipped)
    assert np.array_equal(again.poor, s.poor)
    assert np.array_equal(again.y, s.y)
