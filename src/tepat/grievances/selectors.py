"""Reads for complaints and community reports: the citizen's tracking view, the operator's
region-scoped inbox, and the backlog that monitoring shows."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tepat.accounts.scoping import region_q
from tepat.core.errors import NotFound
from tepat.grievances import limits
from tepat.grievances.models import (
    OPEN_STATUSES,
    TRACKING_CODE_LENGTH,
    CommunityReport,
    Complaint,
    ComplaintEvent,
    TaskStatus,
)


def normalize_tracking_code(raw: str) -> str:
    """`adu 7k2m-9xpq-4hfr` -> `ADU-7K2M-9XPQ-4HFR`: what people type back from a slip of paper.
    Codes of 12 characters (today's) and of 8 (those handed out before) are both accepted."""
    text = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    body = text[3:]
    if len(body) not in (8, TRACKING_CODE_LENGTH) or not text[:3].isalpha():
        return ""
    return "-".join([text[:3], *(body[i : i + 4] for i in range(0, len(body), 4))])


def _tracked(model: Any, code: str, address: str | None, message: str) -> Any:
    """The row with this code; with `address` (public lookups), refused after too many misses
    from that address or of that code (tepat.grievances.limits)."""
    clean = normalize_tracking_code(code)
    ident = clean or (code or "")[:64].upper()
    if address is not None:
        limits.tracking_admit(address=address, code=ident)
    found = model.objects.filter(tracking_code=clean).first() if clean else None
    if found is None:
        if address is not None:
            limits.tracking_missed(address=address, code=ident)
        raise NotFound(message)
    return found


def complaint_track(*, code: str, address: str | None = None) -> Complaint:
    """The complaint with this tracking code (public: the code is the secret)."""
    complaint: Complaint = _tracked(
        Complaint, code, address, "Nomor pengaduan tidak ditemukan / tracking number not found"
    )
    return complaint


def report_track(*, code: str, address: str | None = None) -> CommunityReport:
    report: CommunityReport = _tracked(
        CommunityReport,
        code,
        address,
        "Nomor usul/sanggah tidak ditemukan / tracking number not found",
    )
    return report


def complaint_history(*, complaint: Complaint) -> QuerySet[ComplaintEvent]:
    return complaint.events.all()


def complaints_inbox(*, user: Any, state: str = "open") -> QuerySet[Complaint]:
    """Complaints in the user's regions: open first by deadline, or closed, or all."""
    qs = Complaint.objects.filter(region_q(user, "village_code")).select_related("assigned_to")
    if state == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif state == "overdue":
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
    elif state == "closed":
        qs = qs.exclude(status__in=OPEN_STATUSES)
    return qs.order_by("-escalation_level", "due_at", "id")


def complaint_get(*, user: Any, public_id: str) -> Complaint:
    c = Complaint.objects.filter(region_q(user, "village_code"), public_id=public_id).first()
    if c is None:
        raise NotFound()
    return c


def tasks_inbox(*, user: Any, state: str = "open") -> QuerySet[CommunityReport]:
    qs = CommunityReport.objects.filter(region_q(user, "village_code"))
    if state == "open":
        qs = qs.filter(status=TaskStatus.OPEN)
    elif state == "closed":
        qs = qs.exclude(status=TaskStatus.OPEN)
    return qs.order_by("due_at", "id")


def task_get(*, user: Any, public_id: str) -> CommunityReport:
    r = CommunityReport.objects.filter(region_q(user, "village_code"), public_id=public_id).first()
    if r is None:
        raise NotFound()
    return r


def backlog_summary(*, user: Any = None, region_code: str = "") -> dict[str, Any]:
    """The grievance backlog, region-scoped when `user` is given (None: everything) and limited
    to villages under `region_code` when it is given (monitoring alert rules per region).

    {"open": int, "overdue": int, "escalated": int,
     "by_category": {category: {"open": int, "overdue": int}},
     "tasks_open": int, "tasks_overdue": int}
    """
    now = timezone.now()
    complaints = Complaint.objects.filter(status__in=OPEN_STATUSES)
    tasks = CommunityReport.objects.filter(status=TaskStatus.OPEN)
    if user is not None:
        complaints = complaints.filter(region_q(user, "village_code"))
        tasks = tasks.filter(region_q(user, "village_code"))
    if region_code:
        complaints = complaints.filter(village_code__startswith=region_code)
        tasks = tasks.filter(village_code__startswith=region_code)
    overdue = Q(due_at__lt=now)
    rows = complaints.values("category").annotate(
        open=Count("id"), overdue=Count("id", filter=overdue)
    )
    by_category = {
        r["category"]: {"open": r["open"], "overdue": r["overdue"]}
        for r in rows.order_by("category")
    }
    t = tasks.aggregate(open=Count("id"), overdue=Count("id", filter=overdue))
    return {
        "open": sum(v["open"] for v in by_category.values()),
        "overdue": sum(v["overdue"] for v in by_category.values()),
        "escalated": complaints.filter(escalation_level__gt=0).count(),
        "by_category": by_category,
        "tasks_open": t["open"],
        "tasks_overdue": t["overdue"],
    }


def complaints_of_persons(*, person_refs: list[str]) -> QuerySet[Complaint]:
    """Complaints filed by or about these people (public ids), newest first, with their history:
    for their own access export (UU 27/2022 Art. 7), whose caller proved who is asking."""
    return (
        Complaint.objects.filter(
            Q(filed_by_ref__in=person_refs) | Q(subject_person_ref__in=person_refs)
        )
        .prefetch_related("events")
        .order_by("-created_at", "-id")
    )


def reports_about_persons(*, person_refs: list[str]) -> QuerySet[CommunityReport]:
    """Usul and sanggah whose subject is one of these people (public ids), newest first."""
    return CommunityReport.objects.filter(subject_person_ref__in=person_refs).order_by(
        "-created_at", "-id"
    )


def open_cases_about_person(*, person_ref: str, **_: Any) -> int:
    """Open complaints filed by or about a person and open sanggah about them (registry.rights:
    their data is kept while a case needs it)."""
    complaints = Complaint.objects.filter(
        Q(filed_by_ref=person_ref) | Q(subject_person_ref=person_ref), status__in=OPEN_STATUSES
    ).count()
    reports = CommunityReport.objects.filter(
        subject_person_ref=person_ref, status=TaskStatus.OPEN
    ).count()
    return complaints + reports
