from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from tepat.registry import choices
from tests.synth.helpers import PERSONS, read_csv

AS_OF = dt.date(2026, 11, 1)


def _age(birth: str) -> int:
    b = dt.date.fromisoformat(birth)
    return AS_OF.year - b.year - ((AS_OF.month, AS_OF.day) < (b.month, b.day))


def _families(out: Path) -> dict[str, list[dict[str, str]]]:
    fam: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read_csv(out / "registry" / "persons.csv"):
        fam[row["kk"]].append(row)
    return fam


def test_every_household_has_exactly_one_head(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, _ = bandung
    fam = _families(out)
    kks = {r["kk"] for r in read_csv(out / "registry" / "households.csv")}
    assert set(fam) == kks
    assert all(sum(p["relationship"] == "head" for p in members) == 1 for members in fam.values())
    sizes = [len(m) for m in fam.values()]
    assert 3.3 < PERSONS / len(sizes) < 4.1


def test_ages_follow_relationships(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, _ = bandung
    for members in _families(out).values():
        head = next(p for p in members if p["relationship"] == "head")
        head_age = _age(head["birth_date"])
        assert head_age >= 17
        for p in members:
            age = _age(p["birth_date"])
            if p["relationship"] == "child":
                assert age <= head_age - 15
            if p["relationship"] == "spouse":
                assert age >= 17
                assert p["sex"] != head["sex"]
                assert head["marital_status"] == "married"
            if p["relationship"] in ("parent", "parent_in_law"):
                assert age >= head_age + 15


def test_coded_values_are_the_registry_choices(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, _ = bandung
    persons = read_csv(out / "registry" / "persons.csv")
    allowed = {
        "sex": choices.Sex.values,
        "relationship": choices.Relationship.values,
        "marital_status": choices.MaritalStatus.values,
        "education": choices.Education.values,
        "school_level": choices.SchoolLevel.values,
        "work_sector": choices.WorkSector.values,
        "disability": choices.Disability.values,
        "bank_provider": [*choices.BANKS, ""],
        "ewallet_provider": [*choices.EWALLETS, ""],
    }
    for column, values in allowed.items():
        assert {p[column] for p in persons} <= set(values), column
    households = read_csv(out / "registry" / "households.csv")
    allowed_h = {
        "floor_material": choices.FloorMaterial.values,
        "wall_material": choices.WallMaterial.values,
        "roof_material": choices.RoofMaterial.values,
        "drinking_water": choices.DrinkingWater.values,
        "toilet": choices.Toilet.values,
        "electricity": choices.Electricity.values,
        "cooking_fuel": choices.CookingFuel.values,
    }
    for column, values in allowed_h.items():
        assert {h[column] for h in households} <= set(values), column
    assert {int(h["electricity_va"]) for h in households} <= set(choices.ELECTRICITY_VA)


def test_school_and_pregnancy_are_plausible_for_age(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, _ = bandung
    persons = read_csv(out / "registry" / "persons.csv")
    ranges = {"sd": (7, 12), "smp": (13, 15), "sma": (16, 18)}
    for p in persons:
        age = _age(p["birth_date"])
        if p["school_level"]:
            low, high = ranges[p["school_level"]]
            assert low <= age <= high
        if p["pregnant"] == "1":
            assert p["sex"] == "F"
            assert 15 <= age <= 49
    in_sd = [p for p in persons if 8 <= _age(p["birth_date"]) <= 11]
    assert sum(p["school_level"] == "sd" for p in in_sd) / len(in_sd) > 0.9
    assert sum(p["pregnant"] == "1" for p in persons) > 0


def test_kks_accounts_go_to_heads_and_phones_look_indonesian(
    bandung: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = bandung
    persons = read_csv(out / "registry" / "persons.csv")
    banked = [p for p in persons if p["bank_account"]]
    assert banked
    assert all(p["relationship"] == "head" for p in banked)
    phones = [p["phone"] for p in persons if p["phone"]]
    assert 0.3 < len(phones) / len(persons) < 0.8
    assert all(ph.startswith("08") and 11 <= len(ph) <= 13 for ph in phones)
