"""Programmes and cycles API. Handlers parse input and call a service or selector."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from tepat.accounts.selectors import staff_user
from tepat.programs import selectors, services
from tepat.programs.models import Programme
from tepat.programs.schemas import CycleOut, ReasonIn, cycle_out

router = Router(tags=["programs"])


class ProgrammeIn(Schema):
    code: str
    name: str
    kind: str
    eligibility_rule: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    params: dict[str, Any] = {}


class ProgrammeOut(Schema):
    public_id: str
    code: str
    name: str
    kind: str
    eligibility_rule: str
    effective_from: dt.date
    effective_to: dt.date | None
    params: dict[str, Any]


class ProgrammeChangeIn(Schema):
    name: str | None = None
    eligibility_rule: str | None = None
    params: dict[str, Any] | None = None
    effective_to: dt.date | None = None


class CycleIn(Schema):
    code: str
    # A region code prefix ("" = national); left out: the maker's own single scope.
    region_code: str | None = None
    instalment: int = 1
    period_start: dt.date
    period_end: dt.date
    control_count: int
    control_amount: int


class CycleEventOut(Schema):
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    reason: str
    actor: str
    detail: dict[str, Any]


def _programme(p: Programme) -> ProgrammeOut:
    return ProgrammeOut(public_id=p.public_id, code=p.code, name=p.name, kind=p.kind,
                        eligibility_rule=p.eligibility_rule, effective_from=p.effective_from,
                        effective_to=p.effective_to, params=p.params)  # fmt: skip


@router.get("", response=list[ProgrammeOut], summary="Daftar program / list programmes")
def programme_list(request: HttpRequest) -> list[ProgrammeOut]:
    return [_programme(p) for p in selectors.programmes_list()]


@router.post("", response={201: ProgrammeOut}, summary="Buat program / create a programme")
def programme_create(request: HttpRequest, body: ProgrammeIn) -> Status[Any]:
    p = services.programme_create(acting_user=staff_user(request), **body.dict())
    return Status(201, _programme(p))


@router.patch("/{programme_id}", response=ProgrammeOut,
              summary="Ubah aturan atau besaran program / change a programme")  # fmt: skip
def programme_update(
    request: HttpRequest, programme_id: str, body: ProgrammeChangeIn
) -> ProgrammeOut:
    prog = selectors.programme_get(public_id=programme_id)
    return _programme(services.programme_update(acting_user=staff_user(request), programme=prog,
                                                **body.dict(exclude_unset=True)))  # fmt: skip


@router.get("/{programme_id}/cycles", response=list[CycleOut], summary="Tahap sebuah program")
def cycle_list(request: HttpRequest, programme_id: str) -> list[CycleOut]:
    prog = selectors.programme_get(public_id=programme_id)
    rows = selectors.cycles_of(user=request.user, programme=prog)
    return [cycle_out(c) for c in rows.select_related("programme", "created_by", "prepared_by",
                                                      "submitted_by", "approved_by")]  # fmt: skip


@router.post(
    "/{programme_id}/cycles", response={201: CycleOut}, summary="Buat tahap / create a cycle"
)
def cycle_create(request: HttpRequest, programme_id: str, body: CycleIn) -> Status[Any]:
    prog = selectors.programme_get(public_id=programme_id)
    c = services.cycle_create(acting_user=staff_user(request), programme=prog, **body.dict())
    return Status(201, cycle_out(c))


@router.get("/cycles/{cycle_id}", response=CycleOut, summary="Satu tahap / one cycle")
def cycle_detail(request: HttpRequest, cycle_id: str) -> CycleOut:
    return cycle_out(selectors.cycle_get(user=request.user, public_id=cycle_id))


@router.get(
    "/cycles/{cycle_id}/events",
    response=list[CycleEventOut],
    summary="Riwayat tahap / cycle history",
)
def cycle_events(request: HttpRequest, cycle_id: str) -> list[CycleEventOut]:
    c = selectors.cycle_get(user=request.user, public_id=cycle_id)
    return [CycleEventOut(at=e.at, action=e.action, from_state=e.from_state, to_state=e.to_state,
                     reason=e.reason, actor=e.actor_label, detail=e.detail)
            for e in selectors.cycle_events(cycle=c)]  # fmt: skip


@router.post(
    "/cycles/{cycle_id}/compute", response=CycleOut, summary="Hitung hak / compute entitlements"
)
def cycle_compute(request: HttpRequest, cycle_id: str) -> CycleOut:
    c = services.cycle_compute(
        acting_user=staff_user(request),
        cycle=selectors.cycle_get(user=request.user, public_id=cycle_id),
    )
    return cycle_out(c)


@router.post("/cycles/{cycle_id}/submit", response=CycleOut, summary="Ajukan / submit for approval")
def cycle_submit(request: HttpRequest, cycle_id: str) -> CycleOut:
    return cycle_out(
        services.cycle_submit(
            acting_user=staff_user(request),
            cycle=selectors.cycle_get(user=request.user, public_id=cycle_id),
        )
    )


@router.post(
    "/cycles/{cycle_id}/approve", response=CycleOut, summary="Setujui (maker-checker) / approve"
)
def cycle_approve(request: HttpRequest, cycle_id: str) -> CycleOut:
    return cycle_out(
        services.cycle_approve(
            acting_user=staff_user(request),
            cycle=selectors.cycle_get(user=request.user, public_id=cycle_id),
        )
    )


@router.post(
    "/cycles/{cycle_id}/return", response=CycleOut, summary="Kembalikan ke draf / send back"
)
def cycle_return(request: HttpRequest, cycle_id: str, body: ReasonIn) -> CycleOut:
    c = selectors.cycle_get(user=request.user, public_id=cycle_id)
    return cycle_out(
        services.cycle_return(acting_user=staff_user(request), cycle=c, reason=body.reason)
    )


@router.post("/cycles/{cycle_id}/cancel", response=CycleOut, summary="Batalkan / cancel")
def cycle_cancel(request: HttpRequest, cycle_id: str, body: ReasonIn) -> CycleOut:
    c = selectors.cycle_get(user=request.user, public_id=cycle_id)
    return cycle_out(
        services.cycle_cancel(acting_user=staff_user(request), cycle=c, reason=body.reason)
    )
