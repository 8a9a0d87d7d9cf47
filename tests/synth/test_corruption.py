from __future__ import annotations

import numpy as np
import pytest

from tepat.synth import corruption as cx
from tepat.synth.nik import decode_nik, make_numbers, serials
from tepat.synth.sources.common import impossible_date, swap_day_month


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_a_name_typo_changes_the_name_a_little(rng: np.random.Generator) -> None:
    for name in ("Budi Santoso", "Siti Aminah", "Eko"):
        typo = cx.name_typo(name, rng)
        assert typo != name or len(set(name)) < len(name)
        assert abs(len(typo) - len(name)) <= 1


def test_variants_use_known_indonesian_spellings(rng: np.random.Generator) -> None:
    assert cx.name_variant("Muhammad Rizki", rng).split()[0] in cx.VARIANTS["Muhammad"]
    assert cx.name_variant("Siti Aminah", rng).split()[0] in cx.VARIANTS["Siti"]
    assert cx.name_swap("Budi Santoso", rng) == "Santoso Budi"
    assert cx.name_abbreviate("Budi Santoso", rng) == "Budi S."


def test_a_nik_typo_keeps_length_and_province(rng: np.random.Generator) -> None:
    nik = "3273015501900001"
    for _ in range(50):
        typo = cx.digit_typo(nik, rng)
        assert len(typo) == 16
        assert typo[:2] == "32"
        assert sum(a != b for a, b in zip(typo, nik, strict=True)) in (1, 2)


def test_a_spreadsheet_turns_a_nik_into_scientific_notation(rng: np.random.Generator) -> None:
    assert cx.spreadsheet_number("3273015501900001", rng) == "3.27302E+15"


def test_bad_and_typo_dates_keep_their_format(rng: np.random.Generator) -> None:
    assert impossible_date("1990-05-17", rng)[4] == "-"
    assert impossible_date("17-05-1990", rng)[2] == "-"
    assert swap_day_month("1990-05-07", rng) == "1990-07-05"
    assert swap_day_month("07/05/1990", rng) == "05/07/1990"


def test_serials_number_each_region_and_date_from_one(rng: np.random.Generator) -> None:
    group = np.array([5, 5, 7, 5, 7], np.int64)
    s = serials(group, rng)
    assert sorted(s[group == 5]) == [1, 2, 3]
    assert sorted(s[group == 7]) == [1, 2]


def test_women_have_forty_added_to_the_birth_day(rng: np.random.Generator) -> None:
    days = np.array([7305, 7305], np.int64)  # 1990-01-01
    numbers = make_numbers(np.array([327301, 327301], np.int64), days, rng, np.array([True, False]))
    woman, man = (decode_nik(str(n)) for n in numbers)
    assert str(numbers[0])[6:12] == "410190"
    assert str(numbers[1])[6:12] == "010190"
    assert woman[4]
    assert not man[4]
