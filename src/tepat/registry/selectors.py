"""Reads from the registry, always through the caller's region scope.

A household outside the caller's regions is reported exactly like one that does not exist, so
scope cannot be probed. Full NIK and phone are revealed only by `person_reveal`, which audits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from tepat.accounts.scoping import can_view_full_record, is_national_reader, region_q
from tepat.core import crypto
from tepat.core.audit import audit_read as core_audit_read
from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.core.masking import mask_account, mask_nik, mask_phone
from tepat.registry import sealed
from tepat.registry.cleaning import name_search_key
from tepat.registry.models import ChangeRecord, FinancialAddress, Household, Person
from tepat.registry.snapshots import (
    ACCOUNT_CONTEXT,
    KK_CONTEXT,
    NIK_CONTEXT,
    PHONE_CONTEXT,
    diff,
    open_records,
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
    birth_date: dt.date | None
    relationship: str
    village_code: str
    deceased_on: dt.date | None


def _person_row(p: Person) -> PersonRow:
    return PersonRow(
        public_id=p.public_id,
        household_public_id=p.household.public_id,
        nik_masked=mask_nik(sealed.unseal(p.nik_enc, context=NIK_CONTEXT, row=p.public_id)),
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
    qs = person_search_query(user=user, nik=nik, name=name, region_code=region_code)
    limit = max(1, min(limit, MAX_RESULTS))
    return [_person_row(p) for p in qs[:limit]]


SEARCH_PAGE_SIZE = 50
SEARCH_MAX_PAGE = 200  # 10,000 rows at 50 a page: past that, narrow the search


@dataclass
class SearchPage:
    rows: list[PersonRow]
    page: int
    per_page: int
    has_more: bool

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)


def person_search_page(
    *,
    user: Any,
    nik: str = "",
    name: str = "",
    region_code: str = "",
    page: int = 1,
    per_page: int | None = None,
) -> SearchPage:
    """One page of `person_search_query`, and whether another follows (one row more is read,
    not the whole count: a name prefix may match many thousands of people)."""
    per_page = per_page or SEARCH_PAGE_SIZE
    if not 1 <= page <= SEARCH_MAX_PAGE:
        raise TepatError(
            f"Halaman harus 1 sampai {SEARCH_MAX_PAGE}; persempit pencarian / "
            f"the page must be 1 to {SEARCH_MAX_PAGE}; narrow the search",
            code="page_out_of_range",
            field="page",
        )
    qs = person_search_query(user=user, nik=nik, name=name, region_code=region_code)
    start = (page - 1) * per_page
    found = list(qs[start : start + per_page + 1])
    return SearchPage(
        rows=[_person_row(p) for p in found[:per_page]],
        page=page,
        per_page=per_page,
        has_more=len(found) > per_page,
    )


def person_search_query(
    *, user: Any, nik: str = "", name: str = "", region_code: str = ""
) -> QuerySet[Person]:
    """The persons a search finds in the user's regions, in name order (validated input)."""
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
    return qs.order_by("name_search", "id")


def regions_in_scope(user: Any, regions: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (code, name) pairs a region picker offers `user`: regions that lie inside one of the
    user's scopes or contain one (the way down to them); every region for national readers."""
    if is_national_reader(user):
        return list(regions)
    scopes = list(getattr(user, "region_codes", []) or [])
    return [
        (code, name)
        for code, name in regions
        if any(code.startswith(s) or s.startswith(code) for s in scopes)
    ]


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


def _age_of(person: Person, on: dt.date) -> int:
    born = person.birth_date
    # No full date held (erased): the age the birth year allows, at most one year too many.
    return _age(born, on) if born is not None else on.year - person.birth_year


def _eldest_first(members: list[Person]) -> list[Person]:
    """Members by birth date (the clear year first, then the decrypted date), then id."""
    return sorted(
        members, key=lambda m: (m.birth_year, m.birth_date or dt.date(m.birth_year, 1, 1), m.pk)
    )


def birth_dates(*, person_ids: list[int]) -> dict[int, dt.date]:
    """The full birth dates of many persons, decrypted in bulk: {person id: date}. For
    computations (ages at a date); persons without a date held are absent."""
    out: dict[int, dt.date] = {}
    for start in range(0, len(person_ids), 900):
        rows = list(
            Person.objects.filter(pk__in=person_ids[start : start + 900])
            .exclude(birth_date_enc="")
            .values_list("pk", "public_id", "birth_date_enc")
        )
        isos = sealed.birth_dates_iso((pid, token, None) for _, pid, token in rows)
        out.update(
            (pk, dt.date.fromisoformat(iso)) for (pk, _, _), iso in zip(rows, isos, strict=True)
        )
    return out


def household_view(*, household: Household, today: dt.date | None = None) -> HouseholdView:
    """The household page's data: members masked, aggregates the PMT and programmes use."""
    today = today or dt.date.today()
    members = _eldest_first(list(household.members.order_by("birth_year", "id")))
    fas: dict[int, list[FinancialRow]] = {}
    for fa in FinancialAddress.objects.filter(person__household=household).order_by("valid_from"):
        fas.setdefault(fa.person_id, []).append(
            FinancialRow(
                kind=fa.kind,
                provider=fa.provider,
                account_masked=mask_account(
                    sealed.unseal(fa.account_enc, context=ACCOUNT_CONTEXT, row=fa.public_id)
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
        age = _age_of(m, today)
        if m.deceased_on is None:
            if m.school_level in school:
                school[m.school_level] += 1
            elderly += age >= 60
            disabled += bool(m.disability)
            pregnant += m.pregnant
        phone = (
            sealed.unseal(m.phone_enc, context=PHONE_CONTEXT, row=m.public_id)
            if m.phone_enc
            else ""
        )
        views.append(
            MemberView(
                person=m,
                nik_masked=mask_nik(sealed.unseal(m.nik_enc, context=NIK_CONTEXT, row=m.public_id)),
                phone_masked=mask_phone(phone),
                age=age,
                financial=fas.get(m.pk, []),
            )
        )
    return HouseholdView(
        household=household,
        kk_masked=mask_nik(
            sealed.unseal(household.kk_enc, context=KK_CONTEXT, row=household.public_id)
        ),
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
    found = list(records.order_by("-at", "-id")[:limit])
    for r, (before, after) in zip(found, open_records(found), strict=True):
        rows.append(
            HistoryRow(
                at=r.at,
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                action=r.action,
                source=r.source,
                actor_label=r.actor_label,
                reason=r.reason,
                changes=diff(before, after),
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
    records = [latest]
    for pid in _entity_ids_ever_in(household):
        rec = (
            ChangeRecord.objects.filter(entity_type="person", entity_id=pid, at__lte=at)
            .order_by("-at", "-id")
            .first()
        )
        if rec is not None and rec.after and rec.after.get("household") == household.public_id:
            records.append(rec)
    opened = [after for _, after in open_records(records)]
    members = [m for m in opened[1:] if m]
    members.sort(key=lambda m: (m.get("birth_date") or "", m["public_id"]))
    return {"household": opened[0], "members": members, "as_of": at.isoformat()}


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
        (
            fa.kind,
            fa.provider,
            sealed.unseal(fa.account_enc, context=ACCOUNT_CONTEXT, row=fa.public_id),
        )
        for fa in person.financial_addresses.filter(valid_to__isnull=True)
    ]
    return RevealedPerson(
        person=person,
        nik=sealed.unseal(person.nik_enc, context=NIK_CONTEXT, row=person.public_id),
        phone=sealed.unseal(person.phone_enc, context=PHONE_CONTEXT, row=person.public_id)
        if person.phone_enc
        else "",
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
        open_phone = sealed.unsealer(context=PHONE_CONTEXT)
        for pid, enc in rows.values_list("public_id", "phone_enc"):
            out[pid] = open_phone(enc, pid)
    return out


@dataclass
class SubjectIdentifiers:
    """A data subject's own identifiers in clear: NIK, the family card number, phone and account
    numbers (financial address public id -> number)."""

    nik: str
    kk: str
    phone: str
    accounts: dict[str, str]


def subject_identifiers(*, person: Person) -> SubjectIdentifiers:
    """The person's own identifiers in clear, for their access export (UU 27/2022 Art. 7). Only
    for the subject who proved who they are (the portal's one-time code) or an access request an
    office answers under audit; staff browsing use `person_reveal`. The caller audits."""
    return SubjectIdentifiers(
        nik=sealed.unseal(person.nik_enc, context=NIK_CONTEXT, row=person.public_id),
        kk=sealed.unseal(
            person.household.kk_enc, context=KK_CONTEXT, row=person.household.public_id
        ),
        phone=sealed.unseal(person.phone_enc, context=PHONE_CONTEXT, row=person.public_id)
        if person.phone_enc
        else "",
        accounts={
            fa.public_id: sealed.unseal(fa.account_enc, context=ACCOUNT_CONTEXT, row=fa.public_id)
            for fa in person.financial_addresses.all()
        },
    )


def financial_addresses_of(*, person: Person) -> QuerySet[FinancialAddress]:
    """Every financial address the person ever had (current and closed), oldest first."""
    return person.financial_addresses.order_by("valid_from", "id")
