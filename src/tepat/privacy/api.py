"""Data-subject requests API: the staff queue (region-scoped, by time left) and the case actions.
Handlers parse input and call a service or selector; errors share the project's one shape."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tepat.accounts.selectors import staff_user
from tepat.core.audit import audit_read, region_of
from tepat.core.errors import NotFound, PermissionDenied
from tepat.core.masking import mask_name, mask_nik
from tepat.privacy import selectors, services
from tepat.privacy.models import Channel, DataSubjectRequest
from tepat.registry.validators import normalize_number

router = Router(tags=["privacy"])


class RequestOut(Schema):
    public_id: str
    kind: str
    status: str
    channel: str
    subject_masked: str
    household_public_id: str
    region_code: str
    article: str
    received_at: dt.datetime
    due_at: dt.datetime
    seconds_left: int | None
    overdue: bool
    assigned_to: str | None
    outcome: str
    outcome_text: str
    outcome_recorded_at: dt.datetime | None
    decided_by: str | None
    approved_by: str | None
    followup_needed: bool
    followup_done_at: dt.datetime | None


class RequestEventOut(Schema):
    at: dt.datetime
    action: str
    to_status: str
    actor: str
    note: str


class RequestDetailOut(RequestOut):
    details: str
    requested_changes: dict[str, Any]
    approved_changes: dict[str, Any]
    objection_target: str
    decision_snapshot: dict[str, Any]
    erasure_blockers: list[str]
    actions: list[str]
    history: list[RequestEventOut]


Kind = Literal["access", "correction", "objection", "restriction", "deletion"]  # RequestKind


class OpenIn(Schema):
    nik: str = Field(pattern=r"^[0-9]{16}$", description="16 digits")
    kind: Kind
    details: str = ""
    requested_changes: dict[str, str] = {}
    objection_target: str = ""
    identity_checked: bool = False


class DecideIn(Schema):
    outcome: str
    outcome_text: str
    changes: dict[str, str] = {}


class RequestReasonIn(Schema):
    reason: str = Field(pattern=r"\S")  # required: something besides spaces


class FollowupNoteIn(Schema):
    note: str = Field(pattern=r"\S")


class QueueFilter(Schema):
    # selectors.STATES, or one RequestStatus
    status: Literal[
        "open", "overdue", "awaiting_approval", "followup", "decided", "all", "received",
        "in_review", "answered", "upheld", "partially_upheld", "rejected", "closed",
    ] = "open"  # fmt: skip
    kind: Kind | Literal[""] = ""


def _username(user: Any) -> str | None:
    return getattr(user, "username", None) if user is not None else None


def _out(d: DataSubjectRequest) -> dict[str, Any]:
    left = selectors.time_left(d)
    return {
        "public_id": d.public_id,
        "kind": d.kind,
        "status": d.status,
        "channel": d.channel,
        "subject_masked": mask_name(d.subject.full_name),
        "household_public_id": d.household_public_id,
        "region_code": d.region_code,
        "article": d.rule.article,
        "received_at": d.received_at,
        "due_at": d.due_at,
        "seconds_left": left.seconds if left else None,
        "overdue": bool(left and left.overdue),
        "assigned_to": _username(d.assigned_to),
        "outcome": d.outcome,
        "outcome_text": d.outcome_text,
        "outcome_recorded_at": d.outcome_recorded_at,
        "decided_by": _username(d.decided_by),
        "approved_by": _username(d.approved_by),
        "followup_needed": d.followup_needed,
        "followup_done_at": d.followup_done_at,
    }


def _detail(request: HttpRequest, d: DataSubjectRequest) -> dict[str, Any]:
    return {
        **_out(d),
        "details": d.details,
        "requested_changes": d.requested_changes,
        "approved_changes": d.approved_changes,
        "objection_target": d.objection_target,
        "decision_snapshot": d.decision_snapshot,
        "erasure_blockers": selectors.erasure_blockers(d),
        "actions": sorted(selectors.actions_for(request.user, d)),
        "history": [
            {
                "at": e.at,
                "action": e.action,
                "to_status": e.to_status,
                "actor": e.actor_label,
                "note": e.note,
            }
            for e in selectors.request_history(d)
        ],
    }


def _require_reader(request: HttpRequest) -> None:
    if not selectors.can_read(request.user):
        raise PermissionDenied(
            "Peran Anda tidak dapat membuka permintaan hak subjek data / your role may not "
            "read data-subject requests"
        )


def _get(request: HttpRequest, public_id: str) -> DataSubjectRequest:
    _require_reader(request)
    d = selectors.request_get(user=request.user, public_id=public_id)
    audit_read(
        actor=request.user,
        what="privacy.request_view",
        count=1,
        region_code=d.region_code,
        request=request,
        target_type="data_subject_request",
        target_id=d.public_id,
        detail={"api": True},
    )
    return d


@router.get("/requests", response=list[RequestOut])
def queue(request: HttpRequest, filters: Query[QueueFilter]) -> list[dict[str, Any]]:
    """Requests in the caller's regions: open ones by time left to the 3x24-hour deadline
    (overdue first), or `status=decided|all|overdue|awaiting_approval|followup` or one status;
    `kind` one of access, correction, objection, restriction, deletion."""
    _require_reader(request)
    rows = selectors.request_queue(user=request.user, state=filters.status, kind=filters.kind)
    audit_read(
        actor=request.user,
        what="privacy.queue_view",
        count=len(rows),
        region_code=region_of(r.request.region_code for r in rows),
        request=request,
        detail={"status": filters.status[:20], "kind": filters.kind[:12], "api": True},
    )
    return [_out(r.request) for r in rows]


@router.post("/requests", response={200: RequestDetailOut, 201: RequestDetailOut})
def request_open(request: HttpRequest, body: OpenIn) -> Status[dict[str, Any]]:
    """Open a request for a walk-in citizen found by NIK (blind index; the caller's regions;
    audited) whose identity card the caller checked. An open request of the same kind for the
    same person is returned instead (200)."""
    if not services.can_handle(request.user):
        raise PermissionDenied(
            "Peran Anda tidak dapat membuka permintaan / your role may not open requests"
        )
    nik = normalize_number(body.nik)
    person = selectors.subject_find(user=request.user, nik=nik)
    audit_read(
        actor=request.user,
        what="privacy.subject_lookup",
        count=1 if person else 0,
        region_code=person.household.village_id if person else "",
        request=request,
        target_type="person" if person else "",
        target_id=person.public_id if person else "",
        detail={"nik": mask_nik(nik), "found": person is not None, "api": True},
    )
    if person is None:
        raise NotFound("NIK tidak ditemukan di wilayah Anda / NIK not found in your regions")
    d, created = services.request_open(
        kind=body.kind,
        person=person,
        channel=Channel.OFFICE,
        details=body.details,
        requested_changes=body.requested_changes,
        objection_target=body.objection_target,
        identity_checked=body.identity_checked,
        acting_user=staff_user(request),
    )
    return Status(201 if created else 200, _detail(request, d))


@router.get("/requests/{public_id}", response=RequestDetailOut)
def request_detail(request: HttpRequest, public_id: str) -> dict[str, Any]:
    return _detail(request, _get(request, public_id))


@router.post("/requests/{public_id}/assign", response=RequestDetailOut)
def request_assign(request: HttpRequest, public_id: str) -> dict[str, Any]:
    """Take the request into review (the caller becomes its handler)."""
    d = services.request_assign(acting_user=staff_user(request), dsr=_get(request, public_id))
    return _detail(request, d)


@router.post("/requests/{public_id}/decide", response=RequestDetailOut)
def request_decide(request: HttpRequest, public_id: str, body: DecideIn) -> dict[str, Any]:
    """Record the decision. An upheld correction, restriction or deletion waits for a second
    member of staff (`/approve`); `changes` are a correction's corrected values."""
    d = services.request_decide(
        acting_user=staff_user(request),
        dsr=_get(request, public_id),
        outcome=body.outcome,
        outcome_text=body.outcome_text,
        changes=body.changes,
    )
    return _detail(request, d)


@router.post("/requests/{public_id}/approve", response=RequestDetailOut)
def request_approve(request: HttpRequest, public_id: str) -> dict[str, Any]:
    """Approve and apply a decision that changes or erases data (not by its maker)."""
    d = services.request_approve(acting_user=staff_user(request), dsr=_get(request, public_id))
    return _detail(request, d)


@router.post("/requests/{public_id}/return", response=RequestDetailOut)
def request_return(request: HttpRequest, public_id: str, body: RequestReasonIn) -> dict[str, Any]:
    d = services.request_return(
        acting_user=staff_user(request), dsr=_get(request, public_id), reason=body.reason
    )
    return _detail(request, d)


@router.post("/requests/{public_id}/close", response=RequestDetailOut)
def request_close(request: HttpRequest, public_id: str, body: RequestReasonIn) -> dict[str, Any]:
    d = services.request_close(
        acting_user=staff_user(request), dsr=_get(request, public_id), reason=body.reason
    )
    return _detail(request, d)


@router.post("/requests/{public_id}/followup-done", response=RequestDetailOut)
def request_followup_done(
    request: HttpRequest, public_id: str, body: FollowupNoteIn
) -> dict[str, Any]:
    """The targeting operator closes an upheld objection's follow-up, saying what was done."""
    d = services.request_followup_done(
        acting_user=staff_user(request), dsr=_get(request, public_id), note=body.note
    )
    return _detail(request, d)


@router.post("/requests/{public_id}/export/{fmt}")
def request_export(
    request: HttpRequest, public_id: str, fmt: Literal["pdf", "json", "csv"]
) -> HttpResponse:
    """The access request's answer as a file (`fmt`: pdf, json or csv), audited."""
    out = services.request_export(
        acting_user=staff_user(request), dsr=_get(request, public_id), fmt=fmt
    )
    response = HttpResponse(out.content, content_type=out.content_type)
    response["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    response["Cache-Control"] = "no-store"
    return response
