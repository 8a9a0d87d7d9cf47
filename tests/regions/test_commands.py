"""`tepat regions load` and `tepat regions load-boundaries` on the command line."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tepat.regions.models import Region, RegionBoundary
from tepat.regions.services import RegionLoadReport

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("regions", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _square() -> dict[str, object]:
    ring = [[107.6, -6.9], [107.7, -6.9], [107.7, -6.8], [107.6, -6.8], [107.6, -6.9]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_load_prints_the_count_per_level(all_regions: RegionLoadReport):
    output = _run("load", "--no-progress")

    assert "Provinsi (province): 38" in output
    assert "Kabupaten/Kota (regency): 514" in output
    assert "Kecamatan (district): 7,285" in output
    assert "Desa/Kelurahan (village): 83,762" in output
    assert "91,599" in output


def test_a_second_load_reports_nothing_new(all_regions: RegionLoadReport):
    output = _run("load", "--no-progress")

    assert "baru 0, diperbarui 0, tetap 91,599" in output


def test_load_boundaries_reports_unmatched_and_missing_codes(
    all_regions: RegionLoadReport, tmp_path: Path
):
    path = tmp_path / "two.geojson"
    features = [
        {"type": "Feature", "properties": {"kode": code}, "geometry": _square()}
        for code in ("32.73", "99.99")
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    output = _run("load-boundaries", str(path), "--level", "regency", "--code-property", "kode")

    assert "2 fitur; cocok 1" in output
    assert "#1: 99.99" in output
    assert "regions without a boundary: 1101 Kabupaten Aceh Selatan" in output
    assert "and 493 more" in output  # 513 missing, 20 named
    assert list(RegionBoundary.objects.values_list("region_id", flat=True)) == ["3273"]


def test_load_boundaries_with_the_reference_file_matches_every_province(
    all_regions: RegionLoadReport, shared_file
):
    output = _run(
        "load-boundaries",
        shared_file("data", "geo", "cahyadsn_provinsi_38_lite.geojson"),
        "--level",
        "province",
        "--code-property",
        "kode",
    )

    assert "38 fitur; cocok 38 (baru 38" in output
    assert "every region has a boundary" in output


def test_a_malformed_file_fails_naming_the_feature_and_saves_nothing(
    all_regions: RegionLoadReport, tmp_path: Path
):
    path = tmp_path / "bad.geojson"
    features = [
        {"type": "Feature", "properties": {"kode": "32.73"}, "geometry": _square()},
        {"type": "Feature", "properties": {"kode": "32.01"}, "geometry": None},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    with pytest.raises(CommandError) as excinfo:
        _run("load-boundaries", str(path), "--level", "regency", "--code-property", "kode")

    assert "features[1].geometry" in str(excinfo.value)
    assert "tidak ada yang disimpan / file refused, nothing was saved" in str(excinfo.value)
    assert not RegionBoundary.objects.exists()


def test_strict_load_boundaries_refuses_unknown_region_codes(
    all_regions: RegionLoadReport, tmp_path: Path
):
    path = tmp_path / "unknown.geojson"
    features = [{"type": "Feature", "properties": {"kode": "9999"}, "geometry": _square()}]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    with pytest.raises(CommandError, match="unknown region code: 9999"):
        _run(
            "load-boundaries",
            str(path),
            "--level",
            "regency",
            "--code-property",
            "kode",
            "--strict",
        )

    assert not RegionBoundary.objects.exists()


def test_a_missing_file_is_a_clear_error(all_regions: RegionLoadReport, tmp_path: Path):
    with pytest.raises(CommandError, match="file cannot be read"):
        _run(
            "load-boundaries",
            str(tmp_path / "absent.geojson"),
            "--level",
            "regency",
            "--code-property",
            "kode",
        )


def test_an_unsupported_level_is_refused_by_the_parser(all_regions: RegionLoadReport):
    with pytest.raises(CommandError, match="invalid choice"):
        _run("load-boundaries", "x.geojson", "--level", "village", "--code-property", "kode")


def test_load_restores_a_renamed_region(all_regions: RegionLoadReport):
    Region.objects.filter(code="32").update(name="Jabar")

    output = _run("load", "--no-progress")

    assert "diperbarui 1" in output
    assert Region.objects.get(code="32").name == "Jawa Barat"
