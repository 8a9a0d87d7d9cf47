"""One synthetic region of 20,000 persons (Kota Bandung), generated once for the module tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tepat.synth.services import generate
from tests.synth.helpers import PERSONS


@pytest.fixture(scope="session")
def bandung(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("synth") / "3273"
    manifest = generate(region_code="3273", persons=PERSONS, seed=7, out_dir=out, progress=False)
    return out, manifest
