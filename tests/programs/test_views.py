from __future__ import annotations

import pytest

from tepat.programs import services
from tepat.programs.models import CycleState

pytestmark = pytest.mark.django_db


def test_the_programme_page_lists_programmes_and_cycles(
    staff_client, bandung_operator, computed_cycle
):
    r = staff_client(bandung_operator).get("/program/")
    assert r.status_code == 200
    assert "PKH-2026" in r.content.decode()
    assert "2026-T1" in r.content.decode()


def test_the_maker_sees_a_refusal_when_approving_through_the_page(
    staff_client, supervisor, make_programme, make_cycle, desil_of
):
    cycle = make_cycle(make_programme())
    services.cycle_compute(acting_user=supervisor, cycle=cycle, desil=desil_of)
    services.cycle_submit(acting_user=supervisor, cycle=cycle)
    c = staff_client(supervisor)
    r = c.post(f"/program/tahap/{cycle.public_id}/approve/", follow=True)
    assert "maker-checker" in r.content.decode()
    cycle.refresh_from_db()
    assert cycle.state == CycleState.TO_APPROVE


def test_another_supervisor_approves_through_the_page(
    staff_client, second_supervisor, computed_cycle, bandung_operator
):
    services.cycle_submit(acting_user=bandung_operator, cycle=computed_cycle)
    r = staff_client(second_supervisor).post(
        f"/program/tahap/{computed_cycle.public_id}/approve/", follow=True
    )
    assert r.status_code == 200
    computed_cycle.refresh_from_db()
    assert computed_cycle.state == CycleState.APPROVED
    assert 'hx-get="/penyaluran/tahap/' in r.content.decode()


def test_the_cycle_page_shows_only_entitlements_in_the_users_region(
    staff_client, field_agent, computed_cycle
):
    r = staff_client(field_agent).get(f"/program/tahap/{computed_cycle.public_id}/")
    assert "(3 " in r.content.decode()  # three Bandung households, all in the agent's village
