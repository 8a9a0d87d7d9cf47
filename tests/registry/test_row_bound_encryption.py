"""Registry ciphertexts are bound to their row: a value copied onto another row (by someone
with write access to the database, or a botched repair script) does not decrypt there, and
the error says so, instead of showing another person's NIK, phone, birth date or account as
this person's. Old column-only tokens are refused too, until `at_rest.bind_rows` (migration
0004) rewrites them."""

from __future__ import annotations

import pytest
from django.db import connection

from tepat.core import crypto
from tepat.registry import at_rest, sealed, selectors
from tepat.registry.models import FinancialAddress, Household, Person
from tepat.registry.services import financial_address_set
from tests.conftest import BOGOR_VILLAGE

pytestmark = pytest.mark.django_db

MODELS = {"Person": Person, "Household": Household, "FinancialAddress": FinancialAddress}


def _swap(table: str, column: str, a: int, b: int) -> None:
    """Swap one column between two rows in SQL, as an intruder with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {column} FROM {table} WHERE id IN (%s, %s)", [a, b])  # noqa: S608
        values = dict(cursor.fetchall())
        for target, source in ((a, b), (b, a)):
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608
                [values[source], target],
            )


def _member(household: Household, relationship: str) -> Person:
    return household.members.get(relationship=relationship)


def test_a_nik_swapped_between_two_persons_does_not_decrypt(bandung_household):
    head = _member(bandung_household, "head")
    child = _member(bandung_household, "child")
    _swap("registry_person", "nik_enc", head.pk, child.pk)
    head.refresh_from_db()

    with pytest.raises(sealed.SealedValueError) as caught:
        sealed.unseal(head.nik_enc, context=sealed.NIK, row=head.public_id)
    assert f"registry.person.nik of row {head.public_id}" in str(caught.value)
    assert "copied from another row" in str(caught.value)
    # The token now on the head's row is the child's, and opens only as the child's: it is the
    # binding that refuses, not a damaged token.
    assert sealed.unseal(head.nik_enc, context=sealed.NIK, row=child.public_id) == (
        "3273012007140001"
    )


def test_a_swapped_nik_stops_the_household_page_rather_than_mislabel_it(
    bandung_operator, bandung_household
):
    head = _member(bandung_household, "head")
    spouse = _member(bandung_household, "spouse")
    _swap("registry_person", "nik_enc", head.pk, spouse.pk)
    with pytest.raises(sealed.SealedValueError):
        selectors.household_view(household=Household.objects.get(pk=bandung_household.pk))
    with pytest.raises(sealed.SealedValueError):
        selectors.person_reveal(
            user=bandung_operator,
            person=Person.objects.get(pk=head.pk),
            request=None,
            purpose="pemeriksaan data",
        )


def test_phone_and_birth_date_are_bound_to_their_row_too(bandung_household):
    head = _member(bandung_household, "head")
    spouse = _member(bandung_household, "spouse")
    assert head.phone_enc  # the fixture's head has a phone
    _swap("registry_person", "phone_enc", head.pk, spouse.pk)
    _swap("registry_person", "birth_date_enc", head.pk, spouse.pk)
    head.refresh_from_db()
    spouse.refresh_from_db()
    with pytest.raises(sealed.SealedValueError):
        _ = spouse.birth_date
    with pytest.raises(sealed.SealedValueError):
        sealed.unseal(spouse.phone_enc, context=sealed.PHONE, row=spouse.public_id)
    with pytest.raises(sealed.SealedValueError):
        selectors.person_phones(public_ids=[spouse.public_id])


def test_a_family_card_number_swapped_between_households_does_not_decrypt(
    bandung_household, bogor_household
):
    _swap("registry_household", "kk_enc", bandung_household.pk, bogor_household.pk)
    moved = Household.objects.get(pk=bandung_household.pk)
    with pytest.raises(sealed.SealedValueError):
        sealed.unseal(moved.kk_enc, context=sealed.KK, row=moved.public_id)
    with pytest.raises(sealed.SealedValueError):
        selectors.household_view(household=moved)


def test_an_account_number_moved_to_another_address_does_not_pay_there(
    bandung_household, bogor_household
):
    from tepat.payments.channels import _accounts

    ours = _member(bandung_household, "head")
    theirs = _member(bogor_household, "head")
    a = financial_address_set(
        acting_user=None, person=ours, kind="bank", provider="BRI", account="1111222233",
        source="test",
    )  # fmt: skip
    b = financial_address_set(
        acting_user=None, person=theirs, kind="bank", provider="BRI", account="9999888877",
        source="test",
    )  # fmt: skip
    assert _accounts([ours.public_id])[ours.public_id]["bank"][1] == "1111222233"
    _swap("registry_financialaddress", "account_enc", a.pk, b.pk)
    # A payment run refuses to read it rather than pay person A into person B's account.
    with pytest.raises(sealed.SealedValueError):
        _accounts([ours.public_id])


def test_a_column_only_token_is_refused_for_a_row_bound_field(bandung_household):
    head = _member(bandung_household, "head")
    old = crypto.encrypt("3273011205800001", context=sealed.NIK)  # before row binding
    Person.objects.filter(pk=head.pk).update(nik_enc=old)
    head.refresh_from_db()
    with pytest.raises(sealed.SealedValueError):
        sealed.unseal(head.nik_enc, context=sealed.NIK, row=head.public_id)


def test_bind_rows_rewrites_column_only_tokens_to_row_bound_ones(
    bandung_household, bogor_household
):
    """The data migration's function, run on rows written the old way."""
    head = _member(bandung_household, "head")
    fa = financial_address_set(
        acting_user=None, person=head, kind="ewallet", provider="DANA", account="081234567890",
        source="test",
    )  # fmt: skip
    Person.objects.filter(pk=head.pk).update(
        nik_enc=crypto.encrypt("3273011205800001", context=sealed.NIK),
        phone_enc=crypto.encrypt("081234567890", context=sealed.PHONE),
    )
    Household.objects.filter(pk=bandung_household.pk).update(
        kk_enc=crypto.encrypt("3273011503150001", context=sealed.KK)
    )
    FinancialAddress.objects.filter(pk=fa.pk).update(
        account_enc=crypto.encrypt("081234567890", context=sealed.ACCOUNT)
    )
    # A value no configured key opens (test filler, a retired key): left alone and counted.
    bogor_head = _member(bogor_household, "head")
    Person.objects.filter(pk=bogor_head.pk).update(phone_enc="synthetic")

    report = at_rest.bind_rows(MODELS)

    assert report.rewritten == {
        "Person.nik_enc": 1,
        "Person.phone_enc": 1,
        "Household.kk_enc": 1,
        "FinancialAddress.account_enc": 1,
    }
    assert report.already["Person.nik_enc"] == 5  # the rows written bound from the start
    assert report.unreadable == {
        "Person.nik_enc": 0,
        "Person.phone_enc": 1,
        "Household.kk_enc": 0,
        "FinancialAddress.account_enc": 0,
    }
    head.refresh_from_db()
    household = Household.objects.get(pk=bandung_household.pk)
    fa.refresh_from_db()
    assert sealed.unseal(head.nik_enc, context=sealed.NIK, row=head.public_id) == (
        "3273011205800001"
    )
    assert sealed.unseal(head.phone_enc, context=sealed.PHONE, row=head.public_id) == (
        "081234567890"
    )
    assert sealed.unseal(household.kk_enc, context=sealed.KK, row=household.public_id) == (
        "3273011503150001"
    )
    assert sealed.unseal(fa.account_enc, context=sealed.ACCOUNT, row=fa.public_id) == (
        "081234567890"
    )
    assert Person.objects.get(pk=bogor_head.pk).phone_enc == "synthetic"
    # Run again: nothing left to rewrite.
    again = at_rest.bind_rows(MODELS)
    assert set(again.rewritten.values()) == {0}


def test_unbind_rows_is_the_exact_reverse(bandung_household):
    head = _member(bandung_household, "head")
    at_rest.unbind_rows(MODELS)
    head.refresh_from_db()
    assert crypto.decrypt(head.nik_enc, context=sealed.NIK) == "3273011205800001"
    at_rest.bind_rows(MODELS)
    head.refresh_from_db()
    assert sealed.unseal(head.nik_enc, context=sealed.NIK, row=head.public_id) == (
        "3273011205800001"
    )


def test_a_new_household_in_another_region_is_bound_to_its_own_rows(bogor_household):
    h = Household.objects.get(pk=bogor_household.pk)
    assert h.village_id == BOGOR_VILLAGE
    for p in h.members.all():
        assert sealed.unseal(p.nik_enc, context=sealed.NIK, row=p.public_id).startswith("320101")
        assert p.birth_date is not None
