from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tepat.core.errors import ValidationFailed
from tepat.registry.loading import registry_load_directory
from tepat.registry.models import ChangeRecord, FinancialAddress, Household, Person
from tests.conftest import make_household, make_members

pytestmark = pytest.mark.django_db

HOUSEHOLD_COLUMNS = [
    "kk",
    "village_code",
    "address",
    "rt",
    "rw",
    "floor_material",
    "wall_material",
    "roof_material",
    "floor_area_m2",
    "drinking_water",
    "toilet",
    "electricity",
    "electricity_va",
    "cooking_fuel",
    "owns_motorcycle",
    "owns_refrigerator",
    "owns_car",
    "owns_land",
    "land_area_m2",
    "livestock_count",
]
PERSON_COLUMNS = [
    "nik",
    "kk",
    "full_name",
    "sex",
    "birth_date",
    "birth_place",
    "relationship",
    "marital_status",
    "education",
    "school_level",
    "work_sector",
    "disability",
    "pregnant",
    "phone",
    "bank_provider",
    "bank_account",
    "ewallet_provider",
    "ewallet_account",
    "deceased_on",
]


def write_extract(directory: Path, households: int = 3) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "households.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, HOUSEHOLD_COLUMNS)
        w.writeheader()
        for i in range(1, households + 1):
            w.writerow({k: v for k, v in make_household(serial=i).items()})
    with (directory / "persons.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, PERSON_COLUMNS)
        w.writeheader()
        for i in range(1, households + 1):
            kk = make_household(serial=i)["kk"]
            for j, m in enumerate(make_members(serial=i)):
                row = {**m, "kk": kk, "pregnant": "1" if m.get("pregnant") else "0"}
                if j == 0:
                    row.update(bank_provider="BRI", bank_account=f"0012340000{i:02d}")
                w.writerow(row)
    return directory


def test_it_loads_an_extract_with_history_and_accounts(tmp_path, regions):
    report = registry_load_directory(
        acting_user=None, directory=write_extract(tmp_path), source="synth:test"
    )
    assert (report.households, report.persons, report.financial_addresses) == (3, 9, 3)
    assert Household.objects.count() == 3
    assert Person.objects.count() == 9
    assert FinancialAddress.objects.filter(provider="BRI").count() == 3
    assert ChangeRecord.objects.filter(source="synth:test").count() == 3 + 9 + 3


def _rewrite(path: Path, row_index: int, field: str, value: str) -> None:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[row_index][field] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_a_bad_row_refuses_the_whole_file_naming_row_and_field(tmp_path, regions):
    directory = write_extract(tmp_path)
    _rewrite(directory / "persons.csv", 4, "nik", "3.27301E+15")  # spreadsheet row 6
    with pytest.raises(ValidationFailed) as err:
        registry_load_directory(acting_user=None, directory=directory, source="t")
    problem = err.value.problems[0]
    assert (problem.field, problem.row, problem.code) == (
        "persons.csv:nik",
        6,
        "scientific_notation",
    )
    assert Household.objects.count() == 0
    assert Person.objects.count() == 0
    assert ChangeRecord.objects.count() == 0


def test_duplicate_kk_rows_are_named(tmp_path, regions):
    directory = write_extract(tmp_path)
    first_kk = make_household(serial=1)["kk"]
    _rewrite(directory / "households.csv", 2, "kk", first_kk)
    with pytest.raises(ValidationFailed) as err:
        registry_load_directory(acting_user=None, directory=directory, source="t")
    messages = [str(p) for p in err.value.problems]
    assert any("row 4" in m and "baris 2" in m for m in messages)
    assert Household.objects.count() == 0


def test_an_unknown_village_code_is_named(tmp_path, regions):
    directory = write_extract(tmp_path)
    _rewrite(directory / "households.csv", 0, "village_code", "9999999999")
    with pytest.raises(ValidationFailed) as err:
        registry_load_directory(acting_user=None, directory=directory, source="t")
    assert any(p.field == "households.csv:village_code" and p.row == 2 for p in err.value.problems)


def test_loading_the_same_extract_twice_is_refused_as_duplicates(tmp_path, regions):
    directory = write_extract(tmp_path)
    registry_load_directory(acting_user=None, directory=directory, source="t")
    with pytest.raises(ValidationFailed) as err:
        registry_load_directory(acting_user=None, directory=directory, source="t")
    assert err.value.problems[0].code == "duplicate"
    assert Household.objects.count() == 3


def test_the_command_reports_counts_and_refuses_bad_files(tmp_path, regions, capsys):
    directory = write_extract(tmp_path / "ok")
    call_command("registry", "load", str(directory), "--no-progress")
    assert "3 rumah tangga, 9 orang" in capsys.readouterr().out
    with pytest.raises(CommandError, match="nothing saved"):
        call_command("registry", "load", str(tmp_path / "missing"), "--no-progress")
