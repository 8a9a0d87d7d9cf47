"""Registry write-back: golden values onto the registry persons and households they change,
through registry.bulk, each change with its history record (source "integration:<sources>")."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from tepat.core.subjectkeys import SubjectKeyring, household_subject
from tepat.integration.golden.loading import REGISTRY, _Rec
from tepat.integration.golden.survivorship import APPLIED_FIELDS
from tepat.integration.models import LinkRun
from tepat.integration.sources import HOUSEHOLD_FIELDS
from tepat.registry import bulk, sealed
from tepat.registry.cleaning import name_search_key
from tepat.registry.models import Household, Person
from tepat.registry.snapshots import PHONE_CONTEXT, diff, household_snapshot, person_snapshot

if TYPE_CHECKING:
    from tepat.accounts.models import User


# Their columns: a birth date is stored as its clear year and the encrypted date.
APPLIED_COLUMNS = ("full_name", "sex", "birth_year", "birth_date_enc", "deceased_on")


def _person_updates(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        n: fields[n]["value"]
        for n in APPLIED_FIELDS
        if n in fields and fields[n]["source"] != REGISTRY
    }


def _coerce(name: str, value: Any) -> Any:
    if name in ("birth_date", "deceased_on") and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _may_change_person(reg: _Rec, fields: dict[str, Any]) -> bool:
    """Whether the golden values differ from the registry person's loaded values (a cheap
    filter; `_apply_persons` decides on the full row). Runs for every linked person: the
    loop is `_person_updates` without building its dict. Dates on both sides are ISO text
    (`_load_records`), so they compare as loaded."""
    for name in APPLIED_FIELDS:
        held = fields.get(name)
        if held is None or held["source"] == REGISTRY:
            continue
        value = held["value"]
        current = reg.values.get(name)
        if value == current:
            continue
        if name == "full_name":
            if _name_key(value) != _name_key(current or ""):
                return True
        elif value != current:
            return True
    return False


def _name_key(name: str) -> str:
    """`name_search_key`, without its Unicode pass where that pass changes nothing: no ASCII
    character decomposes (NFKD) or is a combining mark, so for an ASCII name the key is the
    lower-cased, space-collapsed name. Nearly every name is ASCII, and this filter compares two
    names per linked person (the Unicode pass was most of the filter's time)."""
    if name.isascii():
        return " ".join(name.lower().split())
    return name_search_key(name)


def _apply_persons(
    *,
    run: LinkRun,
    acting_user: User | None,
    updates: dict[int, tuple[_Rec, dict[str, Any]]],
    now: dt.datetime,
) -> int:
    """Write golden values back to the registry persons they change, each with its history."""
    changed: list[bulk.PersonUpdate] = []
    ids = sorted(updates)
    ring = SubjectKeyring()  # history sealed under each person's key (registry.snapshots)
    for i in range(0, len(ids), 900):
        batch = Person.objects.select_related("household").in_bulk(ids[i : i + 900])
        ring.load(p.public_id for p in batch.values())
        for pk in ids[i : i + 900]:
            person = batch[pk]
            if person.erased_at is not None:
                continue  # erased (UU 27/2022 Art. 8): nothing new is recorded about them
            reg, fields = updates[pk]
            hpid = person.household.public_id
            phone = (
                sealed.unseal(person.phone_enc, context=PHONE_CONTEXT, row=person.public_id)
                if person.phone_enc
                else ""
            )
            before = person_snapshot(
                person, household_public_id=hpid, nik=reg.values["nik"], phone=phone
            )
            used: set[str] = set()
            for name, value in _person_updates(fields).items():
                value = _coerce(name, value)
                if name == "full_name":
                    if name_search_key(value) == name_search_key(person.full_name):
                        continue  # the same name, only in capitals: keep the registry's casing
                    if value.isupper():
                        value = value.title()
                if getattr(person, name) != value:
                    setattr(person, name, value)
                    used.add(fields[name]["source"])
            if not used:
                continue
            person.name_search = name_search_key(person.full_name)
            person.version += 1
            after = person_snapshot(
                person, household_public_id=hpid, nik=reg.values["nik"], phone=phone
            )
            if not diff(before, after):
                continue
            changed.append(
                bulk.PersonUpdate(
                    person, before, after, source="integration:" + "+".join(sorted(used))
                )
            )
    bulk.persons_update(
        acting_user=acting_user,
        at=now,
        reason=f"golden record, link run {run.public_id}",
        fields=[*APPLIED_COLUMNS, "name_search"],
        updates=changed,
        keyring=ring,
    )
    return len(changed)


def _apply_households(
    *,
    run: LinkRun,
    acting_user: User | None,
    household_values: list[tuple[_Rec, dict[str, Any]]],
    now: dt.datetime,
) -> int:
    """Household attributes from a survey (or any source authoritative for them) onto the
    registry household of the linked person, each change with its history record. When several
    linked members of one household carry survey values, the household head's record wins."""
    chosen: dict[int, dict[str, Any]] = {}
    for reg, fields in household_values:
        values = {
            k[len("household.") :]: v for k, v in fields.items() if k.startswith("household.")
        }
        if not values:
            continue
        hid = reg.household_id
        if hid is None:
            continue
        if hid not in chosen or reg.relationship == "head":
            chosen[hid] = values
    changed: list[bulk.HouseholdUpdate] = []
    ids = sorted(chosen)
    ring = SubjectKeyring()
    for i in range(0, len(ids), 900):
        batch = Household.objects.in_bulk(ids[i : i + 900])
        ring.load(household_subject(h.public_id) for h in batch.values())
        for hid in ids[i : i + 900]:
            household, values = batch[hid], chosen[hid]
            if ring.is_shredded(household_subject(household.public_id)):
                continue  # an erased family: nothing new is recorded about it
            updates = {
                n: v["value"]
                for n, v in values.items()
                if v["source"] != REGISTRY and getattr(household, n) != v["value"]
            }
            if not updates:
                continue
            before = household_snapshot(household)
            for name, value in updates.items():
                setattr(household, name, value)
            household.version += 1
            after = household_snapshot(household)
            used = sorted({values[n]["source"] for n in updates})
            changed.append(
                bulk.HouseholdUpdate(
                    household, before, after, source="integration:" + "+".join(used)
                )
            )
    bulk.households_update(
        acting_user=acting_user,
        at=now,
        reason=f"golden record, link run {run.public_id}",
        fields=HOUSEHOLD_FIELDS,
        updates=changed,
        keyring=ring,
    )
    return len(changed)
