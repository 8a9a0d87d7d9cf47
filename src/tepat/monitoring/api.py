"""Monitoring API for staff (session log-in): live progress, alerts, acknowledge and resolve."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from tepat.monitoring import selectors, services
from tepat.monitoring.models import Alert

router = Router(tags=["monitoring"])


class ProgressOut(Schema):
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
    overall: ProgressOut
    by_channel: dict[str, ProgressOut]
    by_province: dict[str, ProgressOut]
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


class NoteIn(Schema):
    note: str = ""


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
def acknowledge(request: HttpRequest, public_id: str, payload: NoteIn) -> dict[str, Any]:
    alert = services.alert_acknowledge(
        acting_user=request.user, public_id=public_id, note=payload.note
    )
    return _alert(alert)


@router.post("/alerts/{public_id}/resolve", response=AlertOut, summary="Resolve an alert")
def resolve(request: HttpRequest, public_id: str, payload: NoteIn) -> dict[str, Any]:
    alert = services.alert_resolve(acting_user=request.user, public_id=public_id, note=payload.note)
    return _alert(alert)
