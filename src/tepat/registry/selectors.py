"""Reads from the registry, always through the caller's region scope.

A household outside the caller's regions is reported exactly like one that does not exist, so
scope cannot be probed. Full NIK and phone are revealed only by `person_reveal`, which audits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from tepat.accounts.scoping import can_view_full_record, region_q
from tepat.core import crypto
from tepat.core.audit import audit_read as core_audit_read
from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.core.masking import mask_account, mask_nik, mask_phone
from tepat.registry.cleaning import name_search_key
from tepat.registry.models import ChangeRecord, FinancialAddress, Household, Person
from tepat.registry.snapshots import (
    ACCOUNT_CONTEXT,
    KK_CONTEXT,
    NIK_CONTEXT,
    PHONE_CONTEXT,
    diff,
)
from tepat.registry.validators import normalize_number

MAX_RESULTS = 100


def audit_read(
    *,
    user: Any,
    request: HttpRequest | None,
    action: str,
    target_type: str = "",
    target_id: str = "",
    region_code: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Every read of personal data is audited (pages and API alike): who, what, from where;
    counted against the reader's hourly volume by core.audit.audit_read (bulk-read alerts)."""
    records = int((detail or {}).get("results", 1))
    core_audit_read(
        actor=user,
        what=action,
        count=records,
        target_type=target_type,
        target_id=target_id,
        region_code=region_code,
        request=request,
        detail=detail,
    )


def search_audit_detail(*, nik: str, name: str, region_code: str, results: int) -> dict[str, Any]:
    """What a search asked, without the NIK in clear."""
    return {
        "nik": mask_nik(normalize_number(nik)) if nik else "",
        "name": name[:60],
        "region_code": region_code[:10],
        "results": results,
    }


def households_visible(user: Any) -> QuerySet[Household]:
    return Household.objects.filter(region_q(user, "village__code"))


def persons_visible(user: Any) -> QuerySet[Person]:
    return Person.objects.filter(region_q(user, "household__village__code"))


@dataclass
class PersonRow:
    public_id: str
    household_public_id: str
    nik_masked: str
    full_name: str
    sex: str
    birth_date: dt.date
    relationship: str
    village_code: str
    deceased_on: dt.date | None


def _person_row(p: Person) -> PersonRow:
    return PersonRow(
        public_id=p.public_id,
        household_public_id=p.household.public_id,
        nik_masked=mask_nik(crypto.decrypt(p.nik_enc, context=NIK_CONTEXT)),
        full_name=p.full_name,
        sex=p.sex,
        birth_date=p.birth_date,
        relationship=p.relationship,
        village_code=p.household.village_id,
        deceased_on=p.deceased_on,
    )


def person_search(
    *,
    user: Any,
    nik: str = "",
    name: str = "",
    region_code: str = "",
    limit: int = 50,
) -> list[PersonRow]:
    """Search persons by exact NIK (blind index), name (prefix of any word) and region prefix."""
    nik = normalize_number(nik)
    region_code = region_code.replace(".", "").strip()
    name_key = name_search_key(name)
    if not (nik or name_key or region_code):
        raise TepatError(
            "Isi NIK, nama, atau wilayah / give a NIK, a name or a region", code="empty_query"
        )
    if nik and (len(nik) != 16 or not nik.isdigit()):
        raise TepatError("NIK harus 16 digit / NIK must have 16 digits", field="nik")
    if region_code and not region_code.isdigit():
        raise TepatError("Kode wilayah tidak valid / invalid region code", field="region_code")
    qs = persons_visible(user).select_related("household")
    if nik:
        qs = qs.filter(nik_index=crypto.blind_index(nik, purpose="nik"))
    if name_key:
        # A name search matches the start of the full name or of any later word.
        from django.db.models import Q

        qs = qs.filter(
            Q(name_search__startswith=name_key) | Q(name_search__contains=" " + name_key)
        )
    if region_code:
        qs = qs.filter(household__village__code__startswith=region_code)
    limit = max(1, min(limit, MAX_RESULTS))
    return [_person_row(p) for p in qs.order_by("name_search", "id")[:limit]]


def household_get(*, user: Any, public_id: str) -> Household:
    try:
        return households_visible(user).get(public_id=public_id)
    except Household.DoesNotExist as exc:
        raise NotFound() from exc


def person_get(*, user: Any, public_id: str) -> Person:
    try:
        return persons_visible(user).select_related("household").get(public_id=public_id)
    except Person.DoesNotExist as exc:
        raise NotFound() from exc


@dataclass
class FinancialRow:
    kind: str
    provider: str
    account_masked: str
    holder_name: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None


@dataclass
class MemberView:
    person: Person
    nik_masked: str
    phone_masked: str
    age: int
    financial: list[FinancialRow] = field(default_factory=list)


@dataclass
class HouseholdView:
    household: Household
    kk_masked: str
    members: list[MemberView]
    children_by_school_level: dict[str, int]
    elderly: int
    with_disability: int
    pregnant: int


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def household_view(*, household: Household, today: dt.date | None = None) -> HouseholdView:
    """The household page's data: members masked, aggregates the PMT and programmes use."""
    today = today or dt.date.today()
    members = list(household.members.order_by("birth_date", "id"))
    fas: dict[int, list[FinancialRow]] = {}
    for fa in FinancialAddress.objects.filter(person__household=household).order_by("valid_from"):
        fas.setdefault(fa.person_id, []).append(
            FinancialRow(
                kind=fa.kind,
                provider=fa.provider,
                account_masked=mask_account(
                    crypto.decrypt(fa.account_enc, context=ACCOUNT_CONTEXT)
                ),
                holder_name=fa.holder_name,
                valid_from=fa.valid_from,
                valid_to=fa.valid_to,
            )
        )
    views = []
    school: dict[str, int] = {"sd": 0, "smp": 0, "sma": 0}
    elderly = disabled = pregnant = 0
    for m in members:
        age = _age(m.birth_date, today)
        if m.deceased_on is None:
            if m.school_level in school:
                school[m.school_level] += 1
            elderly += age >= 60
            disabled += bool(m.disability)
            pregnant += m.pregnant
        phone = crypto.decrypt(m.phone_enc, context=PHONE_CONTEXT) if m.phone_enc else ""
        views.append(
            MemberView(
                person=m,
                nik_masked=mask_nik(crypto.decrypt(m.nik_enc, context=NIK_CONTEXT)),
                phone_masked=mask_phone(phone),
                age=age,
                financial=fas.get(m.pk, []),
            )
        )
    return HouseholdView(
        household=household,
        kk_masked=mask_nik(crypto.decrypt(household.kk_enc, context=KK_CONTEXT)),
        members=views,
        children_by_school_level=school,
        elderly=elderly,
        with_disability=disabled,
        pregnant=pregnant,
    )


@dataclass
class HistoryRow:
    at: dt.datetime
    entity_type: str
    entity_id: str
    action: str
    source: str
    actor_label: str
    reason: str
    changes: dict[str, tuple[Any, Any]]


def household_history(*, household: Household, limit: int = 200) -> list[HistoryRow]:
    """Every change to the household, its members and their accounts, newest first."""
    person_ids = _entity_ids_ever_in(household)
    records = ChangeRecord.objects.filter(household=household) | ChangeRecord.objects.filter(
        entity_type="person", entity_id__in=person_ids
    )
    rows = []
    for r in records.order_by("-at", "-id")[:limit]:
        rows.append(
            HistoryRow(
                at=r.at,
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                action=r.action,
                source=r.source,
                actor_label=r.actor_label,
                reason=r.reason,
                changes=diff(r.before, r.after),
            )
        )
    return rows


def _entity_ids_ever_in(household: Household) -> list[str]:
    return list(
        ChangeRecord.objects.filter(household=household, entity_type="person")
        .values_list("entity_id", flat=True)
        .distinct()
    )


def household_as_of(*, household: Household, at: dt.datetime) -> dict[str, Any] | None:
    """What the registry knew about the household at `at`: its snapshot and its members then.

    Returns None when the household did not exist yet. Members are the persons whose latest
    snapshot at that moment places them in this household (so moves in and out are honoured).
    """
    latest = (
        ChangeRecord.objects.filter(
            household=household, entity_type="household", entity_id=household.public_id, at__lte=at
        )
        .order_by("-at", "-id")
        .first()
    )
    if latest is None or latest.after is None:
        return None
    members = []
    for pid in _entity_ids_ever_in(household):
        rec = (
            ChangeRecord.objects.filter(entity_type="person", entity_id=pid, at__lte=at)
            .order_by("-at", "-id")
            .first()
        )
        if rec is not None and rec.after and rec.after.get("household") == household.public_id:
            members.append(rec.after)
    members.sort(key=lambda m: (m.get("birth_date") or "", m["public_id"]))
    return {"household": latest.after, "members": members, "as_of": at.isoformat()}


@dataclass
class RevealedPerson:
    person: Person
    nik: str
    phone: str
    accounts: list[tuple[str, str, str]]  # (kind, provider, account)


def person_reveal(
    *, user: Any, person: Person, request: HttpRequest | None, purpose: str
) -> RevealedPerson:
    """The full record (NIK, phone, account numbers) for a stated purpose. Always audited."""
    if not can_view_full_record(user):
        raise PermissionDenied(
            "Peran Anda tidak boleh melihat data lengkap / your role cannot view full records"
        )
    purpose = purpose.strip()
    if len(purpose) < 5:
        raise TepatError(
            "Tuliskan keperluan melihat data lengkap / state why you need the full record",
            field="purpose",
        )
    # Re-check scope: a caller holding a Person object must still be allowed to see it.
    person = person_get(user=user, public_id=person.public_id)
    # A read like any other (it counts towards the reader's hourly volume alert).
    audit_read(
        user=user,
        action="person.view_full",
        target_type="person",
        target_id=person.public_id,
        region_code=person.household.village_id,
        request=request,
        detail={"purpose": purpose[:255]},
    )
    accounts = [
        (fa.kind, fa.provider, crypto.decrypt(fa.account_enc, context=ACCOUNT_CONTEXT))
        for fa in person.financial_addresses.filter(valid_to__isnull=True)
    ]
    return RevealedPerson(
        person=person,
        nik=crypto.decrypt(person.nik_enc, context=NIK_CONTEXT),
        phone=crypto.decrypt(person.phone_enc, context=PHONE_CONTEXT) if person.phone_enc else "",
        accounts=accounts,
    )


def person_phones(*, public_ids: list[str]) -> dict[str, str]:
    """Registered phone numbers for sending notices and one-time codes (never shown on screen).

    Persons without a phone are absent from the result.
    """
    out: dict[str, str] = {}
    for start in range(0, len(public_ids), 900):
        rows = Person.objects.filter(
            public_id__in=public_ids[start : start + 900], deceased_on__isnull=True
        ).exclude(phone_enc="")
        for pid, enc in rows.values_list("public_id", "phone_enc"):
            out[pid] = crypto.decrypt(enc, context=PHONE_CONTEXT)
    return out
