from __future__ import annotations

import hashlib
from pathlib import Path

from tepat.synth.services import generate


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    generate(region_code="32.73", persons=3000, seed=11, out_dir=tmp_path / "a", progress=False)
    generate(region_code="3273", persons=3000, seed=11, out_dir=tmp_path / "b", progress=False)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert len(a) == 13  # 11 + the community ranking and its truth (issue 19)
    assert a == b


def test_another_seed_writes_another_population(tmp_path: Path) -> None:
    generate(region_code="3273", persons=3000, seed=11, out_dir=tmp_path / "a", progress=False)
    generate(region_code="3273", persons=3000, seed=12, out_dir=tmp_path / "b", progress=False)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a["registry/persons.csv"] != b["registry/persons.csv"]


def test_the_registry_has_exactly_the_requested_number_of_persons(tmp_path: Path) -> None:
    manifest = generate(region_code="32", persons=2345, seed=1, out_dir=tmp_path, progress=False)
    assert manifest["counts"]["registry/persons.csv"] == 2345
    assert manifest["region"] == {"code": "32", "name": "Jawa Barat", "level": "province"}
