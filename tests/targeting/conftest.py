"""Targeting's fixtures (the staff, regions and households are tests/conftest.py's): a small survey
written as CSV with a known consumption model, a spec mapping it, and households with varied
housing."""

from __future__ import annotations

from typing import Any

import pytest

from tepat.registry.services import household_register
from tests.conftest import BANDUNG_VILLAGE, make_household, make_members

SPEC = """
[survey]
consumption = "KAPITA"
weight = "W"
area = "KEC"

[model]
method = "ols"
folds = 4
coverage = 0.4

[proxies]
floor_material = { column = "LANTAI", kind = "categorical" }
floor_area_m2 = { column = "LUAS", kind = "numeric", log = true }
owns_motorcycle = { column = "MOTOR", kind = "numeric" }
household_size = { column = "ART", kind = "numeric", log = true }
"""

FLOOR_EFFECT = {"ceramic": 0.3, "cement": 0.0, "earth": -0.35}


def write_survey(path: Any, n: int = 600, seed: int = 7, bad_rows: int = 0) -> Any:
    """A survey where log consumption = 13.5 + floor + 0.25 log1p(area) + 0.2 motor - 0.3 log1p(size)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    floors = np.array(list(FLOOR_EFFECT))[rng.integers(0, 3, n)]
    area = rng.integers(12, 150, n)
    motor = rng.integers(0, 2, n)
    size = rng.integers(1, 8, n)
    kec = np.array(["327301", "320101", "327302", "320102"])[rng.integers(0, 4, n)]
    logc = (
        13.5
        + np.array([FLOOR_EFFECT[f] for f in floors])
        + 0.25 * np.log1p(area)
        + 0.2 * motor
        - 0.3 * np.log1p(size)
        + rng.normal(0, 0.15, n)
    )
    lines = ["KAPITA,W,KEC,LANTAI,LUAS,MOTOR,ART"]
    for i in range(n):
        cons = str(round(float(np.exp(logc[i])))) if i >= bad_rows else ""
        lines.append(f"{cons},{1 + i % 3},{kec[i]},{floors[i]},{area[i]},{motor[i]},{size[i]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def survey_csv(tmp_path: Any) -> Any:
    return write_survey(tmp_path / "survey.csv")


@pytest.fixture
def spec_toml(tmp_path: Any) -> Any:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


NAMES = ("Asep", "Ujang", "Dedi", "Yayan", "Cecep", "Iis", "Entin", "Euis", "Aceng", "Oman")


def register_households(count: int, *, village: str = BANDUNG_VILLAGE, start: int = 1) -> list[Any]:
    """`count` households with varied housing, so scores and desil differ."""
    floors = ["earth", "cement", "ceramic"]
    out = []
    for i in range(start, start + count):
        h = make_household(village=village, serial=i)
        h["floor_material"] = floors[i % 3]
        h["floor_area_m2"] = str(15 + 9 * i)
        h["owns_motorcycle"] = str(i % 2)
        district = village[:6]
        out.append(
            household_register(
                acting_user=None,
                source="test",
                household=h,
                members=make_members(
                    district=district, serial=i, head_name=f"Kepala {NAMES[i % len(NAMES)]}"
                )[: 1 + i % 3],
            )
        )
    return out
