"""Attacks tried: approving money one made oneself, by the back door.

- a supervisor writes a programme's rule (or changes its amounts) and then approves a cycle
  computed from it;
- a supervisor sets a cycle's control totals, lets an operator compute and submit it, and
  approves it;
- a supervisor computes a cycle, an operator recomputes and submits it, and the first one
  approves (the last computer used to be the only "maker");
- an admin who has just created or changed staff accounts approves a cycle (separation of
  duties: account management and money approval are not held together for TEPAT_SOD_DAYS);
- an admin makes a cycle, mints a second admin account (or widens a supervisor's scope) and
  approves with it.

Each approval is refused with PermissionDenied naming maker-checker or separation of duties, and
someone independent can still approve.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tepat.accounts import duties
from tepat.accounts import services as accounts
from tepat.core.errors import PermissionDenied
from tepat.core.models import AuditEvent
from tepat.programs import services
from tepat.programs.models import Cycle, CycleState
from tests.programs.conftest import *  # noqa: F403 - the programmes' cast
from tests.programs.conftest import PERIOD

pytestmark = pytest.mark.django_db


def _cycle(maker: Any, programme: Any, *, code: str = "T1", region: str | None = None) -> Cycle:
    return services.cycle_create(
        acting_user=maker, programme=programme, code=code, instalment=1,
        period_start=PERIOD[0], period_end=PERIOD[1], control_count=100,
        control_amount=10**9, region_code=region,
    )  # fmt: skip


def _prepare(cycle: Cycle, operator: Any, desil: dict[int, int]) -> Cycle:
    services.cycle_compute(acting_user=operator, cycle=cycle, desil=desil)
    return services.cycle_submit(acting_user=operator, cycle=cycle)


def _refused(approver: Any, cycle: Cycle, words: str) -> None:
    with pytest.raises(PermissionDenied) as exc:
        services.cycle_approve(acting_user=approver, cycle=cycle)
    assert words in exc.value.message
    cycle.refresh_from_db()
    assert cycle.state == CycleState.TO_APPROVE


def _approved(approver: Any, cycle: Cycle) -> None:
    services.cycle_approve(acting_user=approver, cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.APPROVED


def test_the_author_of_a_programmes_rule_cannot_approve_a_cycle_computed_from_it(
    supervisor, second_supervisor, bandung_operator, desil_of
):
    prog = services.programme_create(
        acting_user=supervisor, code="PKH-AUTHOR", name="PKH", kind="pkh",
        eligibility_rule="desil <= 4", effective_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    cycle = _prepare(_cycle(bandung_operator, prog), bandung_operator, desil_of)
    _refused(supervisor, cycle, "maker-checker")
    _approved(second_supervisor, cycle)


def test_whoever_changed_a_programmes_amounts_cannot_approve_its_cycles(
    make_programme, supervisor, second_supervisor, bandung_operator, desil_of, staff_client
):
    prog = make_programme()  # written by the admin
    r = staff_client(supervisor).patch(
        f"/api/programs/{prog.public_id}", {"params": {"annual": {"pregnant": 3_500_000}}},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["params"]["annual"]["pregnant"] == 3_500_000
    assert AuditEvent.objects.filter(action="programme.update", actor=supervisor).exists()
    cycle = _prepare(_cycle(bandung_operator, prog), bandung_operator, desil_of)
    _refused(supervisor, cycle, "maker-checker")
    _approved(second_supervisor, cycle)


def test_a_programme_is_not_changed_under_a_computed_cycle(
    computed_cycle, supervisor, staff_client
):
    r = staff_client(supervisor).patch(
        f"/api/programs/{computed_cycle.programme.public_id}", {"eligibility_rule": "desil <= 10"},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 400
    assert r.json()["code"] == "programme_in_use"


def test_whoever_set_a_cycles_control_totals_cannot_approve_it(
    make_programme, supervisor, second_supervisor, bandung_operator, desil_of
):
    cycle = _cycle(supervisor, make_programme(), region="3273")
    assert cycle.created_by == supervisor
    _prepare(cycle, bandung_operator, desil_of)
    _refused(supervisor, cycle, "maker-checker")
    _approved(second_supervisor, cycle)


def test_an_earlier_computer_stays_a_maker_after_someone_else_recomputes(
    make_programme, make_cycle, supervisor, second_supervisor, bandung_operator, desil_of
):
    cycle = make_cycle(make_programme())
    services.cycle_compute(acting_user=supervisor, cycle=cycle, desil=desil_of)
    _prepare(cycle, bandung_operator, desil_of)  # recomputed and submitted by the operator
    _refused(supervisor, cycle, "maker-checker")
    _approved(second_supervisor, cycle)


def test_an_admin_who_managed_staff_accounts_this_month_cannot_approve_money(
    make_programme, make_cycle, admin_user, bandung_operator, desil_of, regions, monkeypatch
):
    cycle = _prepare(make_cycle(make_programme()), bandung_operator, desil_of)
    # The programme's author is admin_pusat: a second, independent admin approves here.
    other_admin = accounts.user_create(
        acting_user=None, username="admin_kedua", password="kata-sandi-panjang-2", role="admin"
    )
    accounts.user_create(
        acting_user=other_admin, username="petugas_baru", password="kata-sandi-panjang-3",
        role="field_agent", region_codes=["3273011001"],
    )  # fmt: skip
    _refused(other_admin, cycle, "separation of duties")
    # Once TEPAT_SOD_DAYS (30) have passed since the change, the admin may approve again.
    later = timezone.now() + dt.timedelta(days=31)
    monkeypatch.setattr(duties, "_now", lambda: later)
    _approved(other_admin, cycle)


def test_the_separation_of_duties_period_is_a_setting(
    make_programme, make_cycle, bandung_operator, desil_of, regions, settings, monkeypatch
):
    settings.TEPAT_SOD_DAYS = 90
    cycle = _prepare(make_cycle(make_programme()), bandung_operator, desil_of)
    admin = accounts.user_create(
        acting_user=None, username="admin_kedua", password="kata-sandi-panjang-2", role="admin"
    )
    scoped = accounts.user_create(
        acting_user=None, username="op_baru", password="kata-sandi-panjang-3",
        role="operator", region_codes=["3273"],
    )  # fmt: skip
    accounts.user_scope_set(acting_user=admin, user=scoped, region_codes=["3273", "3201"])
    later = timezone.now() + dt.timedelta(days=60)
    monkeypatch.setattr(duties, "_now", lambda: later)
    _refused(admin, cycle, "separation of duties")


def test_an_admin_cannot_mint_a_second_account_to_approve_their_own_cycle(
    make_programme, admin_user, regions, households, desil_of
):
    maker = accounts.user_create(
        acting_user=None, username="admin_pembuat", password="kata-sandi-panjang-2", role="admin"
    )
    cycle = _cycle(maker, make_programme())  # a national cycle: the maker is an admin
    _prepare(cycle, maker, desil_of)
    puppet = accounts.user_create(
        acting_user=maker, username="admin_boneka", password="kata-sandi-panjang-3", role="admin"
    )
    _refused(puppet, cycle, "maker-checker")


def test_a_supervisor_whose_scope_a_maker_widened_cannot_approve_that_makers_cycle(
    make_programme, regions, households, desil_of
):
    maker = accounts.user_create(
        acting_user=None, username="admin_pembuat", password="kata-sandi-panjang-2", role="admin"
    )
    checker = accounts.user_create(
        acting_user=None, username="spv_bogor", password="kata-sandi-panjang-3",
        role="supervisor", region_codes=["3201"],
    )  # fmt: skip
    cycle = _cycle(maker, make_programme(), region="3273")
    _prepare(cycle, maker, desil_of)
    accounts.user_scope_set(acting_user=maker, user=checker, region_codes=["3201", "3273"])
    _refused(checker, cycle, "maker-checker")
