"""Every vendored region (idn-area-data) against the reference list ../shared/data/wilayah."""

from __future__ import annotations

import csv
import functools
from collections import Counter

import pytest

from tepat.regions.models import Region
from tepat.regions.services import RegionLoadReport

pytestmark = pytest.mark.django_db

REFERENCE_LEVELS = {
    "provinsi": "province",
    "kabupaten_kota": "regency",
    "kecamatan": "district",
    "desa_kelurahan": "village",
}
# The two publications spell a few dozen names differently ("Kep." for "Kepulauan", a stray
# full stop, "Jong - Jong" for "Jong-Jong"); codes, levels and parents must agree exactly.
MAX_NAME_DIFFERENCES = 100


@functools.cache
def _read_reference(path: str) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["kode"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def reference(shared_file) -> dict[str, dict[str, str]]:
    """The reference list; the tests skip, saying why, when ../shared is not beside the repo."""
    return _read_reference(shared_file("data", "wilayah", "wilayah.csv"))


@pytest.fixture
def loaded() -> dict[str, tuple[str, str, str, str | None]]:
    return {
        code: (dotted, name, level, parent)
        for code, dotted, name, level, parent in Region.objects.values_list(
            "code", "dotted_code", "name", "level", "parent_id"
        )
    }


def test_the_counts_per_level_match_the_reference(
    all_regions: RegionLoadReport, reference: dict[str, dict[str, str]]
):
    expected = Counter(REFERENCE_LEVELS[row["level"]] for row in reference.values())

    assert expected == {"province": 38, "regency": 514, "district": 7285, "village": 83762}
    assert all_regions.counts == dict(expected)


def test_every_code_matches_the_reference_with_its_level_and_parent(
    all_regions: RegionLoadReport, reference: dict[str, dict[str, str]], loaded
):
    assert set(loaded) == set(reference)
    wrong = [
        code
        for code, (dotted, _name, level, parent) in loaded.items()
        if (dotted, level, parent or "")
        != (
            reference[code]["kode_dotted"],
            REFERENCE_LEVELS[reference[code]["level"]],
            reference[code]["parent_kode"],
        )
    ]
    assert wrong == []


def test_names_match_the_reference_but_for_a_few_spellings(
    all_regions: RegionLoadReport, reference: dict[str, dict[str, str]], loaded
):
    differing = {
        code: (name, reference[code]["nama"])
        for code, (_dotted, name, _level, _parent) in loaded.items()
        if name != reference[code]["nama"]
    }

    assert len(differing) <= MAX_NAME_DIFFERENCES, sorted(differing.items())[:20]
    assert loaded["3273"][1] == reference["3273"]["nama"] == "Kota Bandung"
