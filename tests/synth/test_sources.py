from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.synth.helpers import read_csv

EXPECTED_KINDS = {
    "dukcapil": {"name_typo", "name_variant", "name_swap", "nik_typo", "birth_date_typo",
                 "stale_address", "duplicate", "deceased", "death_not_propagated",
                 "bad_nik_format", "bad_date", "bad_region"},
    "bpjs": {"nik_missing", "nik_typo", "name_typo", "name_variant", "name_swap",
             "birth_date_typo", "stale_address", "duplicate", "deceased", "bad_nik_format",
             "bad_date", "bad_region"},
    "survey": {"nik_missing", "nik_typo", "name_typo"},
    "asn_payroll": {"name_titles", "lives_outside_region"},
    "pln": {"customer_is_spouse", "customer_other_person", "customer_unknown", "nik_missing",
            "name_abbreviated", "name_typo", "stale_address"},
}  # fmt: skip
BAD = ("bad_nik_format", "bad_date", "bad_region")


@pytest.fixture(scope="module")
def records(bandung: tuple[Path, dict[str, Any]]) -> dict[str, dict[str, dict[str, str]]]:
    out, _ = bandung
    by_source: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for row in read_csv(out / "truth" / "records.csv"):
        by_source[row["source"]][row["source_record_id"]] = row
    return by_source


@pytest.mark.parametrize("source", sorted(EXPECTED_KINDS))
def test_the_truth_file_covers_every_source_row(
    bandung: tuple[Path, dict[str, Any]], records: dict[str, dict[str, dict[str, str]]], source: str
) -> None:
    out, manifest = bandung
    rows = read_csv(out / "sources" / f"{source}.csv")
    ids = [r["source_record_id"] for r in rows]
    assert len(ids) == len(set(ids)) == manifest["counts"][f"sources/{source}.csv"]
    assert set(ids) == set(records[source])
    keys = {r["person_key"] for r in read_csv(out / "truth" / "persons.csv")}
    assert {r["person_key"] for r in records[source].values()} - {""} <= keys


@pytest.mark.parametrize("source", sorted(EXPECTED_KINDS))
def test_each_source_has_its_kinds_of_corruption(
    records: dict[str, dict[str, dict[str, str]]], source: str
) -> None:
    kinds = {k for r in records[source].values() for k in r["corruptions"].split(";") if k}
    assert EXPECTED_KINDS[source] <= kinds
    clean = sum(not r["corruptions"] for r in records[source].values())
    if source in ("dukcapil", "bpjs"):
        assert clean / len(records[source]) > 0.75


@pytest.mark.parametrize("source", ["dukcapil", "bpjs", "pln"])
def test_bad_rows_are_a_small_fraction_and_look_bad(
    bandung: tuple[Path, dict[str, Any]], records: dict[str, dict[str, dict[str, str]]], source: str
) -> None:
    out, _ = bandung
    rows = {r["source_record_id"]: r for r in read_csv(out / "sources" / f"{source}.csv")}
    bad = [i for i, r in records[source].items() if any(b in r["corruptions"] for b in BAD)]
    assert 0 < len(bad) / len(rows) < 0.01
    for i in bad:
        kinds = records[source][i]["corruptions"]
        if "bad_nik_format" in kinds:
            assert "E+15" in rows[i]["NIK"]
        region = rows[i].get("KODE_DESA", rows[i].get("KD_DESA", ""))
        if "bad_region" in kinds:
            assert region.startswith("99")


def test_deaths_not_yet_propagated_are_alive_in_the_registry(
    bandung: tuple[Path, dict[str, Any]], records: dict[str, dict[str, dict[str, str]]]
) -> None:
    out, _ = bandung
    truth = {r["person_key"]: r for r in read_csv(out / "truth" / "persons.csv")}
    registry_niks = {r["nik"] for r in read_csv(out / "registry" / "persons.csv")}
    late = [r for r in records["dukcapil"].values() if "death_not_propagated" in r["corruptions"]]
    assert late
    for r in late:
        person = truth[r["person_key"]]
        assert person["alive"] == "0"
        assert person["deceased_on"]
        assert person["nik"] in registry_niks
    gone = [p for p in truth.values() if p["in_registry"] == "0" and p["alive"] == "0"]
    assert gone
    assert all(p["nik"] not in registry_niks for p in gone)


def test_clean_rows_agree_with_the_truth(
    bandung: tuple[Path, dict[str, Any]], records: dict[str, dict[str, dict[str, str]]]
) -> None:
    out, _ = bandung
    truth = {r["person_key"]: r for r in read_csv(out / "truth" / "persons.csv")}
    for row in read_csv(out / "sources" / "dukcapil.csv"):
        rec = records["dukcapil"][row["source_record_id"]]
        if rec["corruptions"] in ("", "deceased"):
            person = truth[rec["person_key"]]
            assert row["NIK"] == person["nik"]
            assert row["NAMA_LGKP"] == person["full_name"].upper()
