"""The targeting cast: the registry's staff and regions (copied from tests/registry/conftest.py),
a small survey written as CSV with a known consumption model, and a spec mapping it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tepat.accounts.models import RegionScope, Role, User
from tepat.regions.models import Level, Region
from tepat.registry.services import household_register

REGIONS = [
    ("32", "32", "Jawa Barat", Level.PROVINCE, None),
    ("3273", "32.73", "Kota Bandung", Level.REGENCY, "32"),
    ("327301", "32.73.01", "Sukasari", Level.DISTRICT, "3273"),
    ("3273011001", "32.73.01.1001", "Sukarasa", Level.VILLAGE, "327301"),
    ("3273011002", "32.73.01.1002", "Gegerkalong", Level.VILLAGE, "327301"),
    ("3201", "32.01", "Kabupaten Bogor", Level.REGENCY, "32"),
    ("320101", "32.01.01", "Cibinong", Level.DISTRICT, "3201"),
    ("3201011001", "32.01.01.1001", "Pondok Rajeg", Level.VILLAGE, "320101"),
]

BANDUNG_VILLAGE = "3273011001"
BOGOR_VILLAGE = "3201011001"


@pytest.fixture
def regions(db: Any) -> None:
    for code, dotted, name, level, parent in REGIONS:
        Region.objects.create(
            code=code, dotted_code=dotted, name=name, level=level, parent_id=parent
        )


def _staff(username: str, role: str, scopes: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(username=username, password="kata-sandi-panjang-1", role=role)
    for code in scopes:
        RegionScope.objects.create(user=user, region_code=code)
    return user


@pytest.fixture
def bandung_operator(regions: None) -> User:
    return _staff("op_bandung", Role.OPERATOR, ("3273",))


@pytest.fixture
def bogor_operator(regions: None) -> User:
    return _staff("op_bogor", Role.OPERATOR, ("3201",))


@pytest.fixture
def supervisor(regions: None) -> User:
    return _staff("spv_jabar", Role.SUPERVISOR, ("32",))


@pytest.fixture
def auditor(regions: None) -> User:
    return _staff("auditor", Role.AUDITOR)


@pytest.fixture
def field_agent(regions: None) -> User:
    return _staff("agen_sukarasa", Role.FIELD_AGENT, (BANDUNG_VILLAGE,))


@pytest.fixture
def unscoped_operator(regions: None) -> User:
    return _staff("op_tanpa_wilayah", Role.OPERATOR)


@pytest.fixture
def staff_client(client: Any) -> Callable[[User], Any]:
    """A test client signed in as `user`, past the TOTP step (the TOTP flow has its own tests)."""
    from tepat.accounts.views import SESSION_VERIFIED

    def _login(user: User) -> Any:
        client.force_login(user)
        session = client.session
        session[SESSION_VERIFIED] = True
        session.save()
        return client

    return _login


def make_members(
    *, district: str = "327301", head_name: str = "Asep Sunandar", serial: int = 1
) -> list[dict[str, Any]]:
    """A head (man born 1980-05-12), a wife (1984-02-03) and a schoolchild (2014-07-20)."""
    return [
        {
            "nik": f"{district}120580{serial:04d}",
            "full_name": head_name,
            "sex": "M",
            "birth_date": "1980-05-12",
            "birth_place": "Bandung",
            "relationship": "head",
            "marital_status": "married",
            "education": "sma",
            "work_sector": "trade",
            "phone": "081234567890",
        },
        {
            "nik": f"{district}430284{serial:04d}",
            "full_name": "Siti Nurhaliza",
            "sex": "F",
            "birth_date": "1984-02-03",
            "relationship": "spouse",
            "marital_status": "married",
            "education": "smp",
            "work_sector": "not_working",
            "pregnant": True,
        },
        {
            "nik": f"{district}200714{serial:04d}",
            "full_name": "Muhammad Rizki",
            "sex": "M",
            "birth_date": "2014-07-20",
            "relationship": "child",
            "marital_status": "single",
            "education": "sd",
            "school_level": "smp",
            "work_sector": "not_working",
        },
    ]


def make_household(*, village: str = BANDUNG_VILLAGE, serial: int = 1) -> dict[str, Any]:
    return {
        "kk": f"{village[:6]}150315{serial:04d}",
        "village_code": village,
        "address": "Jl. Setiabudi Gg. Melati No. 5",
        "rt": "003",
        "rw": "007",
        "floor_material": "cement",
        "wall_material": "brick",
        "roof_material": "roof_tile",
        "floor_area_m2": "36",
        "drinking_water": "bottled",
        "toilet": "private",
        "electricity": "pln_meter",
        "electricity_va": "900",
        "cooking_fuel": "lpg_3kg",
        "owns_motorcycle": "1",
        "owns_refrigerator": "0",
    }


@pytest.fixture
def bandung_household(regions: None) -> Any:
    return household_register(
        acting_user=None, source="test", household=make_household(), members=make_members()
    )


@pytest.fixture
def bogor_household(regions: None) -> Any:
    return household_register(
        acting_user=None,
        source="test",
        household=make_household(village=BOGOR_VILLAGE, serial=2),
        members=make_members(district="320101", head_name="Ujang Suryana", serial=2),
    )


TODAY = dt.date(2026, 11, 28)


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


@pytest.fixture
def admin_user(regions: None) -> User:
    return _staff("admin_pusat", Role.ADMIN)


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
