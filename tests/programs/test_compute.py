from __future__ import annotations

import datetime as dt

import pytest

from tepat.core.errors import ValidationFailed
from tepat.programs import calc, services
from tepat.programs.models import CycleState, Entitlement, EntitlementState
from tepat.registry.models import Person
from tepat.registry.services import person_update
from tests.programs.conftest import PERIOD

pytestmark = pytest.mark.django_db


def test_pkh_amount_adds_components_and_divides_by_four_tahap():
    params = calc.default_params("pkh")
    assert calc.pkh_amount(params, {"pregnant": 1, "smp": 1}) == (3_000_000 + 1_500_000) // 4


def test_pkh_cap_takes_the_most_valuable_components_first():
    params = {**calc.default_params("pkh"), "max_components": 2}
    counts = {"sd": 3, "pregnant": 1, "elderly": 1}
    assert calc.pkh_amount(params, counts) == (3_000_000 + 2_400_000) // 4


def test_pkh_vectorised_and_single_amounts_agree():
    import numpy as np

    params = {**calc.default_params("pkh"), "max_components": 3}
    rows = [{"sd": 2, "sma": 1, "elderly": 1}, {"pregnant": 1}, {}, {"child_0_6": 4}]
    arrays = {c: np.array([r.get(c, 0) for r in rows], dtype=np.int64) for c in calc.PKH_COMPONENTS}
    assert list(calc.pkh_amounts(params, arrays, 4)) == [calc.pkh_amount(params, r) for r in rows]


def test_sembako_pays_monthly_amount_times_three_per_tahap():
    assert calc.flat_amount(calc.default_params("sembako")) == 600_000


def test_params_refuse_a_non_integer_amount(make_programme):
    with pytest.raises(ValidationFailed) as exc:
        make_programme(annual={"sd": 900_000.5})
    assert exc.value.problems[0].field == "params.annual.sd"


def test_compute_freezes_entitlements_for_households_the_rule_admits(computed_cycle, households):
    ents = list(computed_cycle.entitlements.order_by("id"))
    assert [e.household_id for e in ents] == [h.id for h in households[:3]]
    assert {e.amount for e in ents} == {1_125_000}
    assert ents[0].inputs == {"c": {"pregnant": 1, "smp": 1}, "desil": 1}
    assert computed_cycle.entitled_count == 3
    assert computed_cycle.entitled_amount == 3 * 1_125_000
    assert len(computed_cycle.list_digest) == 64
    assert {e.state for e in ents} == {EntitlementState.PENDING_VALIDATION}


def test_recomputing_a_frozen_cycle_reproduces_it_exactly_after_the_registry_changes(
    computed_cycle, households, bandung_operator
):
    child = Person.objects.get(household=households[0], relationship="child")
    person_update(acting_user=bandung_operator, person=child, changes={"school_level": "sma"},
                  source="test", reason="naik kelas")  # fmt: skip
    digest, mismatches = services.cycle_recompute_frozen(cycle=computed_cycle)
    assert mismatches == []
    assert digest == computed_cycle.list_digest


def test_a_tampered_amount_is_caught_by_recomputation(computed_cycle):
    Entitlement.objects.filter(cycle=computed_cycle).update(amount=9_999_999)
    digest, mismatches = services.cycle_recompute_frozen(cycle=computed_cycle)
    assert len(mismatches) == 3
    assert digest == computed_cycle.list_digest  # the digest of what *should* be


def test_a_batch_above_the_control_count_is_rejected_whole(
    make_programme, make_cycle, bandung_operator, desil_of
):
    cycle = make_cycle(make_programme(), count=2)
    with pytest.raises(ValidationFailed) as exc:
        services.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil=desil_of)
    assert exc.value.code == "validation_failed"
    assert exc.value.problems[0].code == "exceeds_control_totals"
    assert not Entitlement.objects.filter(cycle=cycle).exists()


def test_a_batch_above_the_control_amount_is_rejected_whole(
    make_programme, make_cycle, bandung_operator, desil_of
):
    cycle = make_cycle(make_programme(), amount=3 * 1_125_000 - 1)
    with pytest.raises(ValidationFailed):
        services.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil=desil_of)
    assert not Entitlement.objects.filter(cycle=cycle).exists()
    cycle.refresh_from_db()
    assert cycle.entitled_count == 0


def test_sembako_gives_every_admitted_household_the_same_amount(
    make_programme, make_cycle, bandung_operator, desil_of
):
    cycle = make_cycle(make_programme("sembako", rule="desil <= 5"))
    cycle = services.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil=desil_of)
    assert list(cycle.entitlements.values_list("amount", flat=True)) == [600_000] * 3


def test_blt_uses_its_monthly_amount_and_months(
    make_programme, make_cycle, bandung_operator, desil_of
):
    cycle = make_cycle(
        make_programme("blt", rule="desil <= 2", monthly=600_000, months_per_tahap=2)
    )
    cycle = services.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil=desil_of)
    assert list(cycle.entitlements.values_list("amount", flat=True)) == [1_200_000] * 2


def test_a_rule_on_region_limits_who_is_admitted(make_programme, supervisor, desil_of):
    # A province-wide cycle (the supervisor's scope, Jawa Barat): the rule picks Bogor.
    cycle = services.cycle_create(
        acting_user=supervisor, programme=make_programme("sembako", rule="regency == '3201'"),
        code="2026-T1", instalment=1, period_start=PERIOD[0], period_end=PERIOD[1],
        control_count=100, control_amount=10**9,
    )  # fmt: skip
    assert cycle.region_code == "32"
    cycle = services.cycle_compute(acting_user=supervisor, cycle=cycle, desil=desil_of)
    assert cycle.entitled_count == 1


def test_a_bad_rule_is_refused_naming_the_column(make_programme):
    with pytest.raises(ValidationFailed) as exc:
        make_programme(rule="desli <= 4")
    assert "desil" in exc.value.message


def test_amending_an_entitlement_records_the_reason_and_keeps_the_digest_reproducible(
    computed_cycle, bandung_operator
):
    e = computed_cycle.entitlements.first()
    services.entitlement_amend(
        acting_user=bandung_operator, entitlement=e, amount=1_000_000, reason="koreksi data"
    )
    computed_cycle.refresh_from_db()
    assert computed_cycle.entitled_amount == 2 * 1_125_000 + 1_000_000
    event = computed_cycle.events.get(action="amend")
    assert event.reason == "koreksi data"
    assert event.detail["before"] == 1_125_000
    digest, bad = services.cycle_recompute_frozen(cycle=computed_cycle)
    assert bad == []
    assert digest == computed_cycle.list_digest


def test_cancelling_an_entitlement_needs_a_reason(computed_cycle, bandung_operator):
    e = computed_cycle.entitlements.first()
    with pytest.raises(ValidationFailed):
        services.entitlement_cancel(acting_user=bandung_operator, entitlement=e, reason=" ")
    services.entitlement_cancel(
        acting_user=bandung_operator, entitlement=e, reason="meninggal dunia"
    )
    computed_cycle.refresh_from_db()
    assert computed_cycle.entitled_count == 2
    assert computed_cycle.state == CycleState.DRAFT


def test_age_is_exact_on_birthdays():
    import numpy as np

    births = np.array(["2020-01-01", "2020-01-02", "2019-12-31"], dtype="datetime64[D]")
    assert list(calc._age(births, dt.date(2026, 1, 1))) == [6, 5, 6]
