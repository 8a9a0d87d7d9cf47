from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def test_it_rejects_an_unknown_region(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="unknown region"):
        call_command("synth", "--region", "99.99", "--persons", "100", "--out", str(tmp_path))


def test_it_writes_a_region_with_a_manifest(tmp_path: Path) -> None:
    call_command(
        "synth", "--region", "32.73", "--persons", "2000", "--seed", "3",
        "--out", str(tmp_path), "--no-progress",
    )  # fmt: skip
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["region"]["name"] == "Kota Bandung"
    assert manifest["counts"]["registry/persons.csv"] == 2000
    for name in ("dukcapil", "bpjs", "survey", "asn_payroll", "pln"):
        assert (tmp_path / "sources" / f"{name}.csv").exists()
