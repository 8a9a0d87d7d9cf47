"""Grievances API: citizens file and track complaints (public, rate-limited per address);
staff read the region-scoped backlog. Handlers parse input and call a service or selector."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from tepat.core.apischema import ErrorOut
from tepat.core.netaddr import client_address
from tepat.grievances import limits, selectors, services
from tepat.grievances.models import Complaint

router = Router(tags=["grievances"])


class ComplaintIn(Schema):
    submission_key: str
    category: Literal[
        "not_received", "amount", "data", "exclusion", "service", "fraud", "not_family", "other"
    ]  # models.Category
    village_code: str = Field(pattern=r"^[0-9]{2}\.?[0-9]{2}\.?[0-9]{2}\.?[0-9]{4}$")
    description: str = Field(min_length=10, max_length=4000)
    contact_phone: str = ""


class ComplaintEventOut(Schema):
    at: dt.datetime
    action: str
    to_status: str


class ComplaintOut(Schema):
    tracking_code: str
    category: str
    status: str
    due_at: dt.datetime
    escalation_level: int
    decision_note: str
    history: list[ComplaintEventOut]


class BacklogCategory(Schema):
    open: int
    overdue: int


class BacklogOut(Schema):
    open: int
    overdue: int
    escalated: int
    by_category: dict[str, BacklogCategory]
    tasks_open: int
    tasks_overdue: int


def _out(c: Complaint) -> dict[str, Any]:
    return {
        "tracking_code": c.tracking_code,
        "category": c.category,
        "status": c.status,
        "due_at": c.due_at,
        "escalation_level": c.escalation_level,
        "decision_note": c.decision_note,
        "history": [
            {"at": e.at, "action": e.action, "to_status": e.to_status}
            for e in selectors.complaint_history(complaint=c)
        ],
    }


@router.post(
    "/complaints", response={200: ComplaintOut, 201: ComplaintOut, 429: ErrorOut}, auth=None
)
def complaint_file(request: HttpRequest, body: ComplaintIn) -> Status[dict[str, Any]]:
    """File a complaint. A repeated `submission_key` returns the first complaint (200).
    Limited per address, together with the HTML forms (429 over the limit)."""
    limits.submission_admit(client_address(request))
    complaint, created = services.complaint_submit(**body.dict())
    return Status(201 if created else 200, _out(complaint))


@router.get("/complaints/{code}", response={200: ComplaintOut, 429: ErrorOut}, auth=None)
def complaint_track(request: HttpRequest, code: str) -> dict[str, Any]:
    """A complaint's status and history by its tracking code (the code is the secret). Too many
    wrong codes from one address, or of one code, lock lookups for an hour (429)."""
    return _out(selectors.complaint_track(code=code, address=client_address(request)))


@router.get("/backlog", response=BacklogOut)
def backlog(request: HttpRequest) -> dict[str, Any]:
    """Open and overdue complaints and verification tasks in the caller's regions."""
    return selectors.backlog_summary(user=request.user)
