from __future__ import annotations

import pytest

from tepat.core.errors import PermissionDenied, ValidationFailed
from tepat.ledger.models import PendingEntry
from tepat.programs import services
from tepat.programs.models import CycleState, EntitlementState

pytestmark = pytest.mark.django_db


def test_a_cycle_goes_from_draft_to_approved_through_submission(approved_cycle):
    assert approved_cycle.state == CycleState.APPROVED
    assert [e.action for e in approved_cycle.events.all()] == [
        "create",
        "compute",
        "submit",
        "approve",
    ]
    assert set(approved_cycle.entitlements.values_list("state", flat=True)) == {
        EntitlementState.APPROVED
    }


def test_approval_appends_the_approval_and_the_published_list_to_the_ledger(approved_cycle):
    kinds = list(
        PendingEntry.objects.filter(ref=approved_cycle.public_id).values_list("kind", flat=True)
    )
    assert kinds == ["cycle.approved", "entitlements.published"]
    assert (
        approved_cycle.list_digest in PendingEntry.objects.get(kind="entitlements.published").body
    )


def test_the_person_who_prepared_a_cycle_cannot_approve_it(computed_cycle, supervisor):
    services.cycle_submit(acting_user=supervisor, cycle=computed_cycle)
    with pytest.raises(PermissionDenied) as exc:
        services.cycle_approve(acting_user=supervisor, cycle=computed_cycle)
    assert "maker-checker" in exc.value.message
    computed_cycle.refresh_from_db()
    assert computed_cycle.state == CycleState.TO_APPROVE


def test_the_person_who_computed_a_cycle_cannot_approve_it_even_if_another_submitted(
    make_programme, make_cycle, supervisor, second_supervisor, desil_of
):
    cycle = make_cycle(make_programme())
    services.cycle_compute(acting_user=supervisor, cycle=cycle, desil=desil_of)
    services.cycle_submit(acting_user=second_supervisor, cycle=cycle)
    with pytest.raises(PermissionDenied):
        services.cycle_approve(acting_user=supervisor, cycle=cycle)
    with pytest.raises(PermissionDenied):
        services.cycle_approve(acting_user=second_supervisor, cycle=cycle)


def test_an_operator_cannot_approve(computed_cycle, bandung_operator, second_supervisor):
    services.cycle_submit(acting_user=second_supervisor, cycle=computed_cycle)
    with pytest.raises(PermissionDenied):
        services.cycle_approve(acting_user=bandung_operator, cycle=computed_cycle)


def test_an_auditor_cannot_prepare_a_cycle(make_programme, make_cycle, auditor):
    cycle = make_cycle(make_programme())
    with pytest.raises(PermissionDenied):
        services.cycle_submit(acting_user=auditor, cycle=cycle)


def test_a_cycle_cannot_be_submitted_before_entitlements_are_computed(
    make_programme, make_cycle, bandung_operator
):
    cycle = make_cycle(make_programme())
    with pytest.raises(ValidationFailed):
        services.cycle_submit(acting_user=bandung_operator, cycle=cycle)


def test_returning_a_cycle_to_draft_records_the_reason(
    computed_cycle, bandung_operator, supervisor
):
    services.cycle_submit(acting_user=bandung_operator, cycle=computed_cycle)
    services.cycle_return(
        acting_user=supervisor, cycle=computed_cycle, reason="data desa belum lengkap"
    )
    computed_cycle.refresh_from_db()
    assert computed_cycle.state == CycleState.DRAFT
    assert computed_cycle.events.last().reason == "data desa belum lengkap"


def test_cancelling_needs_a_reason_and_cancels_every_entitlement(computed_cycle, supervisor):
    with pytest.raises(ValidationFailed):
        services.cycle_cancel(acting_user=supervisor, cycle=computed_cycle, reason="")
    services.cycle_cancel(acting_user=supervisor, cycle=computed_cycle, reason="anggaran dialihkan")
    computed_cycle.refresh_from_db()
    assert computed_cycle.state == CycleState.CANCELLED
    assert set(computed_cycle.entitlements.values_list("state", flat=True)) == {
        EntitlementState.CANCELLED
    }


def test_an_approved_cycle_cannot_be_recomputed(approved_cycle, bandung_operator, desil_of):
    with pytest.raises(services.InvalidTransition):
        services.cycle_compute(acting_user=bandung_operator, cycle=approved_cycle, desil=desil_of)


def test_a_tampered_list_cannot_be_approved(computed_cycle, bandung_operator, supervisor):
    services.cycle_submit(acting_user=bandung_operator, cycle=computed_cycle)
    computed_cycle.entitlements.update(amount=1)
    with pytest.raises(services.TepatError) as exc:
        services.cycle_approve(acting_user=supervisor, cycle=computed_cycle)
    assert exc.value.code == "list_tampered"


def test_the_transition_table_only_allows_the_documented_moves():
    S = CycleState
    assert services.TRANSITIONS[S.DISTRIBUTED] == {S.ENDED}
    assert services.TRANSITIONS[S.ENDED] == frozenset() == services.TRANSITIONS[S.CANCELLED]
    assert S.DISTRIBUTED not in services.TRANSITIONS[S.DRAFT]
