"""Bulk writes to the registry: many rows at once, each with its change record.

Two jobs write registry rows by the hundred thousand: a load of a registry extract
(registry.loading) and a linkage run writing golden values back (integration.golden). Both come
through here, so that every row they write has the same change record a single-record service
(registry.services) writes for it: the same snapshots, sealed under the subject's key, with the
source, reason and acting user. Rows and records are written set-wise with core.bulk (COPY on
PostgreSQL, executemany on SQLite), never one ORM save per row.

The callers own the transaction and the audit event of the whole job; nothing here checks
permissions (these are system jobs run by an administrator or the linkage run).

The builders shared with the single-record services live here too: `new_household` and
`new_person` (unsaved rows from cleaned values, their secrets sealed to the row) and
`change_record` (one history record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tepat.core import crypto
from tepat.core.bulk import bulk_insert, fill_ids, update_rows
from tepat.core.subjectkeys import SubjectKeyring
from tepat.registry import sealed
from tepat.registry.cleaning import HOUSEHOLD_EDITABLE, PERSON_EDITABLE, name_search_key
from tepat.registry.models import ChangeRecord, FinancialAddress, Household, Person
from tepat.registry.snapshots import (
    financial_snapshot,
    household_snapshot,
    person_snapshot,
    seal_snapshot,
)

if TYPE_CHECKING:
    from tepat.accounts.models import User


Snapshot = dict[str, Any]


def _actor_label(acting_user: User | None) -> str:
    return getattr(acting_user, "username", "") or "system"


def change_record(
    *,
    at: dt.datetime,
    entity_type: str,
    entity_id: str,
    household: Household,
    action: str,
    before: Snapshot | None,
    after: Snapshot | None,
    source: str,
    reason: str,
    acting_user: User | None,
    keyring: SubjectKeyring | None = None,
) -> ChangeRecord:
    """A history record (unsaved), its identifying values sealed under the subject's key
    (snapshots.py). Bulk writers pass one `keyring` for the batch and `keyring.save()` before
    inserting; without one, a new key is inserted at once."""
    ring = keyring or SubjectKeyring(create_now=True)
    return ChangeRecord(
        at=at,
        entity_type=entity_type,
        entity_id=entity_id,
        household=household,
        action=action,
        before=seal_snapshot(entity_type, before, ring),
        after=seal_snapshot(entity_type, after, ring),
        source=source,
        reason=reason,
        actor=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        actor_label=_actor_label(acting_user),
    )


def seal_person_secrets(person: Person, *, nik: str, phone: str) -> None:
    """Set a person's NIK and phone: encrypted to the row, with their blind indexes."""
    person.nik_enc = sealed.seal(nik, context=sealed.NIK, row=person.public_id)
    person.nik_index = crypto.blind_index(nik, purpose="nik")
    person.phone_enc = (
        sealed.seal(phone, context=sealed.PHONE, row=person.public_id) if phone else ""
    )
    person.phone_index = crypto.blind_index(phone, purpose="phone") if phone else ""


def new_household(data: Mapping[str, Any]) -> Household:
    """An unsaved household from cleaned values (cleaning.clean_household)."""
    h = Household(
        kk_index=crypto.blind_index(data["kk"], purpose="kk"),
        village_id=data["village_code"],
    )
    h.kk_enc = sealed.seal(data["kk"], context=sealed.KK, row=h.public_id)
    for name in HOUSEHOLD_EDITABLE:
        if name in data:
            setattr(h, name, data[name])
    return h


def new_person(data: Mapping[str, Any], *, household: Household) -> Person:
    """An unsaved person of `household` from cleaned values (cleaning.clean_person)."""
    person = Person(household=household, name_search=name_search_key(data["full_name"]))
    for name in PERSON_EDITABLE:
        if name != "phone" and name in data:
            setattr(person, name, data[name])
    seal_person_secrets(person, nik=data["nik"], phone=data.get("phone", ""))
    return person


def households_create(
    *,
    acting_user: User | None,
    source: str,
    at: dt.datetime,
    households: Sequence[tuple[Household, str]],
    reason: str = "",
) -> None:
    """Insert new households (from `new_household`), each paired with its No. KK in clear for
    its history, and their "create" change records. Sets each household's `pk`."""
    rows = [h for h, _ in households]
    for h in rows:
        h.created_at = h.updated_at = at
    bulk_insert(Household, rows)
    fill_ids(Household, rows)
    ring = SubjectKeyring(new_subjects=True)  # new rows: no key to look up
    changes = [
        change_record(
            at=at,
            entity_type="household",
            entity_id=h.public_id,
            household=h,
            action="create",
            before=None,
            after=household_snapshot(h, kk=kk),
            source=source,
            reason=reason,
            acting_user=acting_user,
            keyring=ring,
        )
        for h, kk in households
    ]
    ring.save()
    bulk_insert(ChangeRecord, changes)


def persons_create(
    *,
    acting_user: User | None,
    source: str,
    at: dt.datetime,
    persons: Sequence[tuple[Person, str, str]],
    accounts: Sequence[tuple[Person, str, str, str]] = (),
    reason: str = "",
) -> list[FinancialAddress]:
    """Insert new persons (from `new_person`, their households already saved), each paired
    with its NIK and phone in clear for its history, and their bank or e-wallet accounts
    (person, kind, provider, account number), each with its "create" change record. Sets each
    person's `pk`; returns the accounts written.

    One call for both: an account's history is sealed under its holder's key, and a new
    person's key is created by this call's keyring."""
    rows = [p for p, _, _ in persons]
    for person in rows:
        person.created_at = person.updated_at = at
        person.household_id = person.household.pk
    bulk_insert(Person, rows)
    fill_ids(Person, rows)
    ring = SubjectKeyring(new_subjects=True)
    changes = [
        change_record(
            at=at,
            entity_type="person",
            entity_id=person.public_id,
            household=person.household,
            action="create",
            before=None,
            after=person_snapshot(
                person, household_public_id=person.household.public_id, nik=nik, phone=phone
            ),
            source=source,
            reason=reason,
            acting_user=acting_user,
            keyring=ring,
        )
        for person, nik, phone in persons
    ]
    seal_account = sealed.sealer(context=sealed.ACCOUNT)
    fas = []
    for person, kind, provider, account in accounts:
        fa = FinancialAddress(
            person=person,
            kind=kind,
            provider=provider,
            account_index=crypto.blind_index(account, purpose="account"),
            holder_name=person.full_name,
            valid_from=at,
            source=source,
        )
        fa.account_enc = seal_account(account, fa.public_id)
        fas.append(fa)
        changes.append(
            change_record(
                at=at,
                entity_type="financial_address",
                entity_id=fa.public_id,
                household=person.household,
                action="create",
                before=None,
                after=financial_snapshot(fa, person_public_id=person.public_id, account=account),
                source=source,
                reason=reason,
                acting_user=acting_user,
                keyring=ring,
            )
        )
    bulk_insert(FinancialAddress, fas)
    ring.save()
    bulk_insert(ChangeRecord, changes)
    return fas


@dataclass(frozen=True, slots=True)
class PersonUpdate:
    """A person changed in memory (new values and version set), its snapshots before and
    after, and the source of the change."""

    person: Person
    before: Snapshot
    after: Snapshot
    source: str


@dataclass(frozen=True, slots=True)
class HouseholdUpdate:
    """A household changed in memory (new values and version set), its snapshots before and
    after, and the source of the change."""

    household: Household
    before: Snapshot
    after: Snapshot
    source: str


def persons_update(
    *,
    acting_user: User | None,
    at: dt.datetime,
    reason: str,
    fields: Sequence[str],
    updates: Sequence[PersonUpdate],
    keyring: SubjectKeyring,
) -> None:
    """Write the named `fields` (with `version` and `updated_at`) of changed persons, each with
    its "update" change record. `keyring` holds the persons' keys, loaded in bulk by the
    caller (who also used it to leave erased subjects out)."""
    _rows_update(
        Person, "person", [(u.person, u.person.household, u) for u in updates],
        acting_user=acting_user, at=at, reason=reason, fields=fields, keyring=keyring,
    )  # fmt: skip


def households_update(
    *,
    acting_user: User | None,
    at: dt.datetime,
    reason: str,
    fields: Sequence[str],
    updates: Sequence[HouseholdUpdate],
    keyring: SubjectKeyring,
) -> None:
    """Write the named `fields` (with `version` and `updated_at`) of changed households, each
    with its "update" change record (see `persons_update`)."""
    _rows_update(
        Household, "household", [(u.household, u.household, u) for u in updates],
        acting_user=acting_user, at=at, reason=reason, fields=fields, keyring=keyring,
    )  # fmt: skip


def _rows_update(
    model: type[Person] | type[Household],
    entity_type: str,
    items: Sequence[tuple[Any, Household, PersonUpdate | HouseholdUpdate]],
    *,
    acting_user: User | None,
    at: dt.datetime,
    reason: str,
    fields: Sequence[str],
    keyring: SubjectKeyring,
) -> None:
    """Rows (persons or households) with their households and updates: the rows' named fields,
    version and updated_at, and one "update" change record each."""
    changes = [
        change_record(
            at=at,
            entity_type=entity_type,
            entity_id=row.public_id,
            household=household,
            action="update",
            before=u.before,
            after=u.after,
            source=u.source,
            reason=reason,
            acting_user=acting_user,
            keyring=keyring,
        )
        for row, household, u in items
    ]
    rows = [row for row, _household, _u in items]
    for row in rows:
        row.updated_at = at
    update_rows(model, rows, [*fields, "version", "updated_at"])
    keyring.save()
    bulk_insert(ChangeRecord, changes)
