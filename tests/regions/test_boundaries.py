"""Importing boundary polygons from GeoJSON: joins, reports and refusals (small hand-made files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tepat.core.errors import TepatError, ValidationFailed
from tepat.regions.models import Region, RegionBoundary
from tepat.regions.services import regions_load_boundaries

pytestmark = pytest.mark.django_db


def _square(x: float = 107.6, y: float = -6.9) -> dict[str, Any]:
    ring = [[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _feature(code: str, geometry: Any = None, prop: str = "kode") -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {prop: code},
        "geometry": _square() if geometry is None else geometry,
    }


def _write(tmp_path: Path, features: list[Any], name: str = "b.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_it_reports_unmatched_codes_and_regions_left_without_a_boundary(
    west_java: dict[str, Region], tmp_path: Path
):
    path = _write(tmp_path, [_feature("32.73"), _feature("99.99")])

    report = regions_load_boundaries(path=path, level="regency", code_property="kode")

    assert report.created == 1
    assert report.unmatched == [(1, "99.99")]
    assert report.missing == ["3201"]
    assert list(RegionBoundary.objects.values_list("region_id", flat=True)) == ["3273"]


def test_strict_mode_refuses_a_file_with_unmatched_codes(
    west_java: dict[str, Region], tmp_path: Path
):
    path = _write(tmp_path, [_feature("32.73"), _feature("99.99")])

    with pytest.raises(ValidationFailed) as excinfo:
        regions_load_boundaries(path=path, level="regency", code_property="kode", strict=True)

    assert excinfo.value.problems[0].field == "features[1].properties.kode"
    assert "99.99" in excinfo.value.message
    assert not RegionBoundary.objects.exists()


def test_a_malformed_feature_refuses_the_whole_file_and_saves_nothing(
    west_java: dict[str, Region], tmp_path: Path
):
    path = _write(
        tmp_path,
        [
            _feature("3273"),
            _feature("3201", geometry={"type": "Point", "coordinates": [107.6, -6.9]}),
            {"type": "Feature", "properties": {"nama": "tanpa kode"}, "geometry": _square()},
        ],
    )

    with pytest.raises(ValidationFailed) as excinfo:
        regions_load_boundaries(path=path, level="regency", code_property="kode")

    fields = [p.field for p in excinfo.value.problems]
    assert fields == ["features[1].geometry", "features[2].properties.kode"]
    assert not RegionBoundary.objects.exists()


def test_a_file_that_is_not_json_is_refused_naming_the_file(
    west_java: dict[str, Region], tmp_path: Path
):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [')

    with pytest.raises(TepatError) as excinfo:
        regions_load_boundaries(path=path, level="regency", code_property="kode")

    assert excinfo.value.field == "file"
    assert "JSON" in excinfo.value.message
    assert not RegionBoundary.objects.exists()


def test_a_json_file_that_is_not_a_feature_collection_is_refused(
    west_java: dict[str, Region], tmp_path: Path
):
    path = tmp_path / "feature.geojson"
    path.write_text(json.dumps(_feature("3273")))

    with pytest.raises(ValidationFailed) as excinfo:
        regions_load_boundaries(path=path, level="regency", code_property="kode")

    assert excinfo.value.field == "type"


def test_a_code_of_the_wrong_length_for_the_level_is_refused(
    west_java: dict[str, Region], tmp_path: Path
):
    path = _write(tmp_path, [_feature("32")])

    with pytest.raises(ValidationFailed, match="4") as excinfo:
        regions_load_boundaries(path=path, level="regency", code_property="kode")

    assert excinfo.value.field == "features[0].properties.kode"


def test_a_code_given_twice_is_refused(west_java: dict[str, Region], tmp_path: Path):
    path = _write(tmp_path, [_feature("3273"), _feature("32.73")])

    with pytest.raises(ValidationFailed, match="feature 0"):
        regions_load_boundaries(path=path, level="regency", code_property="kode")

    assert not RegionBoundary.objects.exists()


def test_only_province_and_regency_boundaries_are_accepted(
    west_java: dict[str, Region], tmp_path: Path
):
    path = _write(tmp_path, [_feature("327301")])

    with pytest.raises(TepatError) as excinfo:
        regions_load_boundaries(path=path, level="district", code_property="kode")

    assert excinfo.value.field == "level"


def test_boundaries_cannot_be_loaded_before_the_regions(db: None, tmp_path: Path):
    path = _write(tmp_path, [_feature("3273")])

    with pytest.raises(TepatError, match="tepat regions load"):
        regions_load_boundaries(path=path, level="regency", code_property="kode")


def test_a_missing_file_is_refused_naming_the_file(west_java: dict[str, Region], tmp_path: Path):
    with pytest.raises(TepatError) as excinfo:
        regions_load_boundaries(
            path=tmp_path / "absent.geojson", level="regency", code_property="kode"
        )

    assert excinfo.value.field == "file"
