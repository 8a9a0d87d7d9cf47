"""Loading the vendored Kemendagri code list."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from tepat.core.errors import TepatError
from tepat.core.models import AuditEvent
from tepat.regions.models import Region
from tepat.regions.services import (
    DATA_FILE,
    RegionLoadReport,
    read_region_rows,
    regions_load,
    regions_load_detailed,
)

pytestmark = pytest.mark.django_db

EXPECTED_COUNTS = {"province": 38, "regency": 514, "district": 7285, "village": 83762}


def test_the_first_load_creates_every_region_at_every_level(all_regions: RegionLoadReport):
    assert all_regions.counts == EXPECTED_COUNTS
    assert all_regions.created == 91599
    assert all_regions.updated == 0
    # Its time is reported (benchmarks/bench_regions_load.py measures it), not asserted: a
    # timed test fails on a busy shared machine without anything being wrong.
    assert all_regions.seconds > 0


def test_a_second_load_changes_nothing(all_regions: RegionLoadReport):
    audits_before = AuditEvent.objects.filter(action="regions.load").count()

    report = regions_load_detailed()

    assert report.counts == EXPECTED_COUNTS
    assert (report.created, report.updated, report.unchanged) == (0, 0, 91599)
    assert AuditEvent.objects.filter(action="regions.load").count() == audits_before


def test_regions_load_returns_the_count_per_level(all_regions: RegionLoadReport):
    assert regions_load() == EXPECTED_COUNTS


def test_a_reload_restores_a_renamed_region_and_records_an_audit_event(
    all_regions: RegionLoadReport,
):
    Region.objects.filter(code="3273").update(name="Kota Kembang")

    report = regions_load_detailed()

    assert (report.created, report.updated) == (0, 1)
    assert Region.objects.get(code="3273").name == "Kota Bandung"
    event = AuditEvent.objects.filter(action="regions.load").latest("id")
    assert event.detail["updated"] == 1


def test_a_reload_recreates_a_deleted_region_with_its_parent(all_regions: RegionLoadReport):
    Region.objects.filter(code="3273011001").delete()

    report = regions_load_detailed()

    assert (report.created, report.updated) == (1, 0)
    village = Region.objects.get(code="3273011001")
    assert (village.name, village.parent_id, village.dotted_code) == (
        "Sukarasa",
        "327301",
        "32.73.01.1001",
    )


def test_a_reload_keeps_a_region_that_left_the_list(all_regions: RegionLoadReport):
    Region.objects.create(
        code="3273019999",
        dotted_code="32.73.01.9999",
        name="Lama",
        level="village",
        parent_id="327301",
    )

    regions_load_detailed()

    assert Region.objects.filter(code="3273019999").exists()


def test_every_region_points_at_an_existing_parent_one_level_up(all_regions: RegionLoadReport):
    lengths = {"province": 2, "regency": 4, "district": 6, "village": 10}
    codes = set(Region.objects.values_list("code", flat=True))
    for code, level, parent in Region.objects.values_list("code", "level", "parent_id"):
        assert len(code) == lengths[level]
        if level == "province":
            assert parent is None
        else:
            assert parent in codes
            assert code.startswith(parent)


def test_the_vendored_file_has_the_published_row_count():
    assert sum(1 for _ in read_region_rows()) == 91599


def test_a_damaged_data_file_is_refused_before_anything_is_written(tmp_path: Path):
    damaged = tmp_path / "wilayah.csv.gz"
    with gzip.open(DATA_FILE, "rt", encoding="utf-8", newline="") as src:
        rows = list(csv.reader(src))[:100]
    rows[50][3] = "province"  # a village code claiming to be a province
    with gzip.open(damaged, "wt", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    before = Region.objects.count()

    with pytest.raises(TepatError) as excinfo:
        regions_load_detailed(path=damaged)

    assert excinfo.value.row == 51
    assert excinfo.value.field == "code"
    assert Region.objects.count() == before


def test_a_data_file_with_the_wrong_header_is_refused(tmp_path: Path):
    damaged = tmp_path / "wilayah.csv.gz"
    with gzip.open(damaged, "wt", encoding="utf-8") as out:
        out.write("kode,nama\n11,Aceh\n")

    with pytest.raises(TepatError, match="header"):
        regions_load_detailed(path=damaged)
