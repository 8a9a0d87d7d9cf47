"""Registry read API. Every endpoint filters by the caller's region scope; NIK and phone masked.

The full record is a separate, audited endpoint that requires a stated purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tepat.core.apischema import REGION_FILTER_PATTERN
from tepat.core.errors import NotFound, TepatError
from tepat.registry import selectors

router = Router(tags=["registry"])


class PersonOut(Schema):
    public_id: str
    household_public_id: str
    nik_masked: str
    full_name: str
    sex: str
    birth_date: dt.date | None  # None once the person is erased (the birth year stays)
    relationship: str
    village_code: str
    deceased_on: dt.date | None


class PersonDetailOut(PersonOut):
    marital_status: str
    education: str
    school_level: str
    work_sector: str
    disability: str
    pregnant: bool
    phone_masked: str


class FinancialOut(Schema):
    kind: str
    provider: str
    account_masked: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None


class MemberOut(PersonDetailOut):
    age: int
    financial_addresses: list[FinancialOut]


class HouseholdOut(Schema):
    public_id: str
    kk_masked: str
    village_code: str
    address: str
    rt: str
    rw: str
    attributes: dict[str, Any]
    children_by_school_level: dict[str, int]
    elderly: int
    with_disability: int
    pregnant: int
    members: list[MemberOut]


class SearchParams(Schema):
    """At least one of `nik`, `name` (letters) and `region_code`; with none there is nothing to
    look for and the answer is an empty list."""

    nik: str = Field("", pattern=r"^([0-9]{16})?$", description="16 digits")
    name: str = Field("", max_length=100)
    region_code: str = Field("", pattern=REGION_FILTER_PATTERN)
    limit: int = Field(50, ge=1, le=selectors.MAX_RESULTS)


class ChangeOut(Schema):
    at: dt.datetime
    entity_type: str
    entity_id: str
    action: str
    source: str
    actor: str
    reason: str
    changes: dict[str, list[Any]]


class AsOfOut(Schema):
    as_of: dt.datetime
    household: dict[str, Any]
    members: list[dict[str, Any]]


class RevealIn(Schema):
    purpose: str


class RevealOut(Schema):
    public_id: str
    nik: str
    phone: str
    accounts: list[dict[str, str]]


@router.get("/persons", response=list[PersonOut], summary="Cari orang / search persons")
def search_persons(request: HttpRequest, params: Query[SearchParams]) -> list[Any]:
    try:
        rows = selectors.person_search(
            user=request.user,
            nik=params.nik,
            name=params.name,
            region_code=params.region_code,
            limit=params.limit,
        )
    except TepatError as exc:
        if exc.code != "empty_query":
            raise
        rows = []  # nothing to look for (`nik=&name=`, a name without letters): nothing found
    selectors.audit_read(
        user=request.user,
        request=request,
        action="registry.search",
        detail=selectors.search_audit_detail(
            nik=params.nik, name=params.name, region_code=params.region_code, results=len(rows)
        ),
    )
    return rows


def _audit(request: HttpRequest, action: str, kind: str, public_id: str, region: str) -> None:
    selectors.audit_read(
        user=request.user,
        request=request,
        action=action,
        target_type=kind,
        target_id=public_id,
        region_code=region,
    )


def _member_out(m: selectors.MemberView, village: str, hpid: str) -> dict[str, Any]:
    p = m.person
    return {
        "public_id": p.public_id,
        "household_public_id": hpid,
        "nik_masked": m.nik_masked,
        "full_name": p.full_name,
        "sex": p.sex,
        "birth_date": p.birth_date,
        "relationship": p.relationship,
        "village_code": village,
        "deceased_on": p.deceased_on,
        "marital_status": p.marital_status,
        "education": p.education,
        "school_level": p.school_level,
        "work_sector": p.work_sector,
        "disability": p.disability,
        "pregnant": p.pregnant,
        "phone_masked": m.phone_masked,
        "age": m.age,
        "financial_addresses": [f.__dict__ for f in m.financial],
    }


@router.get("/households/{public_id}", response=HouseholdOut, summary="Rumah tangga / household")
def get_household(request: HttpRequest, public_id: str) -> dict[str, Any]:
    from tepat.registry.cleaning import HOUSEHOLD_EDITABLE

    h = selectors.household_get(user=request.user, public_id=public_id)
    _audit(request, "household.view", "household", h.public_id, h.village_id)
    view = selectors.household_view(household=h)
    attrs = {k: getattr(h, k) for k in HOUSEHOLD_EDITABLE if k not in {"address", "rt", "rw"}}
    return {
        "public_id": h.public_id,
        "kk_masked": view.kk_masked,
        "village_code": h.village_id,
        "address": h.address,
        "rt": h.rt,
        "rw": h.rw,
        "attributes": attrs,
        "children_by_school_level": view.children_by_school_level,
        "elderly": view.elderly,
        "with_disability": view.with_disability,
        "pregnant": view.pregnant,
        "members": [_member_out(m, h.village_id, h.public_id) for m in view.members],
    }


@router.get(
    "/households/{public_id}/history",
    response=list[ChangeOut],
    summary="Riwayat perubahan / change history",
)
def household_history(request: HttpRequest, public_id: str) -> list[dict[str, Any]]:
    h = selectors.household_get(user=request.user, public_id=public_id)
    _audit(request, "household.view_history", "household", h.public_id, h.village_id)
    return [
        {
            "at": r.at,
            "entity_type": r.entity_type,
            "entity_id": r.entity_id,
            "action": r.action,
            "source": r.source,
            "actor": r.actor_label,
            "reason": r.reason,
            "changes": {k: list(v) for k, v in r.changes.items()},
        }
        for r in selectors.household_history(household=h)
    ]


@router.get(
    "/households/{public_id}/as-of",
    response=AsOfOut,
    summary="Data per tanggal / what the registry knew at a moment",
)
def household_as_of(request: HttpRequest, public_id: str, at: dt.datetime) -> Any:
    h = selectors.household_get(user=request.user, public_id=public_id)
    _audit(request, "household.view_as_of", "household", h.public_id, h.village_id)
    snap = selectors.household_as_of(household=h, at=at)
    if snap is None:
        raise NotFound("Belum terdaftar pada waktu itu / not registered at that time")
    return snap


@router.get("/persons/{public_id}", response=PersonDetailOut, summary="Orang / person (masked)")
def get_person(request: HttpRequest, public_id: str) -> dict[str, Any]:
    p = selectors.person_get(user=request.user, public_id=public_id)
    _audit(request, "person.view", "person", p.public_id, p.household.village_id)
    view = selectors.household_view(household=p.household)
    member = next(m for m in view.members if m.person.pk == p.pk)
    return _member_out(member, p.household.village_id, p.household.public_id)


@router.post(
    "/persons/{public_id}/reveal",
    response=RevealOut,
    summary="Data lengkap (diaudit) / full record, audited",
)
def reveal_person(request: HttpRequest, public_id: str, body: RevealIn) -> dict[str, Any]:
    p = selectors.person_get(user=request.user, public_id=public_id)
    full = selectors.person_reveal(
        user=request.user, person=p, request=request, purpose=body.purpose
    )
    return {
        "public_id": p.public_id,
        "nik": full.nik,
        "phone": full.phone,
        "accounts": [{"kind": k, "provider": pr, "account": a} for k, pr, a in full.accounts],
    }
