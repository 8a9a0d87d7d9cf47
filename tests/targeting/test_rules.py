from __future__ import annotations

import numpy as np
import pytest

from tepat.core.errors import ValidationFailed
from tepat.targeting.rules import rule_evaluate, rule_explain, rule_parse

PKH = "desil <= 4 and children_in_school > 0 and not flags.civil_servant"


def columns(**values: list[object]) -> dict[str, np.ndarray]:
    base: dict[str, list[object]] = {
        "desil": [3, 7, 2],
        "children_in_school": [2, 1, 0],
        "flags.civil_servant": [False, False, False],
        "head_sex": ["F", "M", "M"],
        "toilet": ["none", "private", "public"],
    }
    base.update(values)
    return {k: np.array(v) for k, v in base.items()}


def test_it_accepts_the_pkh_rule_and_lists_its_names() -> None:
    rule = rule_parse(PKH)
    assert rule.names() == {"desil", "children_in_school", "flags.civil_servant"}


def test_it_evaluates_a_rule_over_whole_columns() -> None:
    assert rule_evaluate(rule_parse(PKH), columns(), 3).tolist() == [True, False, False]


def test_a_flag_set_by_integration_makes_a_household_ineligible() -> None:
    cols = columns(**{"flags.civil_servant": [True, False, False]})
    assert rule_evaluate(rule_parse(PKH), cols, 3).tolist() == [False, False, False]


def test_it_supports_or_in_lists_text_equality_and_chained_comparisons() -> None:
    rule = rule_parse("(toilet in ['none', 'public'] or head_sex == 'F') and 1 <= desil <= 3")
    assert rule_evaluate(rule, columns(), 3).tolist() == [True, False, True]


def test_it_names_the_column_and_suggests_a_name_for_a_typo() -> None:
    with pytest.raises(ValidationFailed) as exc:
        rule_parse("desill <= 4")
    assert "kolom 1" in exc.value.message
    assert "unknown name 'desill'" in exc.value.message
    assert "did you mean 'desil'" in exc.value.message


def test_it_names_the_column_of_a_syntax_error() -> None:
    with pytest.raises(ValidationFailed) as exc:
        rule_parse("desil <= 4 and and children_in_school > 0")
    assert "syntax error" in exc.value.message
    assert "kolom 16" in exc.value.message


def test_it_rejects_an_unknown_flag_and_lists_the_known_ones() -> None:
    with pytest.raises(ValidationFailed) as exc:
        rule_parse("not flags.civil_servent")
    assert "did you mean 'civil_servant'" in exc.value.message
    assert "nik_not_found" in exc.value.message


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "desil.__class__",
        "(lambda: 1)()",
        "desil + 1 > 2",
        "[x for x in desil]",
        "open('/etc/passwd')",
    ],
)
def test_it_refuses_anything_outside_the_whitelist(expression: str) -> None:
    with pytest.raises(ValidationFailed):
        rule_parse(expression)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("head_sex < 'F'", "text compares only"),
        ("desil == 'satu'", "cannot compare"),
        ("desil", "must be a condition"),
        ("", "empty rule"),
        ("desil in 4", "`in` needs"),
    ],
)
def test_it_explains_type_mistakes_clearly(expression: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rule_parse(expression)
    assert reason in exc.value.message


def test_it_explains_why_a_household_is_eligible() -> None:
    row = {k: v[:1] for k, v in columns().items()}
    ex = rule_explain(rule_parse(PKH), row)
    assert ex.eligible
    assert ex.reasons == [
        "desil = 3 <= 4 ✓",
        "children_in_school = 2 > 0 ✓",
        "not (flags.civil_servant = False) ✓",
    ]
    assert ex.sentence.startswith("layak karena / eligible because")


def test_it_explains_only_the_failing_conditions_when_not_eligible() -> None:
    row = {k: v[1:2] for k, v in columns().items()}
    ex = rule_explain(rule_parse(PKH), row)
    assert not ex.eligible
    assert ex.reasons == ["desil = 7 <= 4 ✗"]
    assert "not eligible because" in ex.sentence


def test_an_or_is_explained_by_the_branch_that_held() -> None:
    row = {k: v[:1] for k, v in columns().items()}
    ex = rule_explain(rule_parse("desil >= 9 or head_sex == 'F'"), row)
    assert ex.eligible
    assert ex.reasons == ["head_sex = 'F' == 'F' ✓"]


def test_missing_numbers_fail_every_comparison() -> None:
    cols = columns(desil=[np.nan, 1, 1])
    assert rule_evaluate(rule_parse("desil <= 4"), cols, 3).tolist() == [False, True, True]
