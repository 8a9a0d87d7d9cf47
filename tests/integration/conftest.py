"""Integration's cast (copied from the registry's): regions of Kota Bandung and Kabupaten Bogor,
an operator of each, an auditor, and a small synthetic region built once per session."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tepat.accounts.models import RegionScope, Role, User
from tepat.regions.models import Level, Region

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
def auditor(regions: None) -> User:
    return _staff("auditor", Role.AUDITOR)


@pytest.fixture
def staff_client(client: Any) -> Callable[[User], Any]:
    from tepat.accounts.views import SESSION_VERIFIED

    def _login(user: User) -> Any:
        client.force_login(user)
        session = client.session
        session[SESSION_VERIFIED] = True
        session.save()
        return client

    return _login


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
