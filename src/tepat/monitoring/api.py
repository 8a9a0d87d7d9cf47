"""Monitoring API for staff (session log-in): live progress, alerts, acknowledge and resolve;
the incident register and the audit log (admins, auditors, the DPO; supervisors in scope)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.params import functions as param
from ninja.responses import Status

from tepat.accounts.selectors import staff_user
from tepat.core.apischema import REGION_FILTER_PATTERN
from tepat.core.audit import audit_read
from tepat.core.errors import PermissionDenied
from tepat.core.paging import MAX_INT32
from tepat.monitoring import selectors, services
from tepat.monitoring.models import Alert, Incident

router = Router(tags=["monitoring"])


class LiveProgressOut(Schema):
    total: int
    paid: int
    failed: int
    percent_done: int
    failure_rate: float | None
    reconciliation_rate: float | None
    states: dict[str, int]


class CycleLiveOut(Schema):
    cycle: str
    programme: str
    code: str
    overall: LiveProgressOut
    by_channel: dict[str, LiveProgressOut]
    by_province: dict[str, LiveProgressOut]
    unexplained_differences: int


class AlertOut(Schema):
    public_id: str
    rule: str
    metric: str
    threshold: float
    cycle: str | None
    region_code: str
    value: float
    state: str
    opened_at: str


class AlertNoteIn(Schema):
    note: str = ""


class IncidentNoteIn(Schema):
    note: str = Field(pattern=r"\S")


def _progress(p: selectors.Progress) -> dict[str, Any]:
    return {
        "total": p.total,
        "paid": p.paid,
        "failed": p.failed,
        "percent_done": p.percent_done,
        "failure_rate": p.failure_rate,
        "reconciliation_rate": p.reconciliation_rate,
        "states": p.states,
    }


def _alert(a: Alert) -> dict[str, Any]:
    return {
        "public_id": a.public_id,
        "rule": a.rule.name,
        "metric": a.rule.metric,
        "threshold": a.rule.threshold,
        "cycle": a.cycle.public_id if a.cycle else None,
        "region_code": a.region_code,
        "value": a.value,
        "state": a.state,
        "opened_at": a.opened_at.isoformat(),
    }


@router.get("/progress", response=list[CycleLiveOut], summary="Live progress of active cycles")
def progress(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "cycle": item.cycle.public_id,
            "programme": item.cycle.programme.code,
            "code": item.cycle.code,
            "overall": _progress(item.overall),
            "by_channel": {label: _progress(p) for label, p in item.by_channel},
            "by_province": {code: _progress(p) for code, _n, p in item.by_province},
            "unexplained_differences": item.differences,
        }
        for item in selectors.live_progress(user=request.user)
    ]


@router.get("/alerts", response=list[AlertOut], summary="Open and acknowledged alerts")
def alerts(request: HttpRequest) -> list[dict[str, Any]]:
    return [_alert(a) for a in selectors.alerts_visible(user=request.user)]


@router.post("/alerts/{public_id}/acknowledge", response=AlertOut, summary="Acknowledge an alert")
def acknowledge(request: HttpRequest, public_id: str, payload: AlertNoteIn) -> dict[str, Any]:
    alert = services.alert_acknowledge(
        acting_user=staff_user(request), public_id=public_id, note=payload.note
    )
    return _alert(alert)


@router.post("/alerts/{public_id}/resolve", response=AlertOut, summary="Resolve an alert")
def resolve(request: HttpRequest, public_id: str, payload: AlertNoteIn) -> dict[str, Any]:
    alert = services.alert_resolve(
        acting_user=staff_user(request), public_id=public_id, note=payload.note
    )
    return _alert(alert)


# --- incidents (UU 27/2022 Art. 46) and the audit log ---------------------------------------


class ClockOut(Schema):
    due: str
    seconds_left: int
    overdue: bool
    stopped: bool
    notices_done_at: str | None
    late: bool


class IncidentOut(Schema):
    public_id: str
    title: str
    severity: str
    status: str
    region_code: str
    detected_at: str
    notice_due_at: str
    affected_estimate: int | None
    data_categories: list[str]
    alerts: list[str]
    clock: ClockOut


class TimelineOut(Schema):
    at: str
    kind: str
    who: str
    note: str
    detail: dict[str, Any]


class NoticeOut(Schema):
    audience: str
    language: str
    channel: str
    sent_at: str
    sent_by: str
    recipients: int | None
    reference: str


class IncidentDetailOut(IncidentOut):
    description: str
    consequences: str
    measures: str
    contact: str
    timeline: list[TimelineOut]
    notices: list[NoticeOut]


Severity = Literal["low", "medium", "high", "critical"]  # models.Severity
Category = Literal[
    "identity", "contact", "socioeconomic", "financial", "health", "children", "biometric"
]  # models.DataCategory
TEXT = r"\S"  # something besides spaces


class IncidentIn(Schema):
    title: str = Field(min_length=1, max_length=200, pattern=TEXT)
    severity: Severity = "medium"
    description: str = ""
    region_code: str = Field("", pattern=REGION_FILTER_PATTERN)
    detected_at: dt.datetime | None = None
    affected_estimate: int | None = Field(None, ge=0, le=MAX_INT32)
    data_categories: list[Category] = []
    consequences: str = ""
    measures: str = ""
    contact: str | None = None
    alerts: list[str] = []


class IncidentPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT)
    severity: Severity | None = None
    description: str | None = None
    region_code: str | None = Field(None, pattern=REGION_FILTER_PATTERN)
    detected_at: dt.datetime | None = None
    affected_estimate: int | None = Field(None, ge=0, le=MAX_INT32)
    data_categories: list[Category] | None = None
    consequences: str | None = None
    measures: str | None = None
    contact: str | None = None


class StatusIn(Schema):
    status: str
    note: str = ""


class NoticeIn(Schema):
    audience: Literal["subjects", "authority"]  # models.NoticeAudience
    language: Literal["id", "en"]
    channel: Literal["letter", "email", "sms", "portal"]  # models.NoticeChannel
    body: str = Field(pattern=TEXT)
    sent_at: dt.datetime | None = None  # not in the future
    recipients: int | None = Field(None, ge=0, le=MAX_INT32)
    reference: str = ""


class LinkIn(Schema):
    alert: str


class DraftOut(Schema):
    audience: str
    language: str
    text: str


class FromAlertOut(Schema):
    created: bool
    incident: IncidentOut


class AuditEventOut(Schema):
    at: str
    actor: str
    action: str
    target_type: str
    target_id: str
    region_code: str
    ip_address: str | None
    detail: dict[str, Any]


class AuditPageOut(Schema):
    page: int
    has_next: bool
    events: list[AuditEventOut]


def _clock(c: selectors.Clock) -> dict[str, Any]:
    return {
        "due": c.due.isoformat(),
        "seconds_left": int(c.left.total_seconds()),
        "overdue": c.overdue,
        "stopped": c.stopped,
        "notices_done_at": c.done_at.isoformat() if c.done_at else None,
        "late": c.late,
    }


def _incident(i: Incident, clock: selectors.Clock | None = None) -> dict[str, Any]:
    return {
        "public_id": i.public_id,
        "title": i.title,
        "severity": i.severity,
        "status": i.status,
        "region_code": i.region_code,
        "detected_at": i.detected_at.isoformat(),
        "notice_due_at": i.notice_due_at.isoformat(),
        "affected_estimate": i.affected_estimate,
        "data_categories": list(i.data_categories),
        "alerts": sorted(i.alerts.values_list("public_id", flat=True)),
        "clock": _clock(clock or selectors.incident_clock(i)),
    }


def _incident_detail(i: Incident) -> dict[str, Any]:
    return {
        **_incident(i),
        "description": i.description,
        "consequences": i.consequences,
        "measures": i.measures,
        "contact": i.contact,
        "timeline": [
            {
                "at": t.at.isoformat(),
                "kind": t.kind,
                "who": t.who,
                "note": t.note,
                "detail": t.detail,
            }
            for t in selectors.incident_timeline(incident=i)
        ],
        "notices": [
            {
                "audience": n.audience,
                "language": n.language,
                "channel": n.channel,
                "sent_at": n.sent_at.isoformat(),
                "sent_by": n.sent_by.username if n.sent_by else "",
                "recipients": n.recipients,
                "reference": n.reference,
            }
            for n in selectors.incident_notices(incident=i)
        ],
    }


@router.get("/incidents", response=list[IncidentOut], summary="Incidents with their notice clock")
def incidents(
    request: HttpRequest, which: Literal["running", "all", "closed"] = "running"
) -> list[dict[str, Any]]:
    """Overdue first, then by time left; `which`: running (default), all, closed."""
    return [
        _incident(r.incident, r.clock)
        for r in selectors.incidents_visible(user=request.user, which=which)
    ]


@router.post("/incidents", response={201: IncidentDetailOut}, summary="Open an incident")
def incident_open(request: HttpRequest, payload: IncidentIn) -> Status[dict[str, Any]]:
    data = payload.dict()
    incident = services.incident_open(
        acting_user=staff_user(request), alert_ids=data.pop("alerts"), request=request, **data
    )
    return Status(201, _incident_detail(incident))


@router.post(
    "/incidents/from-alert/{alert_id}",
    response=FromAlertOut,
    summary="Open an incident from an alert (or get the one it belongs to)",
)
def incident_from_alert(request: HttpRequest, alert_id: str) -> dict[str, Any]:
    incident, created = services.incident_open_from_alert(
        acting_user=staff_user(request), alert_public_id=alert_id, request=request
    )
    return {"created": created, "incident": _incident(incident)}


@router.get("/incidents/{public_id}", response=IncidentDetailOut, summary="One incident")
def incident_detail(request: HttpRequest, public_id: str) -> dict[str, Any]:
    incident = selectors.incident_get(user=request.user, public_id=public_id)
    audit_read(
        actor=request.user, what="monitoring.incident_view", count=1,
        region_code=incident.region_code, request=request, target_type="Incident",
        target_id=incident.public_id,
    )  # fmt: skip
    return _incident_detail(incident)


@router.patch("/incidents/{public_id}", response=IncidentDetailOut, summary="Change an incident")
def incident_update(request: HttpRequest, public_id: str, payload: IncidentPatch) -> dict[str, Any]:
    changes = payload.dict(exclude_unset=True)
    incident = services.incident_update(
        acting_user=staff_user(request), public_id=public_id, changes=changes, request=request
    )
    return _incident_detail(incident)


@router.post("/incidents/{public_id}/status", response=IncidentDetailOut, summary="Move status")
def incident_status(request: HttpRequest, public_id: str, payload: StatusIn) -> dict[str, Any]:
    incident = services.incident_set_status(
        acting_user=staff_user(request), public_id=public_id, status=payload.status,
        note=payload.note, request=request,
    )  # fmt: skip
    return _incident_detail(incident)


@router.post(
    "/incidents/{public_id}/notices", response={201: NoticeOut}, summary="Record a notice sent"
)
def incident_notice(
    request: HttpRequest, public_id: str, payload: NoticeIn
) -> Status[dict[str, Any]]:
    n = services.incident_notice_record(
        acting_user=staff_user(request), public_id=public_id, request=request, **payload.dict()
    )
    return Status(201, {
        "audience": n.audience, "language": n.language, "channel": n.channel,
        "sent_at": n.sent_at.isoformat(), "sent_by": request.user.get_username(),
        "recipients": n.recipients, "reference": n.reference,
    })  # fmt: skip


@router.post("/incidents/{public_id}/notes", response=IncidentDetailOut, summary="Add a note")
def incident_note(request: HttpRequest, public_id: str, payload: IncidentNoteIn) -> dict[str, Any]:
    services.incident_note_add(
        acting_user=staff_user(request), public_id=public_id, note=payload.note, request=request
    )
    return _incident_detail(selectors.incident_get(user=request.user, public_id=public_id))


@router.post("/incidents/{public_id}/alerts", response=IncidentDetailOut, summary="Link an alert")
def incident_link(request: HttpRequest, public_id: str, payload: LinkIn) -> dict[str, Any]:
    incident = services.incident_link_alert(
        acting_user=staff_user(request), public_id=public_id, alert_public_id=payload.alert,
        request=request,
    )  # fmt: skip
    return _incident_detail(incident)


@router.get(
    "/incidents/{public_id}/notice-draft",
    response=DraftOut,
    summary="A notice pre-filled from the incident (subjects or authority, id or en)",
)
def incident_notice_draft(
    request: HttpRequest,
    public_id: str,
    audience: Literal["subjects", "authority"] = "subjects",
    language: Literal["id", "en"] = "id",
) -> dict[str, Any]:
    incident = selectors.incident_get(user=request.user, public_id=public_id)
    text = selectors.notice_draft(incident=incident, audience=audience, language=language)
    return {"audience": audience, "language": language, "text": text}


@router.get("/audit-events", response=AuditPageOut, summary="The audit log (filtered, paged)")
def audit_events(
    request: HttpRequest,
    actor: str = param.Query("", max_length=150),
    action: str = param.Query("", max_length=64),
    region: str = param.Query("", pattern=REGION_FILTER_PATTERN),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = param.Query(1, ge=1, le=10_000),
) -> dict[str, Any]:
    """Newest first, 50 a page; dates are local (Asia/Jakarta), inclusive (`date_to` before
    `date_from` is an empty range). Reading is audited."""
    if date_from and date_to and date_to < date_from:
        if not selectors.can_read_audit(request.user):
            raise PermissionDenied(
                "Peran Anda tidak dapat membaca log audit / your role cannot read the audit log"
            )
        return {"page": page, "has_next": False, "events": []}  # an empty range: nothing in it
    filters = selectors.audit_filters(
        {"actor": actor, "action": action, "region": region,
         "date_from": date_from.isoformat() if date_from else "",
         "date_to": date_to.isoformat() if date_to else "", "page": str(page)}
    )  # fmt: skip
    result = selectors.audit_events(user=request.user, filters=filters)
    audit_read(
        actor=request.user, what="monitoring.audit_view", count=len(result.rows),
        region_code=filters.region, request=request, detail={"filters": filters.as_dict()},
    )  # fmt: skip
    return {
        "page": filters.page,
        "has_next": result.has_next,
        "events": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor_label,
                "action": e.action,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "region_code": e.region_code,
                "ip_address": e.ip_address,
                "detail": e.detail,
            }
            for e in result.rows
        ],
    }
