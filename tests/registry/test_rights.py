"""Restriction (UU 27/2022 Art. 11) and erasure (Art. 8, 43) of a person's data, as the registry
and the apps deciding on it see them. The full "nothing left anywhere" check is
tests/privacy/test_shredding.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tepat.core.errors import PermissionDenied, TepatError
from tepat.core.models import AuditEvent, SubjectKey
from tepat.core.subjectkeys import ERASED, household_subject, is_shredded
from tepat.grievances.services import complaint_submit
from tepat.payments import services as payments
from tepat.payments.models import Payment
from tepat.programs import services as programs
from tepat.programs.models import Entitlement
from tepat.registry.models import ChangeRecord, Household, Person
from tepat.registry.rights import person_erase, person_erasure_blockers, person_restrict
from tepat.registry.selectors import household_as_of, household_history
from tepat.registry.services import household_register, person_update
from tepat.registry.snapshots import open_records
from tepat.targeting.features import household_features
from tests.conftest import make_household, make_members
from tests.programs.conftest import *  # noqa: F403 - the programmes' cast and helpers

pytestmark = pytest.mark.django_db


def _member(h: Household, relationship: str) -> Person:
    return h.members.get(relationship=relationship)


# --- restriction ---------------------------------------------------------------------------------


def test_a_restricted_persons_household_is_left_out_of_new_scoring(households, bandung_operator):
    child = _member(households[0], "child")
    person_restrict(
        person=child, restricted=True, reason="keberatan warga", acting_user=bandung_operator
    )
    ids = set(household_features().household_id.tolist())
    assert households[0].id not in ids
    assert {h.id for h in households[1:]} <= ids
    person_restrict(
        person=child, restricted=False, reason="keberatan dicabut", acting_user=bandung_operator
    )
    assert households[0].id in set(household_features().household_id.tolist())


def test_a_restricted_household_is_left_out_of_a_new_entitlement_list(
    households, desil_of, make_programme, make_cycle, bandung_operator
):
    person_restrict(person=_member(households[1], "spouse"), restricted=True,
                    reason="pembatasan pemrosesan", acting_user=bandung_operator)  # fmt: skip
    cycle = programs.cycle_compute(
        acting_user=bandung_operator, cycle=make_cycle(make_programme()), desil=desil_of
    )
    listed = set(Entitlement.objects.filter(cycle=cycle).values_list("household_id", flat=True))
    assert listed == {households[0].id, households[2].id}


def test_a_frozen_list_keeps_a_restricted_household_but_issues_it_no_payment_until_lifted(
    approved_cycle, households, bandung_operator
):
    head = _member(households[0], "head")
    person_restrict(person=head, restricted=True, reason="pembatasan pemrosesan",
                    acting_user=bandung_operator)  # fmt: skip
    assert payments.payments_issue(acting_user=bandung_operator, cycle=approved_cycle) == 2
    assert approved_cycle.entitlements.filter(household=households[0]).exists()
    assert not Payment.objects.filter(beneficiary_ref=head.public_id).exists()
    person_restrict(person=head, restricted=False, reason="pembatasan dicabut",
                    acting_user=bandung_operator)  # fmt: skip
    assert payments.payments_issue(acting_user=bandung_operator, cycle=approved_cycle) == 1
    assert Payment.objects.filter(beneficiary_ref=head.public_id).exists()


def test_restriction_is_audited_with_its_reason_and_needs_a_registry_editor(
    bandung_household, bandung_operator, auditor
):
    child = _member(bandung_household, "child")
    with pytest.raises(PermissionDenied):
        person_restrict(person=child, restricted=True, reason="pembatasan", acting_user=auditor)
    with pytest.raises(TepatError) as err:
        person_restrict(person=child, restricted=True, reason="", acting_user=bandung_operator)
    assert err.value.field == "reason"
    person_restrict(person=child, restricted=True, reason="keberatan atas profil otomatis",
                    acting_user=bandung_operator)  # fmt: skip
    child.refresh_from_db()
    assert child.processing_restricted_at is not None
    event = AuditEvent.objects.get(action="person.restrict", target_id=child.public_id)
    assert event.detail["reason"] == "keberatan atas profil otomatis"


# --- erasure blockers -----------------------------------------------------------------------------


def test_erasure_is_refused_while_the_household_is_on_a_running_cycle(
    approved_cycle, households, supervisor
):
    child = _member(households[0], "child")
    blockers = person_erasure_blockers(child)
    assert len(blockers) == 1
    assert "tahap bantuan yang masih berjalan" in blockers[0]
    with pytest.raises(TepatError) as err:
        person_erase(person=child, reason="permintaan subjek data", acting_user=supervisor)
    assert err.value.code == "erasure_blocked"
    assert [p.code for p in err.value.problems] == ["active_programme"]
    child.refresh_from_db()
    assert child.erased_at is None
    assert child.full_name == "Muhammad Rizki"


def test_erasure_is_refused_while_payments_are_within_the_financial_retention(
    approved_cycle, households, bandung_operator, settings
):
    head = _member(households[0], "head")
    payments.payments_issue(acting_user=bandung_operator, cycle=approved_cycle)
    approved_cycle.__class__.objects.filter(pk=approved_cycle.pk).update(state="ended")
    blockers = person_erasure_blockers(head)
    assert len(blockers) == 1
    assert "10 tahun" in blockers[0]
    Payment.objects.filter(beneficiary_ref=head.public_id).update(
        state="paid", created_at=timezone.now() - dt.timedelta(days=365 * 3)
    )
    assert len(person_erasure_blockers(head)) == 1  # paid 3 years ago: still kept
    settings.TEPAT_FINANCIAL_RETENTION_YEARS = 2
    assert person_erasure_blockers(head) == []


def test_erasure_is_refused_while_a_complaint_about_the_person_is_open(bandung_household):
    spouse = _member(bandung_household, "spouse")
    complaint_submit(
        submission_key="k" * 32, category="exclusion", village_code=bandung_household.village_id,
        description="Saya tidak menerima bantuan tahap ini", filed_by_ref=spouse.public_id,
    )  # fmt: skip
    [reason] = person_erasure_blockers(spouse)
    assert "pengaduan" in reason
    assert "complaint" in reason


# --- erasure --------------------------------------------------------------------------------------


def test_erasure_needs_a_supervisor_and_a_reason(bandung_household, bandung_operator, supervisor):
    child = _member(bandung_household, "child")
    with pytest.raises(PermissionDenied):
        person_erase(person=child, reason="permintaan subjek data", acting_user=bandung_operator)
    with pytest.raises(TepatError):
        person_erase(person=child, reason=" ", acting_user=supervisor)
    assert Person.objects.get(pk=child.pk).erased_at is None


def test_an_erased_persons_row_keeps_no_identifying_value(bandung_household, supervisor):
    child = _member(bandung_household, "child")
    old_index = child.nik_index
    person_erase(person=child, reason="permintaan subjek data", acting_user=supervisor)
    child.refresh_from_db()
    assert child.erased_at is not None
    assert (child.full_name, child.name_search, child.birth_place) == ("", "", "")
    assert child.birth_date is None
    assert child.birth_year == 2014
    assert child.nik_index != old_index
    assert child.nik_index.startswith("erased-")
    assert (child.phone_enc, child.phone_index, child.disability) == ("", "", "")
    assert is_shredded(child.public_id)
    assert SubjectKey.objects.get(subject=child.public_id).key_wrapped in (b"", memoryview(b""))


def test_an_erased_persons_history_reads_as_erased_while_the_others_stay_readable(
    bandung_household, bandung_operator, supervisor
):
    child = _member(bandung_household, "child")
    person_update(acting_user=bandung_operator, person=child, changes={"school_level": "sma"},
                  source="dapodik")  # fmt: skip
    moment = timezone.now()
    person_erase(person=child, reason="permintaan subjek data", acting_user=supervisor)

    records = list(ChangeRecord.objects.filter(entity_id=child.public_id).order_by("id"))
    opened = open_records(records)
    create_after = opened[0][1]
    assert create_after["full_name"] == ERASED
    assert create_after["nik_masked"] == ERASED
    assert create_after["birth_date"] == ERASED
    assert create_after["nik_index"] == ERASED
    assert create_after["school_level"] == "smp"  # non-identifying attributes stay readable
    assert opened[1][1]["school_level"] == "sma"
    assert records[-1].after == {"public_id": child.public_id,
                                 "household": bandung_household.public_id, "erased": True}  # fmt: skip

    then = household_as_of(household=bandung_household, at=moment)
    names = {m["full_name"] for m in then["members"]}
    assert names == {"Asep Sunandar", "Siti Nurhaliza", ERASED}
    assert then["household"]["kk_masked"] == "3273**********01"  # the family is not erased
    rows = household_history(household=bandung_household)
    assert any(r.changes.get("full_name") == (None, "Asep Sunandar") for r in rows)
    assert not any("Muhammad Rizki" in str(r.changes) for r in rows)


def test_erasing_the_last_member_erases_the_family_card_and_address(bandung_household, supervisor):
    for person in bandung_household.members.all():
        report = person_erase(
            person=person, reason="permintaan subjek data", acting_user=supervisor
        )
    assert report.household_erased
    h = Household.objects.get(pk=bandung_household.pk)
    assert h.kk_index.startswith("erased-")
    assert (h.address, h.rt, h.rw) == ("", "", "")
    assert is_shredded(household_subject(h.public_id))
    [(_, after)] = open_records([ChangeRecord.objects.filter(entity_type="household").first()])
    assert after["kk_masked"] == ERASED
    assert after["address"] == ERASED
    assert after["floor_material"] == "cement"


def test_erasure_is_final_nothing_new_is_recorded_and_the_nik_can_register_again(
    bandung_household, bandung_operator, supervisor, regions
):
    child = _member(bandung_household, "child")
    first = person_erase(person=child, reason="permintaan subjek data", acting_user=supervisor)
    again = person_erase(person=child, reason="permintaan subjek data", acting_user=supervisor)
    assert again.steps == {}
    assert first.steps
    assert AuditEvent.objects.filter(action="person.erase").count() == 1
    with pytest.raises(TepatError) as err:
        person_update(acting_user=bandung_operator, person=child,
                      changes={"education": "smp"}, source="t")  # fmt: skip
    assert err.value.code == "erased"
    with pytest.raises(TepatError):
        person_restrict(
            person=child, restricted=True, reason="pembatasan", acting_user=bandung_operator
        )
    # The blind index went with the row: the same NIK is a new registration, not a duplicate.
    members = make_members(serial=9)
    members[2]["nik"] = "3273012007140001"
    household_register(acting_user=None, source="test", household=make_household(serial=9),
                       members=members)  # fmt: skip


def test_the_erasure_audit_event_names_no_one(bandung_household, supervisor):
    head = _member(bandung_household, "head")
    person_erase(
        person=head,
        reason="Permintaan Asep Sunandar (NIK 3273011205800001, HP 081234567890) di loket",
        acting_user=supervisor,
    )
    event = AuditEvent.objects.get(action="person.erase")
    text = str(event.detail)
    for value in ("Asep", "Sunandar", "3273011205800001", "081234567890"):
        assert value not in text
    assert event.detail["reason"].startswith("Permintaan [dihapus / erased]")
    assert event.detail["household_erased"] is False


def test_the_staff_pages_show_an_erased_member_without_their_values(
    bandung_household, supervisor, bandung_operator, staff_client
):
    child = _member(bandung_household, "child")
    person_erase(person=child, reason="permintaan subjek data", acting_user=supervisor)
    client = staff_client(bandung_operator)
    page = client.get(f"/registry/rumah-tangga/{bandung_household.public_id}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Asep Sunandar" in text
    assert "Muhammad Rizki" not in text
    assert "2014-07-20" not in text
    assert "dihapus atas permintaan subjek data" in text  # the history records the erasure
    assert client.get(f"/registry/orang/{child.public_id}/").status_code == 200
    for path in ("", "/history"):
        api = client.get(f"/api/registry/households/{bandung_household.public_id}{path}")
        assert api.status_code == 200
        assert "Muhammad Rizki" not in api.content.decode()
