"""The one test cast, as STYLE.md asks: a handful of real Kemendagri regions (not the full 91k)
and the staff who work in them, each with a comment on what they can reach; a test client
signed in as any of them; the household payloads and the one way to build a paid household
through the real services. Every test folder uses these; an app's own conftest.py adds only what
is that app's (a survey file, the provider simulator, vouchers).

Only constants and helpers are imported from here by test modules (`from tests.conftest import
BANDUNG_VILLAGE, make_household`); the fixtures reach every test by name."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

SHARED = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


def shared_path(*parts: str) -> str:
    """A file under ../shared (reference data); tests using it skip when it is absent."""
    return os.path.join(SHARED, *parts)


@pytest.fixture
def shared_file():
    def _get(*parts: str) -> str:
        path = shared_path(*parts)
        if not os.path.exists(path):
            pytest.skip(
                f"reference file {path} is absent (../shared is not checked out beside the repo)"
            )
        return path

    return _get


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (Bahasa Indonesia): a test that switches to
    English (a view with ?lang=en, translation.activate) must not change the next test's
    messages on the same worker thread."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def _ledger_state_root(tmp_path_factory):
    return tmp_path_factory.mktemp("ledger-state")


@pytest.fixture(autouse=True)
def _ledger_state_dir(_ledger_state_root, request, settings):
    """Each test gets its own ledger anchor folder (the last checkpoint the sequencer signed,
    kept outside the database): the test database starts empty for every test, which to the
    sequencer would look like a log whose signed history was removed."""
    settings.LEDGER_STATE_DIR = str(_ledger_state_root / f"t{id(request.node)}")


# --- Regions -------------------------------------------------------------------------------------
# (code, dotted code, name, level, parent): two provinces with regencies down to villages. Only
# these two provinces exist (the transparency map draws exactly their two shapes).
REGIONS = [
    ("32", "32", "Jawa Barat", "province", None),
    ("3273", "32.73", "Kota Bandung", "regency", "32"),
    ("327301", "32.73.01", "Sukasari", "district", "3273"),
    ("3273011001", "32.73.01.1001", "Sukarasa", "village", "327301"),
    ("3273011002", "32.73.01.1002", "Gegerkalong", "village", "327301"),
    ("3201", "32.01", "Kabupaten Bogor", "regency", "32"),
    ("320101", "32.01.01", "Cibinong", "district", "3201"),
    ("3201011001", "32.01.01.1001", "Pondok Rajeg", "village", "320101"),
    ("36", "36", "Banten", "province", None),
    ("3671", "36.71", "Kota Tangerang", "regency", "36"),
    ("367101", "36.71.01", "Tangerang", "district", "3671"),
    ("3671011001", "36.71.01.1001", "Sukaasih", "village", "367101"),
]
SUKARASA, GEGERKALONG, PONDOK_RAJEG, SUKAASIH = (
    "3273011001",
    "3273011002",
    "3201011001",
    "3671011001",
)
BANDUNG_VILLAGE = SUKARASA  # where the cast's households live unless a test says otherwise
BOGOR_VILLAGE = PONDOK_RAJEG


@pytest.fixture
def regions(db: Any) -> None:
    from tepat.regions.models import Region

    for code, dotted, name, level, parent in REGIONS:
        Region.objects.create(
            code=code, dotted_code=dotted, name=name, level=level, parent_id=parent
        )


# --- Staff ---------------------------------------------------------------------------------------
PASSWORD = "kata-sandi-panjang-1"  # every cast member's password
OPERATOR_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the TOTP secret `operator` enrolled


def make_staff(username: str, role: str, scopes: Iterable[str] = ()) -> Any:
    """A member of staff with `scopes` (region codes), written straight into the tables (the
    accounts service has its own tests) and without TOTP: tests sign in with `staff_client`."""
    from tepat.accounts.models import RegionScope, User

    user = User.objects.create_user(username=username, password=PASSWORD, role=role)
    for code in scopes:
        RegionScope.objects.create(user=user, region_code=code)
    return user


def _enrolled(username: str, role: str, scopes: Sequence[str], totp_secret: str | None) -> Any:
    """A member of staff created by the accounts service, as `tepat staff create` does."""
    from tepat.accounts import services

    return services.user_create(
        acting_user=None, username=username, password=PASSWORD, role=role,
        region_codes=scopes, totp_secret=totp_secret,
    )  # fmt: skip


@pytest.fixture
def admin_user(regions: None) -> Any:
    """Everything, everywhere: staff accounts, programmes, the Django admin (staff and superuser,
    made by the accounts service); never region-scoped."""
    return _enrolled("admin_pusat", "admin", (), None)


@pytest.fixture
def bandung_operator(regions: None) -> Any:
    """Kota Bandung (3273) and everything below it: registers, edits, computes and issues."""
    return make_staff("op_bandung", "operator", ("3273",))


@pytest.fixture
def second_bandung_operator(regions: None) -> Any:
    """Kota Bandung as well: a second pair of hands in the same office (maker and checker)."""
    return make_staff("op_bandung_2", "operator", ("3273",))


@pytest.fixture
def operator(regions: None) -> Any:
    """Kota Bandung, with TOTP enrolled (OPERATOR_SECRET): the one who signs in through the real
    log-in pages (the accounts tests)."""
    return _enrolled("operator.bandung", "operator", ("3273",), OPERATOR_SECRET)


@pytest.fixture
def bogor_operator(regions: None) -> Any:
    """Kabupaten Bogor (3201) only: nothing in Kota Bandung."""
    return make_staff("op_bogor", "operator", ("3201",))


@pytest.fixture
def banten_operator(regions: None) -> Any:
    """Banten (36) only: nothing in Jawa Barat."""
    return make_staff("op_banten", "operator", ("36",))


@pytest.fixture
def unscoped_operator(regions: None) -> Any:
    """An operator with no region at all: sees and changes nothing."""
    return make_staff("op_tanpa_wilayah", "operator")


@pytest.fixture
def supervisor(regions: None) -> Any:
    """Jawa Barat (32): reads everything there and approves what an operator made."""
    return make_staff("spv_jabar", "supervisor", ("32",))


@pytest.fixture
def second_supervisor(regions: None) -> Any:
    """Jawa Barat as well: a second checker."""
    return make_staff("spv_kedua", "supervisor", ("32",))


@pytest.fixture
def new_supervisor(regions: None) -> Any:
    """Jawa Barat, just created by the accounts service and not yet enrolled in TOTP: the first
    log-in walks through enrolment."""
    return _enrolled("supervisor.jabar", "supervisor", ("32",), None)


@pytest.fixture
def auditor(regions: None) -> Any:
    """Reads everywhere (no scope), changes nothing."""
    return make_staff("auditor", "auditor")


@pytest.fixture
def dpo(regions: None) -> Any:
    """The data protection officer (PPDP): requests, incidents and the audit trail, everywhere."""
    return make_staff("ppdp", "dpo")


@pytest.fixture
def field_agent(regions: None) -> Any:
    """One village, Sukarasa: the field app's day list, handovers and visits there."""
    return make_staff("agen_sukarasa", "field_agent", (SUKARASA,))


def signed_in(client: Any, user: Any) -> Any:
    """`client` signed in as `user`, past the TOTP step (the TOTP flow has its own tests)."""
    from tepat.accounts.views import SESSION_VERIFIED

    client.force_login(user)
    session = client.session
    session[SESSION_VERIFIED] = True
    session.save()
    return client


@pytest.fixture
def staff_client(client: Any) -> Callable[[Any], Any]:
    """The test's client signed in as `user` (a second call signs the same client in again)."""
    return lambda user: signed_in(client, user)


@pytest.fixture
def login() -> Callable[[Any], Any]:
    """A fresh client signed in as `user`: one per member of staff, so a maker and a checker act
    side by side."""
    from django.test import Client

    return lambda user: signed_in(Client(), user)


# --- Households ----------------------------------------------------------------------------------
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


def register_household(
    serial: int,
    *,
    village: str = BANDUNG_VILLAGE,
    members: list[dict[str, Any]] | None = None,
    bank: str | None = "BRI",
    account: str | None = None,
) -> Any:
    """A household registered through the registry service, its head with a `bank` account
    (none when `bank` is None) so that a cycle can pay it."""
    from tepat.registry.services import financial_address_set, household_register

    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[serial % 26]
    hh = household_register(
        acting_user=None, source="test",
        household=make_household(village=village, serial=serial),
        members=members or make_members(district=village[:6], serial=serial, head_name="Kepala " + letter),
    )  # fmt: skip
    if bank:
        head = hh.members.get(relationship="head")
        financial_address_set(
            acting_user=None, person=head, kind="bank", provider=bank,
            account=account or f"{1000000000 + serial}", source="test",
        )  # fmt: skip
    return hh


@pytest.fixture
def bandung_household(regions: None) -> Any:
    """Asep Sunandar's family in Sukarasa (Kota Bandung), no bank account."""
    from tepat.registry.services import household_register

    return household_register(
        acting_user=None, source="test", household=make_household(), members=make_members()
    )


@pytest.fixture
def bogor_household(regions: None) -> Any:
    """Ujang Suryana's family in Pondok Rajeg (Kabupaten Bogor), no bank account."""
    from tepat.registry.services import household_register

    return household_register(
        acting_user=None,
        source="test",
        household=make_household(village=BOGOR_VILLAGE, serial=2),
        members=make_members(district="320101", head_name="Ujang Suryana", serial=2),
    )


# --- A paid household ----------------------------------------------------------------------------
def succeeded(claimed: Sequence[Any]) -> list[Any]:
    """The provider's answer when it paid every claimed payment in full."""
    from tepat.payments.providers import Outcome

    return [Outcome(c.key, "succ", amount=c.amount) for c in claimed]


def pay(
    *,
    operator: Any,
    supervisor: Any | None = None,
    cycle: Any | None = None,
    admin: Any | None = None,
    households: Sequence[Any] = (),
    desil: dict[int, int] | None = None,
    adapter: Any | None = None,
    worker_config: Any | None = None,
    answer: Callable[[Sequence[Any]], list[Any]] = succeeded,
) -> Any:
    """The one way to a paid household, through the real services: a PKH-2026 programme (made by
    `admin`) and its 2026-T1 cycle, unless `cycle` is given; the entitlements computed for
    `households` (desil 1, 2, ... in order, or `desil`), submitted by `operator` and approved by
    `supervisor` (skipped for a cycle already approved); the payments issued; then paid as the
    worker pays them: with `adapter` (e.g. G2PConnectAdapter on the provider simulator) one real
    worker pass, else the worker's claim and record steps with the provider's `answer`.
    Returns the cycle as it now stands."""
    from tepat.payments import services as payments
    from tepat.payments import worker
    from tepat.programs import services as programs

    if cycle is None:
        programme = programs.programme_create(
            acting_user=admin, code="PKH-2026", name="Program Keluarga Harapan", kind="pkh",
            eligibility_rule="desil <= 4", effective_from=dt.date(2026, 1, 1),
            effective_to=dt.date(2026, 12, 31), params={},
        )  # fmt: skip
        cycle = programs.cycle_create(
            acting_user=operator, programme=programme, code="2026-T1", instalment=1,
            period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
            control_count=100, control_amount=10**9,
        )  # fmt: skip
    if cycle.state != "approved":
        if desil is None:
            desil = {h.pk: 1 + i for i, h in enumerate(households)}
        programs.cycle_compute(acting_user=operator, cycle=cycle, desil=desil)
        programs.cycle_submit(acting_user=operator, cycle=cycle)
        programs.cycle_approve(acting_user=supervisor, cycle=cycle)
    payments.payments_issue(acting_user=operator, cycle=cycle)
    if adapter is not None:
        worker.run(adapter=adapter, config=worker_config or worker.WorkerConfig(), once=True)
    else:
        claimed = payments.payments_claim(worker="w1", batch=100, lease_s=60)
        payments.payments_record(worker="w1", claimed=claimed, outcomes=answer(claimed))
    cycle.refresh_from_db()
    return cycle
