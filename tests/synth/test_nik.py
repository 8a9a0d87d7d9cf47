from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tepat.synth.nik import decode_nik
from tepat.synth.regions import load_region
from tests.synth.helpers import read_csv


def test_every_nik_matches_birth_date_and_sex(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, _ = bandung
    for row in read_csv(out / "truth" / "persons.csv"):
        nik = row["nik"]
        assert len(nik) == 16
        assert nik.isdigit()
        district, day, month, yy, female, serial = decode_nik(nik)
        born = dt.date.fromisoformat(row["birth_date"])
        assert (day, month, yy) == (born.day, born.month, born.year % 100)
        assert female == (row["sex"] == "F")
        assert 1 <= serial <= 9999
        assert str(district) == row["nik_district"]


def test_niks_and_family_card_numbers_are_unique(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, _ = bandung
    niks = Counter(r["nik"] for r in read_csv(out / "truth" / "persons.csv"))
    assert niks.most_common(1)[0][1] == 1
    kks = [r["kk"] for r in read_csv(out / "registry" / "households.csv")]
    assert len(kks) == len(set(kks))
    assert all(len(k) == 16 and k[:4] == "3273" for k in kks)


def test_most_nik_prefixes_are_the_current_district_and_the_rest_real_districts(
    bandung: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = bandung
    region = load_region("3273")
    districts = {int(d) for d in region.province_districts} | {
        int(d) for d in region.other_districts
    }
    rows = [r for r in read_csv(out / "truth" / "persons.csv") if r["in_registry"] == "1"]
    outdated = [r for r in rows if r["nik"][:6] != r["village_code"][:6]]
    assert 0.015 < len(outdated) / len(rows) < 0.045
    assert all(int(r["nik"][:6]) in districts for r in outdated)
    assert all(r["nik_outdated"] == "1" for r in outdated)


def test_niks_and_kks_pass_the_registry_validators(bandung: tuple[Path, dict[str, Any]]) -> None:
    validators = pytest.importorskip("tepat.registry.validators")
    out, _ = bandung
    region = load_region("3273")
    districts = {str(d) for d in region.province_districts} | {
        str(d) for d in region.other_districts
    }
    today = dt.date(2026, 11, 28)
    for row in read_csv(out / "truth" / "persons.csv"):
        nik, problems = validators.validate_nik(
            row["nik"],
            sex=row["sex"],
            birth_date=dt.date.fromisoformat(row["birth_date"]),
            region_exists=districts.__contains__,
            today=today,
        )
        assert nik == row["nik"]
        assert problems == []
    for row in read_csv(out / "registry" / "households.csv"):
        kk, problems = validators.validate_kk(
            row["kk"], region_exists=districts.__contains__, today=today
        )
        assert kk == row["kk"]
        assert problems == []


def test_spreadsheet_niks_in_sources_are_refused_by_the_validator(
    bandung: tuple[Path, dict[str, Any]],
) -> None:
    validators = pytest.importorskip("tepat.registry.validators")
    out, _ = bandung
    mangled = [r["NIK"] for r in read_csv(out / "sources" / "bpjs.csv") if "E+" in r["NIK"]]
    assert mangled
    for value in mangled:
        _, problems = validators.validate_nik(value)
        assert problems
