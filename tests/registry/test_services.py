from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tepat.core import crypto
from tepat.core.errors import PermissionDenied, TepatError, ValidationFailed
from tepat.core.models import AuditEvent
from tepat.registry import sealed
from tepat.registry.models import ChangeRecord, FinancialAddress, Household, Person
from tepat.registry.selectors import household_as_of
from tepat.registry.services import (
    financial_address_set,
    household_register,
    household_update,
    person_move,
    person_update,
)
from tepat.registry.snapshots import open_records
from tests.conftest import make_household, make_members

pytestmark = pytest.mark.django_db


def test_it_registers_a_household_with_members_and_history(bandung_operator):
    h = household_register(
        acting_user=bandung_operator,
        source="manual",
        household=make_household(),
        members=make_members(),
    )
    assert h.members.count() == 3
    assert ChangeRecord.objects.filter(household=h, action="create").count() == 4
    assert AuditEvent.objects.filter(action="household.register", target_id=h.public_id).exists()


def test_nik_kk_and_phone_are_never_stored_in_clear(bandung_household):
    head = bandung_household.members.get(relationship="head")
    assert "327301120580" not in head.nik_enc
    assert sealed.unseal(head.nik_enc, context=sealed.NIK, row=head.public_id) == (
        "3273011205800001"
    )
    assert "0812" not in head.phone_enc
    records = list(ChangeRecord.objects.all())
    snapshots = " ".join(str(r.after) for r in records)
    assert "3273011205800001" not in snapshots
    assert "081234567890" not in snapshots
    assert "3273**********01" not in snapshots  # masks are sealed under the subject key
    opened = " ".join(str(after) for _, after in open_records(records))
    assert "3273011205800001" not in opened
    assert "3273**********01" in opened


def test_it_refuses_a_malformed_nik_naming_the_row_and_field(regions):
    members = make_members()
    members[1]["nik"] = "3.27301E+15"
    with pytest.raises(ValidationFailed) as err:
        household_register(
            acting_user=None, source="t", household=make_household(), members=members
        )
    problem = err.value.problems[0]
    assert (problem.field, problem.row, problem.code) == ("nik", 2, "scientific_notation")
    assert Household.objects.count() == 0
    assert Person.objects.count() == 0


def test_it_refuses_an_unknown_village_code(regions):
    with pytest.raises(ValidationFailed) as err:
        household_register(
            acting_user=None,
            source="t",
            household=make_household(village="3273019999"),
            members=make_members(),
        )
    assert any(p.field == "village_code" and p.code == "unknown_region" for p in err.value.problems)


def test_it_refuses_an_impossible_birth_date(regions):
    members = make_members()
    members[2]["birth_date"] = "2014-02-30"
    with pytest.raises(ValidationFailed) as err:
        household_register(
            acting_user=None, source="t", household=make_household(), members=members
        )
    assert any(p.field == "birth_date" and p.row == 3 for p in err.value.problems)


def test_it_refuses_a_duplicate_kk_and_saves_nothing(bandung_household):
    members = make_members(serial=9)
    with pytest.raises(ValidationFailed) as err:
        household_register(
            acting_user=None, source="t", household=make_household(), members=members
        )
    assert err.value.problems[0].code == "duplicate"
    assert err.value.problems[0].field == "kk"
    assert Household.objects.count() == 1
    assert Person.objects.count() == 3


def test_it_refuses_a_household_without_exactly_one_head(regions):
    members = make_members()
    members[1]["relationship"] = "head"
    with pytest.raises(ValidationFailed) as err:
        household_register(
            acting_user=None, source="t", household=make_household(), members=members
        )
    assert err.value.problems[-1].code == "one_head"


def test_a_nik_prefix_from_elsewhere_is_kept_with_a_warning(regions):
    members = make_members()
    members[0]["nik"] = "3174011205800001"  # first registered in Jakarta: unknown here, allowed
    h = household_register(
        acting_user=None, source="t", household=make_household(), members=members
    )
    assert h.members.count() == 3


def test_an_operator_cannot_register_outside_their_region(bogor_operator):
    with pytest.raises(PermissionDenied):
        household_register(
            acting_user=bogor_operator,
            source="t",
            household=make_household(),
            members=make_members(),
        )
    assert Household.objects.count() == 0


def test_an_auditor_cannot_change_the_registry(auditor, bandung_household):
    with pytest.raises(PermissionDenied):
        household_update(
            acting_user=auditor, household=bandung_household, changes={"toilet": "none"}, source="t"
        )


def test_an_update_records_before_and_after_source_and_actor(bandung_operator, bandung_household):
    household_update(
        acting_user=bandung_operator,
        household=bandung_household,
        changes={"floor_material": "earth", "electricity_va": "450"},
        source="verifikasi-lapangan",
        reason="kunjungan rumah",
    )
    rec = ChangeRecord.objects.filter(action="update").get()
    assert rec.before["floor_material"] == "cement"
    assert rec.after["floor_material"] == "earth"
    assert rec.before["electricity_va"] == 900
    assert rec.after["electricity_va"] == 450
    assert (rec.source, rec.actor_label, rec.reason) == (
        "verifikasi-lapangan",
        "op_bandung",
        "kunjungan rumah",
    )


def test_a_bad_update_changes_nothing(bandung_operator, bandung_household):
    with pytest.raises(ValidationFailed) as err:
        household_update(
            acting_user=bandung_operator,
            household=bandung_household,
            changes={"floor_material": "marble-ish", "toilet": "none"},
            source="t",
        )
    assert err.value.problems[0].field == "floor_material"
    bandung_household.refresh_from_db()
    assert bandung_household.toilet == "private"


def test_the_kk_number_cannot_be_changed(bandung_operator, bandung_household):
    with pytest.raises(TepatError):
        household_update(
            acting_user=bandung_operator,
            household=bandung_household,
            changes={"kk": "1"},
            source="t",
        )


def test_a_nik_correction_updates_the_blind_index(bandung_operator, bandung_household):
    child = bandung_household.members.get(relationship="child")
    person_update(
        acting_user=bandung_operator,
        person=child,
        changes={"nik": "3273012007140009"},
        source="dukcapil",
        reason="koreksi NIK",
    )
    child.refresh_from_db()
    assert child.nik_index == crypto.blind_index("3273012007140009", purpose="nik")
    [(before, after)] = open_records(
        [ChangeRecord.objects.get(action="update", entity_id=child.public_id)]
    )
    assert before["nik_masked"] == "3273**********01"
    assert after["nik_masked"] == "3273**********09"


def test_a_nik_that_belongs_to_someone_else_is_refused(bandung_operator, bandung_household):
    head = bandung_household.members.get(relationship="head")
    child = bandung_household.members.get(relationship="child")
    nik_of_head = sealed.unseal(head.nik_enc, context=sealed.NIK, row=head.public_id)
    with pytest.raises(TepatError) as err:
        person_update(
            acting_user=bandung_operator, person=child, changes={"nik": nik_of_head}, source="t"
        )
    assert err.value.field == "nik"


def test_a_bank_account_change_keeps_the_old_one_as_history(bandung_operator, bandung_household):
    head = bandung_household.members.get(relationship="head")
    financial_address_set(
        acting_user=bandung_operator,
        person=head,
        kind="bank",
        provider="bri",
        account="123456789012",
        source="kks",
    )
    financial_address_set(
        acting_user=bandung_operator,
        person=head,
        kind="bank",
        provider="BNI",
        account="9988776655",
        source="kks",
    )
    rows = list(FinancialAddress.objects.filter(person=head).order_by("valid_from"))
    assert [r.provider for r in rows] == ["BRI", "BNI"]
    assert rows[0].valid_to is not None
    assert rows[1].valid_to is None
    [(before, after)] = open_records(
        [ChangeRecord.objects.filter(entity_type="financial_address", action="update").get()]
    )
    assert before["account_masked"] == "********9012"
    assert after["account_masked"] == "******6655"
    assert AuditEvent.objects.filter(action="financial_address.set").count() == 2


def test_an_unknown_bank_is_refused(bandung_operator, bandung_household):
    head = bandung_household.members.get(relationship="head")
    with pytest.raises(ValidationFailed) as err:
        financial_address_set(
            acting_user=bandung_operator,
            person=head,
            kind="bank",
            provider="XYZ",
            account="12345678",
            source="t",
        )
    assert err.value.problems[0].field == "provider"


def test_as_of_reads_answer_what_the_registry_knew_then(
    bandung_operator, bandung_household, bogor_household
):
    before_move = timezone.now()
    child = bandung_household.members.get(relationship="child")
    person_move(
        acting_user=None,
        person=child,
        to_household=bogor_household,
        relationship="grandchild",
        source="t",
    )
    after_move = timezone.now()
    then = household_as_of(household=bandung_household, at=before_move)
    now = household_as_of(household=bandung_household, at=after_move)
    assert then is not None
    assert now is not None
    assert len(then["members"]) == 3
    assert len(now["members"]) == 2
    bogor_now = household_as_of(household=bogor_household, at=after_move)
    assert bogor_now is not None
    assert len(bogor_now["members"]) == 4
    assert (
        household_as_of(household=bandung_household, at=before_move - dt.timedelta(days=1)) is None
    )


def test_a_second_head_cannot_be_moved_in(bandung_household, bogor_household):
    head = bandung_household.members.get(relationship="head")
    with pytest.raises(TepatError) as err:
        person_move(
            acting_user=None,
            person=head,
            to_household=bogor_household,
            relationship="head",
            source="t",
        )
    assert err.value.code == "duplicate_head"
