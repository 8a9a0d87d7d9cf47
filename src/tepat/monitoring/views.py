"""Operator monitoring pages: live progress (htmx polling), alerts with acknowledge/resolve;
the incident register with its notice clock, and the audit log for the oversight roles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tepat.accounts.selectors import staff_user
from tepat.core.audit import audit_read
from tepat.core.errors import NotFound, TepatError, ValidationFailed
from tepat.core.errors import PermissionDenied as TepatDenied
from tepat.monitoring import forms, selectors, services
from tepat.monitoring.models import NOTICE_HOURS, DataCategory, Incident

POLL_SECONDS = 10


def _live_context(request: HttpRequest) -> dict[str, object]:
    return {
        "live": selectors.live_progress(user=request.user),
        "backlog": selectors.backlog(user=request.user),
        "alerts": selectors.alerts_visible(user=request.user),
        "poll_seconds": POLL_SECONDS,
        "can_open_incident": services.can_open_incident(request.user),
        "can_act_on_alerts": services.can_act_on_alerts(request.user),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "monitoring/dashboard.html", _live_context(request))


@login_required
def live(request: HttpRequest) -> HttpResponse:
    """The polled fragment: progress, rates, backlog and alerts, re-rendered every few seconds."""
    return render(request, "monitoring/_live.html", _live_context(request))


@login_required
@require_POST
def alert_action(request: HttpRequest, public_id: str, action: str) -> HttpResponseRedirect:
    note = request.POST.get("note", "")
    if not services.can_act_on_alerts(request.user):
        # The buttons are not shown to this role; a post anyway is the 403 page with why
        # (core/http_errors.py), not a message on the dashboard.
        raise TepatDenied(services.ALERTS_READ_ONLY)
    try:
        if action == "akui":
            services.alert_acknowledge(
                acting_user=staff_user(request), public_id=public_id, note=note
            )
        elif action == "selesai":
            services.alert_resolve(acting_user=staff_user(request), public_id=public_id, note=note)
        else:
            raise Http404()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    return redirect("monitoring:dashboard")


# --- incidents and the audit log ------------------------------------------------------------


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "monitoring/forbidden.html", {"message": message}, status=403)


def _first_message(exc: TepatError) -> str:
    errors = [p for p in exc.problems if p.severity == "error"]
    return "; ".join(p.message for p in errors) if errors else exc.message


def _form_values(form: forms.IncidentForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    if data.get("detected_at") is None:
        data.pop("detected_at", None)
    return data


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    """The register: every incident the user may read with its 3 x 24-hour clock, overdue on
    top; and the breach alerts not yet part of an incident, each with "open an incident"."""
    which = request.GET.get("tampil", "running")
    which = which if which in selectors.INCIDENT_FILTERS else "running"
    try:
        rows = selectors.incidents_visible(user=request.user, which=which)
    except TepatDenied as exc:
        return _forbidden(request, exc.message)
    return render(
        request,
        "monitoring/incidents.html",
        {
            "rows": rows,
            "which": which,
            "alerts": selectors.breach_alerts_open(user=request.user),
            "can_open": services.can_open_incident(request.user),
            "notice_hours": NOTICE_HOURS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    if not services.can_open_incident(request.user):
        return _forbidden(request, _("Peran Anda tidak boleh membuka insiden."))
    form = forms.IncidentForm(request.POST or None, initial={"contact": services.default_contact()})
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_open(
                acting_user=staff_user(request), request=request, **_form_values(form)
            )
        except TepatError as exc:
            error = _first_message(exc)
        else:
            return redirect("monitoring:incident", public_id=incident.public_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "monitoring/incident_form.html", {"form": form, "error": error}, status=status
    )


def _incident_or_response(request: HttpRequest, public_id: str) -> Incident | HttpResponse:
    try:
        return selectors.incident_get(user=request.user, public_id=public_id)
    except TepatDenied as exc:
        return _forbidden(request, exc.message)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def incident_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_response(request, public_id)
    if isinstance(incident, HttpResponse):
        return incident
    # An incident's description may name people: reading it is an audited access.
    audit_read(
        actor=request.user, what="monitoring.incident_view", count=1,
        region_code=incident.region_code, request=request, target_type="Incident",
        target_id=incident.public_id,
    )  # fmt: skip
    manage = services.can_manage_incident(request.user, incident)
    return render(
        request,
        "monitoring/incident_detail.html",
        {
            "i": incident,
            "categories": [
                DataCategory(c).label for c in incident.data_categories if c in DataCategory.values
            ],
            "clock": selectors.incident_clock(incident),
            "timeline": selectors.incident_timeline(incident=incident),
            "linked": list(incident.alerts.select_related("rule").order_by("opened_at")),
            "notices": selectors.incident_notices(incident=incident),
            "drafts": selectors.notice_drafts(incident=incident),
            "can_manage": manage,
            "status_form": forms.StatusForm(),
            "notice_form": forms.NoticeForm(),
            "note_form": forms.NoteForm(),
            "open_alerts": selectors.breach_alerts_open(user=request.user) if manage else [],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_response(request, public_id)
    if isinstance(incident, HttpResponse):
        return incident
    if not services.can_manage_incident(request.user, incident):
        return _forbidden(request, _("Peran Anda hanya dapat membaca insiden ini."))
    initial = {name: getattr(incident, name) for name in services.INCIDENT_FIELDS}
    initial["detected_at"] = timezone.localtime(incident.detected_at)
    form = forms.IncidentForm(request.POST or None, initial=initial)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_update(
                acting_user=staff_user(request), public_id=public_id, changes=_form_values(form),
                request=request,
            )  # fmt: skip
        except TepatError as exc:
            error = _first_message(exc)
        else:
            return redirect("monitoring:incident", public_id=public_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "monitoring/incident_form.html",
        {"form": form, "error": error, "incident": incident},
        status=status,
    )


@login_required
@require_POST
def incident_action(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    """The detail page's forms: status, notice (pemberitahuan), note (catatan), link an alert."""
    user, post = staff_user(request), request.POST
    try:
        if action == "status":
            services.incident_set_status(
                acting_user=user, public_id=public_id, status=post.get("status", ""),
                note=post.get("note", ""), request=request,
            )  # fmt: skip
        elif action == "pemberitahuan":
            form = forms.NoticeForm(post)
            if not form.is_valid():
                messages.error(
                    request, "; ".join(str(e) for es in form.errors.values() for e in es)
                )
                return redirect("monitoring:incident", public_id=public_id)
            services.incident_notice_record(acting_user=user, public_id=public_id,
                                            request=request, **form.cleaned_data)  # fmt: skip
        elif action == "catatan":
            services.incident_note_add(
                acting_user=user, public_id=public_id, note=post.get("note", ""), request=request
            )
        elif action == "tautkan":
            services.incident_link_alert(
                acting_user=user, public_id=public_id, alert_public_id=post.get("alert", ""),
                request=request,
            )  # fmt: skip
        else:
            raise Http404()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except TepatDenied as exc:
        return _forbidden(request, exc.message)
    except TepatError as exc:
        messages.error(request, _first_message(exc))
    return redirect("monitoring:incident", public_id=public_id)


@login_required
@require_POST
def incident_from_alert(request: HttpRequest, alert_id: str) -> HttpResponse:
    """ "Open an incident from this alert": the incident's clock starts when the alert did."""
    try:
        incident, created = services.incident_open_from_alert(
            acting_user=staff_user(request), alert_public_id=alert_id, request=request
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except TepatDenied as exc:
        return _forbidden(request, exc.message)
    except TepatError as exc:
        messages.error(request, _first_message(exc))
        return redirect("monitoring:incidents")
    if not created:
        messages.info(request, _("Peringatan ini sudah menjadi bagian dari insiden ini."))
    return redirect("monitoring:incident", public_id=incident.public_id)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log, filtered and paged, within the reader's reach; reading it is audited."""
    if not selectors.can_read_audit(request.user):
        return _forbidden(
            request, _("Log audit hanya untuk admin, auditor, Pejabat PDP dan supervisor.")
        )
    errors: dict[str, str] = {}
    try:
        filters = selectors.audit_filters(request.GET.dict())
    except ValidationFailed as exc:
        errors = {p.field: p.message.split(" / ")[0] for p in exc.problems}
        filters = selectors.AuditFilters()
        page = selectors.AuditPage([], filters, False)
    else:
        page = selectors.audit_events(user=request.user, filters=filters)
        audit_read(
            actor=request.user, what="monitoring.audit_view", count=len(page.rows),
            region_code=filters.region, request=request, detail={"filters": filters.as_dict()},
        )  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "monitoring/audit.html",
        {"page": page, "f": request.GET, "errors": errors, "query": query.urlencode()},
        status=400 if errors else 200,
    )
