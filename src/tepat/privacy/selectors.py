"""Reads for data-subject requests: the staff queue (region-scoped, by time left), one case, its
history, what the user may do on it, and the citizen's own requests.

A request outside the reader's regions is reported exactly like one that does not exist. Pages
and the API audit what they show (`tepat.core.audit.audit_read`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tepat.accounts.models import Role
from tepat.accounts.scoping import can_see_region, region_q
from tepat.core.errors import NotFound, TepatError
from tepat.core.masking import mask_name
from tepat.privacy import services
from tepat.privacy.models import (
    EVENT_ACTION_LABELS,
    OPEN_STATUSES,
    DataSubjectRequest,
    RequestEvent,
    RequestKind,
    RequestStatus,
)
from tepat.registry.models import Person

READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.OPERATOR, Role.SUPERVISOR})
QUEUE_LIMIT = 500
# Queue filters beyond one status value.
STATES = ("open", "overdue", "awaiting_approval", "followup", "decided", "all")


def can_read(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or user.role in READERS)


def requests_visible(user: Any) -> QuerySet[DataSubjectRequest]:
    if not can_read(user):
        return DataSubjectRequest.objects.none()
    return DataSubjectRequest.objects.filter(region_q(user, "region_code"))


def request_get(*, user: Any, public_id: str) -> DataSubjectRequest:
    found = (
        requests_visible(user)
        .select_related(
            "subject__household", "assigned_to", "decided_by", "approved_by", "opened_by"
        )
        .filter(public_id=public_id)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


@dataclass(frozen=True)
class TimeLeft:
    seconds: int  # negative once overdue
    overdue: bool
    text: str


def time_left(dsr: DataSubjectRequest, now: dt.datetime | None = None) -> TimeLeft | None:
    """Time to the deadline of an open request (None once decided: its clock has stopped)."""
    if not dsr.is_open:
        return None
    now = now or timezone.now()
    seconds = int((dsr.due_at - now).total_seconds())
    return TimeLeft(seconds, seconds < 0, time_left_text(seconds))


def time_left_text(seconds: int) -> str:
    hours, rest = divmod(abs(seconds), 3600)
    span = _("%(hours)d jam %(minutes)02d menit") % {"hours": hours, "minutes": rest // 60}
    if seconds < 0:
        return _("lewat %(span)s") % {"span": span}
    return _("%(span)s lagi") % {"span": span}


def met_deadline(dsr: DataSubjectRequest) -> bool | None:
    """For a decided request: whether its outcome took effect by the deadline."""
    if dsr.outcome_recorded_at is None:
        return None
    return dsr.outcome_recorded_at <= dsr.due_at


@dataclass(frozen=True)
class QueueRow:
    request: DataSubjectRequest
    subject_masked: str
    time_left: TimeLeft | None


def request_queue(
    *,
    user: Any,
    state: str = "open",
    kind: str = "",
    now: dt.datetime | None = None,
    limit: int = QUEUE_LIMIT,
) -> list[QueueRow]:
    """The user's queue: open requests first by time left (overdue at the top), or decided ones
    newest first. `state` is one of STATES or a single status; `kind` one RequestKind."""
    now = now or timezone.now()
    qs = requests_visible(user).select_related("subject", "assigned_to")
    if kind:
        if kind not in RequestKind.values:
            raise TepatError("Jenis tidak dikenal / unknown kind", field="kind")
        qs = qs.filter(kind=kind)
    order: tuple[str, ...] = ("due_at", "id")
    if state == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif state == "overdue":
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=now)
    elif state == "followup":
        qs = qs.filter(followup_needed=True, followup_done_at__isnull=True)
    elif state == "decided":
        qs = qs.exclude(status__in=OPEN_STATUSES)
        order = ("-outcome_recorded_at", "-id")
    elif state == "all":
        order = ("-received_at", "-id")
    elif state in RequestStatus.values:
        qs = qs.filter(status=state)
    else:
        raise TepatError("Saringan tidak dikenal / unknown filter", field="status")
    return [
        QueueRow(d, mask_name(d.subject.full_name), time_left(d, now))
        for d in qs.order_by(*order)[: max(1, min(limit, QUEUE_LIMIT))]
    ]


def queue_counts(*, user: Any, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    qs = requests_visible(user)
    open_qs = qs.filter(status__in=OPEN_STATUSES)
    return {
        "open": open_qs.count(),
        "overdue": open_qs.filter(due_at__lt=now).count(),
        "awaiting_approval": qs.filter(status=RequestStatus.AWAITING_APPROVAL).count(),
        "followup": qs.filter(followup_needed=True, followup_done_at__isnull=True).count(),
    }


def request_history(dsr: DataSubjectRequest) -> list[RequestEvent]:
    return list(dsr.events.select_related("actor").order_by("at", "id"))


def actions_for(user: Any, dsr: DataSubjectRequest) -> frozenset[str]:
    """The buttons the case page shows this user: what their role allows in this state.
    The services check again (and a post without the right gets a 403)."""
    if not can_see_region(user, dsr.region_code):
        return frozenset()
    out: set[str] = set()
    handler = services.can_handle(user)
    if handler and dsr.status in (RequestStatus.RECEIVED, RequestStatus.IN_REVIEW):
        out.update({"assign", "decide", "close"})
        if dsr.kind == RequestKind.ACCESS:
            out.add("export")
    if handler and dsr.kind == RequestKind.ACCESS and dsr.status == RequestStatus.ANSWERED:
        out.add("export")
    if (
        services.can_approve(user)
        and dsr.status == RequestStatus.AWAITING_APPROVAL
        and user.pk not in services.request_makers(dsr)
    ):
        out.update({"approve", "return"})
    if services.can_follow_up(user) and dsr.followup_needed and dsr.followup_done_at is None:
        out.add("followup_done")
    return frozenset(out)


def erasure_blockers(dsr: DataSubjectRequest) -> list[str]:
    """For a deletion request still open: the legal retentions that keep the data."""
    if dsr.kind != RequestKind.DELETION or not dsr.is_open or dsr.subject.erased_at:
        return []
    return services.erasure_blockers(dsr.subject)


def objection_explanation(*, user: Any, dsr: DataSubjectRequest) -> Any:
    """For an objection: the proxies that moved the household's score most (targeting's own
    explanation), for the human reviewer; None when the household was never scored."""
    if dsr.kind != RequestKind.OBJECTION:
        return None
    from tepat.targeting.selectors import household_explain

    try:
        return household_explain(user=user, public_id=dsr.household_public_id)
    except NotFound:
        return None


def subject_find(*, user: Any, nik: str) -> Person | None:
    """The registry person with this NIK, through the registry's blind-index lookup and the
    user's region scope (None when absent or out of scope: the two read alike)."""
    from tepat.registry.selectors import person_get, person_search

    rows = person_search(user=user, nik=nik, limit=1)
    if not rows:
        return None
    return person_get(user=user, public_id=rows[0].public_id)


def subject_visible(*, user: Any, public_id: str) -> Person:
    from tepat.registry.selectors import person_get

    return person_get(user=user, public_id=public_id)


# --- the citizen's own -------------------------------------------------------------------------


def citizen_requests(*, person: Person) -> list[DataSubjectRequest]:
    """The requests about the signed-in citizen, newest first."""
    return list(
        DataSubjectRequest.objects.filter(subject=person).order_by("-received_at", "-id")[:100]
    )


def citizen_request_get(*, person: Person, public_id: str) -> DataSubjectRequest:
    found = DataSubjectRequest.objects.filter(subject=person, public_id=public_id).first()
    if found is None:
        raise NotFound()
    return found


ACTION_LABELS = EVENT_ACTION_LABELS


def citizen_history(dsr: DataSubjectRequest) -> list[dict[str, Any]]:
    """The history as the citizen sees it: what happened and when, never who on the staff."""
    return [
        {
            "at": e.at,
            "action": str(ACTION_LABELS.get(e.action, e.action)),
            "to_status": str(RequestStatus(e.to_status).label) if e.to_status else "",
        }
        for e in dsr.events.order_by("at", "id")
    ]


def correctable_fields() -> list[tuple[str, str]]:
    """(key, label) for the correction forms."""
    return [(k, field_label(k)) for k in services.CORRECTABLE]


def field_label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


FIELD_LABELS: dict[str, Any] = {
    "person.full_name": _lazy("Nama lengkap"),
    "person.sex": _lazy("Jenis kelamin (M/F)"),
    "person.birth_date": _lazy("Tanggal lahir (TTTT-BB-HH)"),
    "person.birth_place": _lazy("Tempat lahir"),
    "person.marital_status": _lazy("Status perkawinan"),
    "person.education": _lazy("Pendidikan terakhir"),
    "person.school_level": _lazy("Jenjang sekolah sekarang"),
    "person.work_sector": _lazy("Lapangan pekerjaan"),
    "person.disability": _lazy("Disabilitas"),
    "household.address": _lazy("Alamat"),
    "household.rt": _lazy("RT"),
    "household.rw": _lazy("RW"),
    "household.floor_material": _lazy("Jenis lantai"),
    "household.wall_material": _lazy("Jenis dinding"),
    "household.roof_material": _lazy("Jenis atap"),
    "household.floor_area_m2": _lazy("Luas lantai (m²)"),
    "household.drinking_water": _lazy("Sumber air minum"),
    "household.toilet": _lazy("Fasilitas buang air besar"),
    "household.electricity": _lazy("Sumber penerangan"),
    "household.electricity_va": _lazy("Daya listrik (VA)"),
    "household.cooking_fuel": _lazy("Bahan bakar memasak"),
    "household.owns_motorcycle": _lazy("Memiliki sepeda motor (ya/tidak)"),
    "household.owns_refrigerator": _lazy("Memiliki lemari es (ya/tidak)"),
    "household.owns_car": _lazy("Memiliki mobil (ya/tidak)"),
    "household.owns_land": _lazy("Memiliki lahan (ya/tidak)"),
    "household.land_area_m2": _lazy("Luas lahan (m²)"),
    "household.livestock_count": _lazy("Jumlah ternak"),
}
