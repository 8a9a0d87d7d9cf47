"""Staff pages for data-subject requests: the queue (by time left to the legal deadline), one
case with the actions the user's role allows, and the office form for a walk-in citizen.

Views parse input, call a service or selector, and render. Out-of-scope requests are 404;
an action the role may not take is a 403 page that says so (never a 500).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tepat.accounts.selectors import staff_user
from tepat.core.audit import audit_read, region_of
from tepat.core.errors import NotFound, PermissionDenied, TepatError, ValidationFailed
from tepat.core.masking import mask_name, mask_nik
from tepat.privacy import selectors, services
from tepat.privacy.models import (
    KIND_RULES,
    Channel,
    DataSubjectRequest,
    ObjectionTarget,
    RequestKind,
    RequestStatus,
)
from tepat.registry.validators import normalize_number

CHANGE_ROWS = 4


def _message(exc: TepatError) -> str:
    return exc.message.split(" / ")[0]


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "privacy/rights_forbidden.html", {"message": message}, status=403)


def _require_reader(request: HttpRequest) -> HttpResponse | None:
    if not selectors.can_read(request.user):
        return _forbidden(request, _("Peran Anda tidak dapat membuka permintaan hak subjek data."))
    return None


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    refused = _require_reader(request)
    if refused is not None:
        return refused
    state = request.GET.get("status", "open") or "open"
    kind = request.GET.get("jenis", "")
    try:
        rows = selectors.request_queue(user=request.user, state=state, kind=kind)
    except TepatError as exc:
        return render(
            request, "privacy/rights_forbidden.html", {"message": _message(exc)}, status=400
        )
    audit_read(
        actor=request.user,
        what="privacy.queue_view",
        count=len(rows),
        region_code=region_of(r.request.region_code for r in rows),
        request=request,
        detail={"status": state[:20], "kind": kind[:12]},
    )
    return render(
        request,
        "privacy/rights_queue.html",
        {
            "rows": rows,
            "counts": selectors.queue_counts(user=request.user),
            "state": state,
            "kind": kind,
            "kinds": RequestKind.choices,
            "states": [
                ("open", _("Terbuka")),
                ("overdue", _("Lewat batas waktu")),
                ("awaiting_approval", _("Menunggu persetujuan")),
                ("followup", _("Tindak lanjut penargetan")),
                ("decided", _("Selesai")),
                ("all", _("Semua")),
            ],
            "can_open": services.can_handle(request.user),
        },
    )


def _changes_from(post: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(CHANGE_ROWS):
        key = post.get(f"change_field_{i}", "")
        value = post.get(f"change_value_{i}", "").strip()
        if key and value:
            out[key] = value
    return out


def _case_context(request: HttpRequest, dsr: DataSubjectRequest, **extra: Any) -> dict[str, Any]:
    person = dsr.subject
    chosen = extra.pop("changes", None) or dsr.approved_changes or dsr.requested_changes
    prefill = list(chosen.items())
    rows = [prefill[i] if i < len(prefill) else ("", "") for i in range(CHANGE_ROWS)]
    return {
        "d": dsr,
        "rule": KIND_RULES[dsr.kind],
        "subject_name": person.full_name,
        "subject_masked": mask_name(person.full_name),
        "time_left": selectors.time_left(dsr),
        "met_deadline": selectors.met_deadline(dsr),
        "events": selectors.request_history(dsr),
        "actions": selectors.actions_for(request.user, dsr),
        "outcomes": [(o, RequestStatus(o).label) for o in services.OUTCOMES_BY_KIND[dsr.kind]],
        "blockers": selectors.erasure_blockers(dsr),
        "explanation": selectors.objection_explanation(user=request.user, dsr=dsr),
        "requested": [(selectors.field_label(k), v) for k, v in dsr.requested_changes.items()],
        "approved": [(selectors.field_label(k), v) for k, v in dsr.approved_changes.items()],
        "change_rows": rows,
        "fields": selectors.correctable_fields(),
        "formats": [("pdf", "PDF"), ("json", "JSON"), ("csv", "CSV (ZIP)")],
        **extra,
    }


def _act(request: HttpRequest, dsr: DataSubjectRequest, action: str) -> Callable[[], Any] | None:
    user = staff_user(request)
    post = request.POST
    calls: dict[str, Callable[[], Any]] = {
        "assign": lambda: services.request_assign(acting_user=user, dsr=dsr),
        "decide": lambda: services.request_decide(
            acting_user=user,
            dsr=dsr,
            outcome=post.get("outcome", ""),
            outcome_text=post.get("outcome_text", ""),
            changes=_changes_from(post),
        ),
        "approve": lambda: services.request_approve(acting_user=user, dsr=dsr),
        "return": lambda: services.request_return(
            acting_user=user, dsr=dsr, reason=post.get("reason", "")
        ),
        "close": lambda: services.request_close(
            acting_user=user, dsr=dsr, reason=post.get("reason", "")
        ),
        "followup_done": lambda: services.request_followup_done(
            acting_user=user, dsr=dsr, note=post.get("note", "")
        ),
    }
    return calls.get(action)


@login_required
@require_http_methods(["GET", "POST"])
def case(request: HttpRequest, public_id: str) -> HttpResponse:
    refused = _require_reader(request)
    if refused is not None:
        return refused
    try:
        dsr = selectors.request_get(user=request.user, public_id=public_id)
    except NotFound:
        raise Http404 from None
    audit_read(
        actor=request.user,
        what="privacy.request_view",
        count=1,
        region_code=dsr.region_code,
        request=request,
        target_type="data_subject_request",
        target_id=dsr.public_id,
    )
    if request.method == "GET":
        return render(request, "privacy/rights_case.html", _case_context(request, dsr))
    action = request.POST.get("action", "")
    if action == "export":
        return _export(request, dsr)
    call = _act(request, dsr, action)
    if call is None:
        return render(
            request,
            "privacy/rights_case.html",
            _case_context(request, dsr, error=_("Tindakan tidak dikenal.")),
            status=400,
        )
    try:
        call()
    except NotFound:
        raise Http404 from None
    except PermissionDenied as exc:
        return render(
            request,
            "privacy/rights_case.html",
            _case_context(request, dsr, error=_message(exc)),
            status=403,
        )
    except TepatError as exc:
        messages = (
            [p.message.split(" / ")[0] for p in exc.problems if p.severity == "error"]
            if isinstance(exc, ValidationFailed)
            else [_message(exc)]
        )
        dsr.refresh_from_db()
        return render(
            request,
            "privacy/rights_case.html",
            _case_context(
                request,
                dsr,
                error="; ".join(messages),
                changes=_changes_from(request.POST) if action == "decide" else None,
                form=request.POST,
            ),
            status=400,
        )
    return redirect("privacy:rights_case", public_id=dsr.public_id)


def _export(request: HttpRequest, dsr: DataSubjectRequest) -> HttpResponse:
    try:
        out = services.request_export(
            acting_user=staff_user(request), dsr=dsr, fmt=request.POST.get("format", "")
        )
    except NotFound:
        raise Http404 from None
    except PermissionDenied as exc:
        return render(
            request,
            "privacy/rights_case.html",
            _case_context(request, dsr, error=_message(exc)),
            status=403,
        )
    except TepatError as exc:
        return render(
            request,
            "privacy/rights_case.html",
            _case_context(request, dsr, error=_message(exc)),
            status=400,
        )
    response = HttpResponse(out.content, content_type=out.content_type)
    response["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def open_for_walk_in(request: HttpRequest) -> HttpResponse:
    """Step 1: find the citizen by NIK (blind index, the user's regions, audited). Step 2: the
    request, with the box that says the identity card was checked."""
    if not services.can_handle(request.user):
        return _forbidden(request, _("Peran Anda tidak dapat membuka permintaan untuk warga."))
    ctx: dict[str, Any] = {
        "kinds": RequestKind.choices,
        "targets": ObjectionTarget.choices,
        "fields": selectors.correctable_fields(),
        "change_rows": [("", "")] * CHANGE_ROWS,
        "rules": KIND_RULES,
        "form": {},
        "errors": {},
    }
    if request.method == "GET":
        return render(request, "privacy/rights_open.html", ctx)
    step = request.POST.get("step", "find")
    ctx["form"] = request.POST
    if step == "find":
        nik = normalize_number(request.POST.get("nik", ""))
        try:
            person = selectors.subject_find(user=request.user, nik=nik)
        except TepatError as exc:
            ctx["errors"] = {"nik": _message(exc)}
            return render(request, "privacy/rights_open.html", ctx, status=400)
        audit_read(
            actor=request.user,
            what="privacy.subject_lookup",
            count=1 if person else 0,
            region_code=person.household.village_id if person else "",
            request=request,
            target_type="person" if person else "",
            target_id=person.public_id if person else "",
            detail={"nik": mask_nik(nik), "found": person is not None},
        )
        if person is None:
            ctx["errors"] = {"nik": _("NIK tidak ditemukan di wilayah Anda.")}
            return render(request, "privacy/rights_open.html", ctx, status=404)
        ctx.update(_person_card(person))
        return render(request, "privacy/rights_open.html", ctx)
    try:
        person = selectors.subject_visible(
            user=request.user, public_id=request.POST.get("person", "")
        )
    except NotFound:
        raise Http404 from None
    ctx.update(_person_card(person))
    ctx["change_rows"] = [
        (request.POST.get(f"change_field_{i}", ""), request.POST.get(f"change_value_{i}", ""))
        for i in range(CHANGE_ROWS)
    ]
    try:
        dsr, _created = services.request_open(
            kind=request.POST.get("kind", ""),
            person=person,
            channel=Channel.OFFICE,
            details=request.POST.get("details", ""),
            requested_changes=_changes_from(request.POST),
            objection_target=request.POST.get("objection_target", ""),
            identity_checked=request.POST.get("identity_checked") == "on",
            acting_user=staff_user(request),
        )
    except PermissionDenied as exc:
        return _forbidden(request, _message(exc))
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        ctx["errors"] = {
            p.field: p.message.split(" / ")[0] for p in exc.problems if p.severity == "error"
        }
        return render(request, "privacy/rights_open.html", ctx, status=400)
    except TepatError as exc:
        ctx["errors"] = {exc.field or "kind": _message(exc)}
        return render(request, "privacy/rights_open.html", ctx, status=400)
    return redirect("privacy:rights_case", public_id=dsr.public_id)


def _person_card(person: Any) -> dict[str, Any]:
    return {
        "person": person,
        "person_name": person.full_name,
        "person_village": person.household.village_id,
    }
