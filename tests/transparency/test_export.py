"""`transparency export`: Frictionless data packages that validate, with the dashboard's
suppression, and a masked recipient list with nothing finer than the village."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tepat.programs.models import Cycle
from tepat.transparency.models import OpenDataRelease
from tepat.transparency.services import aggregates_refresh, opendata_export
from tests.conftest import GEGERKALONG, PONDOK_RAJEG, SUKAASIH
from tests.transparency.builders import make_recipients

frictionless = pytest.importorskip("frictionless")
pytestmark = pytest.mark.django_db


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def release(published: Cycle, tmp_path: Path) -> OpenDataRelease:
    make_recipients(published, SUKAASIH, 1, names=["Siti Nurhaliza Rahmawati"])
    aggregates_refresh()
    return opendata_export(out=tmp_path)


def test_both_packages_validate_with_frictionless(release: OpenDataRelease) -> None:
    base = Path(release.directory)
    for name in ("tepat-agregat", "tepat-penerima-disamarkan"):
        report = frictionless.validate(str(base / name / "datapackage.json"))
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_the_descriptor_carries_a_table_schema_size_and_hash(release: OpenDataRelease) -> None:
    descriptor = json.loads(
        (Path(release.directory) / "tepat-agregat" / "datapackage.json").read_text()
    )
    resource = descriptor["resources"][0]
    assert descriptor["profile"] == "tabular-data-package"
    assert resource["hash"].startswith("sha256:")
    assert resource["bytes"] > 0
    assert [f["name"] for f in resource["schema"]["fields"]][:2] == ["kode_wilayah", "tingkat"]


def test_hidden_cells_are_empty_in_the_aggregates(release: OpenDataRelease) -> None:
    rows = _rows(Path(release.directory) / "tepat-agregat" / "agregat.csv")
    by_code = {r["kode_wilayah"]: r for r in rows}
    assert by_code[GEGERKALONG]["penerima"] == ""
    assert by_code[GEGERKALONG]["nilai_rupiah"] == ""
    assert by_code[""]["penerima"] == "57"
    assert by_code[""]["nama_wilayah"] == "Indonesia"
    small = [r for r in rows if r["penerima"] and 0 < int(r["penerima"]) < 10]
    assert small == []


def test_the_recipient_list_masks_names_and_has_no_identifiers(release: OpenDataRelease) -> None:
    path = Path(release.directory) / "tepat-penerima-disamarkan" / "penerima.csv"
    rows = _rows(path)
    assert set(rows[0]) == {
        "kode_desa",
        "nama_desa",
        "kode_program",
        "kode_tahap",
        "nama_disamarkan",
    }
    # Not the draft cycle's 30 households, nor Sukarasa and Gegerkalong, whose counts are hidden:
    # a list is a count too. Pondok Rajeg 12 + Sukaasih 16.
    assert len(rows) == 28
    assert {r["kode_desa"] for r in rows} == {PONDOK_RAJEG, SUKAASIH}
    text = path.read_text(encoding="utf-8")
    assert "Si** Nu******* Ra*******" in text
    assert "Nurhaliza" not in text
    assert "Warga Contoh" not in text


def test_the_release_is_recorded_with_file_sizes_and_digests(release: OpenDataRelease) -> None:
    files = [f for p in release.packages for f in p["files"]]
    assert {f["path"] for f in files} == {
        "tepat-agregat/agregat.csv",
        "tepat-agregat/datapackage.json",
        "tepat-penerima-disamarkan/penerima.csv",
        "tepat-penerima-disamarkan/datapackage.json",
    }
    assert all(len(f["sha256"]) == 64 for f in files if f["path"].endswith(".csv"))


def test_the_command_refreshes_and_exports(published: Cycle, tmp_path: Path, capsys) -> None:
    call_command("transparency", "export", "--out", str(tmp_path), "--refresh")
    out = capsys.readouterr().out
    assert "refreshed" in out
    assert "agregat.csv" in out
    assert OpenDataRelease.objects.count() == 1
