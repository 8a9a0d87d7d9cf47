"""Reading regions: code checks, lookups, children, ancestors and names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tepat.core.errors import NotFound, TepatError
from tepat.regions.models import Region
from tepat.regions.selectors import (
    ancestor_codes,
    level_for_code,
    normalize_region_code,
    region_ancestors,
    region_children,
    region_counts,
    region_exists,
    region_get,
    region_names,
)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("32", "32"),
        ("32.73", "3273"),
        ("32.73.01", "327301"),
        ("32.73.01.1001", "3273011001"),
        (" 3273011001 ", "3273011001"),
        ("32 73", "3273"),
        (3273, "3273"),
    ],
)
def test_it_normalizes_dotted_and_spaced_codes(raw: object, code: str):
    assert normalize_region_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "kosong"),
        (None, "kosong"),
        ("32a", "angka"),
        ("３２", "angka"),  # full-width digits are digits to Python, not to Kemendagri
        ("327", "2, 4, 6"),
        ("32730110011", "2, 4, 6"),
        ("32-73", "angka"),
    ],
)
def test_it_rejects_malformed_codes_naming_the_field(raw: object, reason: str):
    with pytest.raises(TepatError) as excinfo:
        normalize_region_code(raw, field="kode_wilayah")

    assert excinfo.value.field == "kode_wilayah"
    assert excinfo.value.code == "invalid_region_code"
    assert reason in excinfo.value.message


@pytest.mark.parametrize(
    ("code", "level"),
    [("32", "province"), ("32.73", "regency"), ("327301", "district"), ("3273011001", "village")],
)
def test_the_level_follows_from_the_code_length(code: str, level: str):
    assert level_for_code(code) == level


def test_ancestor_codes_run_from_the_province_to_the_code_itself():
    assert ancestor_codes("32.73.01.1001") == ["32", "3273", "327301", "3273011001"]
    assert ancestor_codes("32") == ["32"]


@pytest.mark.django_db
def test_it_gets_a_region_by_dotted_or_undotted_code(west_java: dict[str, Region]):
    assert region_get("32.73").name == "Kota Bandung"
    assert region_get("3273").level == "regency"


@pytest.mark.django_db
def test_it_rejects_unknown_region_naming_the_field(west_java: dict[str, Region]):
    with pytest.raises(NotFound) as excinfo:
        region_get("9999", field="household.regency")

    assert excinfo.value.field == "household.regency"
    assert excinfo.value.code == "unknown_region"
    assert excinfo.value.http_status == 404
    assert "9999" in excinfo.value.message


@pytest.mark.django_db
def test_region_exists_is_false_for_unknown_and_malformed_codes(west_java: dict[str, Region]):
    assert region_exists("32.73.01")
    assert not region_exists("3274")
    assert not region_exists("bandung")
    assert not region_exists(None)


@pytest.mark.django_db
def test_children_are_direct_children_in_code_order(west_java: dict[str, Region]):
    assert [r.code for r in region_children("32")] == ["3201", "3273"]
    assert [r.code for r in region_children("3273")] == ["327301", "327302"]
    assert list(region_children("3273011001")) == []


@pytest.mark.django_db
def test_children_of_nothing_are_the_provinces(west_java: dict[str, Region]):
    assert [r.code for r in region_children(None)] == ["32", "33"]
    assert [r.code for r in region_children("")] == ["32", "33"]


@pytest.mark.django_db
def test_children_of_an_unknown_parent_are_refused(west_java: dict[str, Region]):
    with pytest.raises(NotFound) as excinfo:
        region_children("99")

    assert excinfo.value.field == "parent"


@pytest.mark.django_db
def test_ancestors_run_from_the_province_down_to_the_region(west_java: dict[str, Region]):
    chain = region_ancestors("3273011002")

    assert [(r.code, r.level) for r in chain] == [
        ("32", "province"),
        ("3273", "regency"),
        ("327301", "district"),
        ("3273011002", "village"),
    ]


@pytest.mark.django_db
def test_ancestors_of_an_unknown_region_name_the_first_missing_code(west_java: dict[str, Region]):
    with pytest.raises(NotFound, match="3274"):
        region_ancestors("3274011001")


@pytest.mark.django_db
def test_names_come_back_for_many_codes_in_one_query(
    west_java: dict[str, Region], django_assert_num_queries
):
    with django_assert_num_queries(1):
        names = region_names(["32", "32.73", "3273011001", "9999", "not a code"])

    assert names == {"32": "Jawa Barat", "3273": "Kota Bandung", "3273011001": "Sukarasa"}


@pytest.mark.django_db
def test_names_of_nothing_need_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert region_names([]) == {}


@pytest.mark.django_db
def test_counts_name_every_level_even_when_empty(west_java: dict[str, Region]):
    assert region_counts() == {"province": 2, "regency": 2, "district": 2, "village": 2}


@given(
    st.lists(st.sampled_from("0123456789"), min_size=10, max_size=10).map("".join),
    st.sampled_from([2, 4, 6, 10]),
)
def test_any_code_survives_dotting_and_normalizing(digits: str, length: int):
    code = digits[:length]
    dotted = ".".join(filter(None, [code[:2], code[2:4], code[4:6], code[6:]]))

    assert normalize_region_code(dotted) == code
    assert (
        level_for_code(dotted)
        == ["province", "regency", "district", "village"][[2, 4, 6, 10].index(length)]
    )


@given(st.text(max_size=20))
def test_any_text_is_either_a_code_or_a_clear_refusal(raw: str):
    refused_field = None
    try:
        code = normalize_region_code(raw)
    except TepatError as exc:
        refused_field = exc.field
        code = ""

    if refused_field is None:
        assert code.isascii()
        assert code.isdigit()
        assert len(code) in {2, 4, 6, 10}
    else:
        assert refused_field == "region_code"
