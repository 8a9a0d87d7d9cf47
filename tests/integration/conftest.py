"""Integration's fixtures (the regions and staff are tests/conftest.py's): the built-in sources and
a small synthetic region built once per session."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tepat.regions.models import Level, Region


@pytest.fixture
def sources(regions: None) -> None:
    from tepat.integration.services import sources_ensure_builtin

    sources_ensure_builtin()


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tepat.synth.services import generate

    out = tmp_path_factory.mktemp("synth")
    generate(region_code="3273", persons=1200, seed=7, out_dir=out, progress=False)
    return out


@pytest.fixture
def synth_regions(db: Any, synth_dir: Path) -> None:
    """The Region rows the synthetic files refer to (not the full 91k Kemendagri table)."""
    villages: set[str] = set()
    with (synth_dir / "registry" / "households.csv").open(encoding="utf-8") as fh:
        villages |= {row["village_code"] for row in csv.DictReader(fh)}
    Region.objects.create(code="32", dotted_code="32", name="Jawa Barat", level=Level.PROVINCE)
    Region.objects.create(
        code="3273", dotted_code="32.73", name="Kota Bandung", level=Level.REGENCY, parent_id="32"
    )
    for d in sorted({v[:6] for v in villages}):
        Region.objects.create(
            code=d, dotted_code=d, name=f"Kec {d}", level=Level.DISTRICT, parent_id="3273"
        )
    for v in sorted(villages):
        Region.objects.create(
            code=v, dotted_code=v, name=f"Desa {v}", level=Level.VILLAGE, parent_id=v[:6]
        )
