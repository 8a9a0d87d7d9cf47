"""NIK and No. KK validation, property-tested: any well-formed number is accepted with the
birth date and sex it encodes; every malformed one is refused with a named reason."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tepat.registry.validators import kk_issue_date, nik_birth_date, validate_kk, validate_nik

TODAY = dt.date(2026, 11, 28)
districts = st.sampled_from(["327301", "320101", "110101", "960101"])
birthdays = st.dates(min_value=dt.date(1927, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["M", "F"])
serials = st.integers(min_value=1, max_value=9999)


def make_nik(district: str, born: dt.date, sex: str, serial: int) -> str:
    day = born.day + (40 if sex == "F" else 0)
    return f"{district}{day:02d}{born:%m}{born:%y}{serial:04d}"


@given(districts, birthdays, sexes, serials)
def test_every_well_formed_nik_is_accepted_with_its_date_and_sex(district, born, sex, serial):
    nik = make_nik(district, born, sex, serial)
    value, problems = validate_nik(nik, sex=sex, birth_date=born, today=TODAY)
    assert value == nik
    assert problems == []
    decoded = nik_birth_date(nik, today=TODAY)
    assert decoded is not None
    assert decoded[1] == sex
    assert (decoded[0].day, decoded[0].month) == (born.day, born.month)


@given(districts, birthdays, serials)
def test_a_sex_that_disagrees_with_the_nik_is_a_warning_not_an_error(district, born, serial):
    nik = make_nik(district, born, "F", serial)
    value, problems = validate_nik(nik, sex="M", today=TODAY)
    assert value == nik
    assert [p.code for p in problems] == ["sex_mismatch"]
    assert problems[0].severity == "warning"


@given(districts, birthdays, sexes, serials, birthdays)
def test_a_birth_date_that_disagrees_is_a_warning(district, born, sex, serial, other):
    nik = make_nik(district, born, sex, serial)
    value, problems = validate_nik(nik, birth_date=other, today=TODAY)
    assert value == nik
    same = (born.day, born.month, born.year % 100) == (other.day, other.month, other.year % 100)
    assert [p.code for p in problems] == ([] if same else ["birth_date_mismatch"])
    assert all(p.severity == "warning" for p in problems)


@given(st.text(alphabet="0123456789", min_size=1, max_size=30).filter(lambda s: len(s) != 16))
def test_a_nik_without_16_digits_is_refused(digits):
    value, problems = validate_nik(digits, today=TODAY)
    assert value == ""
    assert problems[0].code == "length"
    assert problems[0].severity == "error"


@given(st.text(min_size=16, max_size=16).filter(lambda s: not s.isdigit() and s.strip()))
def test_a_nik_with_letters_is_refused(text):
    value, problems = validate_nik(text, today=TODAY)
    assert value == ""
    assert problems[0].severity == "error"


def test_a_nik_that_a_spreadsheet_turned_into_scientific_notation_is_named_as_such():
    value, problems = validate_nik("3.27301E+15", row=7, today=TODAY)
    assert value == ""
    assert problems[0].code == "scientific_notation"
    assert problems[0].row == 7
    assert "spreadsheet" in problems[0].message


def test_an_impossible_birth_date_in_the_nik_is_refused():
    for bad in ("3273013201900003", "3273017201900003", "3273011513900003", "3273010000900003"):
        value, problems = validate_nik(bad, today=TODAY)
        assert value == "", bad
        assert problems[0].code == "impossible_date", bad


def test_serial_zero_is_refused():
    _, problems = validate_nik("3273011205800000", today=TODAY)
    assert problems[0].code == "serial"


def test_an_unknown_region_prefix_is_only_a_warning():
    value, problems = validate_nik("9999011205800001", today=TODAY)
    assert value == "9999011205800001"
    assert [(p.code, p.severity) for p in problems] == [("unknown_region", "warning")]
    value, problems = validate_nik(
        "3273991205800001", region_exists=lambda code: code == "327301", today=TODAY
    )
    assert value
    assert problems[0].code == "unknown_region"


def test_spaces_and_dots_typed_into_a_nik_are_removed():
    value, problems = validate_nik(" 3273 0112 0580 0001 ", today=TODAY)
    assert value == "3273011205800001"
    assert problems == []


def test_an_empty_nik_is_required():
    _, problems = validate_nik("", field="NIK", row=3, today=TODAY)
    assert (problems[0].field, problems[0].code, problems[0].row) == ("NIK", "required", 3)


@given(districts, st.dates(min_value=dt.date(1970, 1, 1), max_value=TODAY), serials)
def test_every_well_formed_kk_is_accepted(district, issued, serial):
    kk = f"{district}{issued:%d%m%y}{serial:04d}"
    value, problems = validate_kk(kk, today=TODAY)
    assert value == kk
    assert problems == []


def test_a_kk_with_an_impossible_issue_date_is_refused():
    value, problems = validate_kk("3273013102150001", today=TODAY)
    assert value == ""
    assert problems[0].code == "impossible_date"


def test_a_kk_with_the_wrong_length_is_refused():
    _, problems = validate_kk("32730131021500", today=TODAY)
    assert problems[0].code == "length"


@given(districts, st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY), serials)
def test_the_kk_issue_date_is_decoded_from_digits_7_to_12(district, issued, serial):
    kk = f"{district}{issued:%d%m%y}{serial:04d}"
    decoded = kk_issue_date(kk, today=TODAY)
    assert decoded is not None
    assert (decoded.day, decoded.month, decoded.year % 100) == (
        issued.day,
        issued.month,
        issued.year % 100,
    )
    assert kk_issue_date(f"{district}320190{serial:04d}", today=TODAY) is None


@given(st.text(alphabet="0123456789 .-eE+\u0663", min_size=1, max_size=20))
def test_a_number_of_plain_digits_and_one_typed_with_separators_agree(text):
    """The digits-only short path of the validators gives what normalising would."""
    from tepat.registry.validators import normalize_number

    for validator in (validate_nik, validate_kk):
        value, problems = validator(text, today=TODAY)
        plain = normalize_number(text.strip())
        if plain.isdigit() and plain.isascii() and "e" not in text.lower():
            assert validator(plain, today=TODAY) == (value, problems)
