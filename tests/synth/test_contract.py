"""The files' columns are a contract with the registry loader and data integration."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tepat.synth.regions import UnknownRegionError
from tepat.synth.services import generate

REGISTRY_HOUSEHOLDS = [
    "kk", "village_code", "address", "rt", "rw", "floor_material", "wall_material",
    "roof_material", "floor_area_m2", "drinking_water", "toilet", "electricity", "electricity_va",
    "cooking_fuel", "owns_motorcycle", "owns_refrigerator", "owns_car", "owns_land",
    "land_area_m2", "livestock_count",
]  # fmt: skip
REGISTRY_PERSONS = [
    "nik", "kk", "full_name", "sex", "birth_date", "birth_place", "relationship",
    "marital_status", "education", "school_level", "work_sector", "disability", "pregnant",
    "phone", "bank_provider", "bank_account", "ewallet_provider", "ewallet_account",
    "deceased_on",
]  # fmt: skip


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def test_registry_files_have_the_agreed_columns(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = bandung
    assert _header(out / "registry" / "households.csv") == REGISTRY_HOUSEHOLDS
    assert _header(out / "registry" / "persons.csv") == REGISTRY_PERSONS
    assert manifest["columns"]["registry/persons.csv"] == REGISTRY_PERSONS


def test_truth_files_start_with_the_agreed_columns(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, _ = bandung
    assert _header(out / "truth" / "persons.csv")[:5] == [
        "person_key", "nik", "kk", "alive", "deceased_on",
    ]  # fmt: skip
    assert _header(out / "truth" / "households.csv")[:3] == ["kk", "consumption_pc", "poor"]
    assert _header(out / "truth" / "records.csv")[:3] == [
        "source",
        "source_record_id",
        "person_key",
    ]


def test_every_source_row_has_a_record_id_first(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = bandung
    for name in ("dukcapil", "bpjs", "survey", "asn_payroll", "pln"):
        assert _header(out / "sources" / f"{name}.csv")[0] == "source_record_id"
        assert manifest["counts"][f"sources/{name}.csv"] > 0


def test_the_manifest_describes_the_run(bandung: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = bandung
    assert manifest["schema_version"] == 1
    assert manifest["seed"] == 7
    assert manifest["region"]["code"] == "3273"
    assert (out / "manifest.json").exists()
    assert 0.085 < manifest["summary"]["poor_persons_share"] < 0.105


def test_it_rejects_an_unknown_or_too_small_region(tmp_path: Path) -> None:
    with pytest.raises(UnknownRegionError):
        generate(region_code="99", persons=100, seed=1, out_dir=tmp_path, progress=False)
    with pytest.raises(UnknownRegionError):
        generate(region_code="327301", persons=100, seed=1, out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="at least"):
        generate(region_code="3273", persons=5, seed=1, out_dir=tmp_path, progress=False)
