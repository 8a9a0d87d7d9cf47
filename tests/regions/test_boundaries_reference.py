"""Importing the reference boundary files (../shared/data/geo) over every Kemendagri region."""

from __future__ import annotations

import pytest

from tepat.regions.models import RegionBoundary
from tepat.regions.services import RegionLoadReport, regions_load_boundaries

pytestmark = pytest.mark.django_db

PROVINCES = ("data", "geo", "cahyadsn_provinsi_38_lite.geojson")
REGENCIES = ("data", "geo", "cahyadsn_kabkota_514_lite.geojson")


def test_every_regency_boundary_joins_on_its_dotted_code(
    all_regions: RegionLoadReport, shared_file
):
    report = regions_load_boundaries(
        path=shared_file(*REGENCIES), level="regency", code_property="kode"
    )

    assert (report.features, report.created, report.updated) == (514, 514, 0)
    assert report.unmatched == []
    assert report.missing == []
    bandung = RegionBoundary.objects.get(region_id="3273")
    assert bandung.geometry["type"] in {"Polygon", "MultiPolygon"}
    assert bandung.source == "cahyadsn_kabkota_514_lite.geojson"


def test_every_province_boundary_joins_on_its_undotted_code(
    all_regions: RegionLoadReport, shared_file
):
    report = regions_load_boundaries(
        path=shared_file(*PROVINCES), level="province", code_property="kode_bersih", source="BIG"
    )

    assert report.matched == 38
    assert report.missing == []
    assert RegionBoundary.objects.filter(region__level="province", source="BIG").count() == 38


def test_loading_the_same_file_twice_updates_instead_of_duplicating(
    all_regions: RegionLoadReport, shared_file
):
    regions_load_boundaries(path=shared_file(*PROVINCES), level="province", code_property="kode")

    report = regions_load_boundaries(
        path=shared_file(*PROVINCES), level="province", code_property="kode"
    )

    assert (report.created, report.updated) == (0, 38)
    assert RegionBoundary.objects.count() == 38
