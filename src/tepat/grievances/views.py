from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from tepat.accounts.scoping import can_edit_registry
from tepat.accounts.selectors import staff_user
from tepat.core.audit import audit_read, region_of
from tepat.core.errors import NotFound, TepatError, ValidationFailed
from tepat.core.errors import PermissionDenied as TepatDenied
from tepat.core.ids import new_public_id
from tepat.core.netaddr import client_address
from tepat.core.uploads import upload_guard
from tepat.grievances import limits, selectors, services
from tepat.grievances.models import Category, ComplaintStatus, ReportKind, TaskStatus


def _errors(exc: ValidationFailed) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in exc.problems:
        if p.severity == "error":
            out.setdefault(p.field, p.message.split(" / ")[0])
    return out


def _limited(request: HttpRequest, template: str, exc: TepatError, **ctx: Any) -> HttpResponse:
    """The form or tracking page again, with the limit's message and HTTP 429."""
    message = exc.message.split(" / ")[0]
    ctx.setdefault("errors", {"submission_key": message})  # the forms show this one on top
    return render(request, template, {"error": message, **ctx}, status=429)


# --- citizens -----------------------------------------------------------------------------------


@csrf_exempt  # checked by csrf_protect below, once the body is known to be small enough
@upload_guard(lambda: 0)  # no file: the text fields only (the guard's allowance)
@csrf_protect
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    form: dict[str, str] = {"submission_key": new_public_id(24)}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {
            k: request.POST.get(k, "")
            for k in ("submission_key", "category", "village_code", "description", "contact_phone")
        }
        try:
            limits.submission_admit(client_address(request))
            complaint, _created = services.complaint_submit(**form)
        except limits.RateLimited as exc:
            return _limited(request, "grievances/complaint_new.html", exc, form=form,
                            categories=Category.choices, nav="adu")  # fmt: skip
        except ValidationFailed as exc:
            errors = _errors(exc)
        else:
            return redirect("grievances:complaint_status", code=complaint.tracking_code)
    return render(
        request,
        "grievances/complaint_new.html",
        {"form": form, "errors": errors, "categories": Category.choices, "nav": "adu"},
        status=400 if errors else 200,
    )


def track(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("kode", "")
    error = ""
    if code:
        clean = selectors.normalize_tracking_code(code)
        if clean.startswith("ADU"):
            return redirect("grievances:complaint_status", code=clean)
        if clean.startswith(("SGH", "USL")):
            return redirect("grievances:report_status", code=clean)
        error = _("Nomor tidak dikenal. Contoh: ADU-7K2M-9XPQ")
    return render(request, "grievances/track.html", {"code": code, "error": error, "nav": "lacak"})


@require_http_methods(["GET", "POST"])
def complaint_status(request: HttpRequest, code: str) -> HttpResponse:
    try:
        complaint = selectors.complaint_track(code=code, address=client_address(request))
    except limits.RateLimited as exc:
        return _limited(request, "grievances/track.html", exc, code=code, nav="lacak")
    except NotFound:
        return render(
            request,
            "grievances/track.html",
            {"code": code, "error": _("Nomor pengaduan tidak ditemukan."), "nav": "lacak"},
            status=404,
        )
    error = ""
    if request.method == "POST":
        try:
            services.complaint_appeal(complaint=complaint, reason=request.POST.get("reason", ""))
        except TepatError as exc:
            error = exc.message.split(" / ")[0]
        else:
            return redirect("grievances:complaint_status", code=complaint.tracking_code)
    return render(
        request,
        "grievances/complaint_status.html",
        {
            "c": complaint,
            "events": selectors.complaint_history(complaint=complaint),
            "can_appeal": complaint.status in (ComplaintStatus.REJECTED, ComplaintStatus.REFERRED)
            and not complaint.appeal_reason,
            "error": error,
            "nav": "lacak",
        },
        status=400 if error else 200,
    )


@csrf_exempt  # checked by csrf_protect below, once the body cap and the memory-only upload are set
@upload_guard(services.evidence_max_bytes)
@csrf_protect
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    form: dict[str, str] = {
        "submission_key": new_public_id(24),
        "kind": request.GET.get("jenis", ""),
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        keys = (
            "submission_key",
            "kind",
            "village_code",
            "subject_name",
            "subject_nik",
            "address",
            "reason",
            "latitude",
            "longitude",
        )
        form = {k: request.POST.get(k, "") for k in keys}
        try:
            limits.submission_admit(client_address(request))
        except limits.RateLimited as exc:
            form["subject_nik"] = ""
            return _limited(request, "grievances/report_new.html", exc, form=form,
                            kinds=ReportKind.choices, nav="usul")  # fmt: skip
        upload = request.FILES.get("photo")
        photo: bytes | None = None
        if upload is not None:
            # Read at most one byte past the limit: an oversized file is refused unread.
            photo = upload.read(services.evidence_max_bytes() + 1)
        try:
            report, _created = services.report_submit(**form, photo=photo)
        except ValidationFailed as exc:
            errors = _errors(exc)
            form["subject_nik"] = ""
        else:
            return redirect("grievances:report_status", code=report.tracking_code)
    return render(
        request,
        "grievances/report_new.html",
        {"form": form, "errors": errors, "kinds": ReportKind.choices, "nav": "usul"},
        status=400 if errors else 200,
    )


def report_status(request: HttpRequest, code: str) -> HttpResponse:
    try:
        report = selectors.report_track(code=code, address=client_address(request))
    except limits.RateLimited as exc:
        return _limited(request, "grievances/track.html", exc, code=code, nav="lacak")
    except NotFound:
        return render(
            request,
            "grievances/track.html",
            {"code": code, "error": _("Nomor usul/sanggah tidak ditemukan."), "nav": "lacak"},
            status=404,
        )
    return render(request, "grievances/report_status.html", {"r": report, "nav": "lacak"})


# --- operators ----------------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("status", "open")
    complaints = list(selectors.complaints_inbox(user=request.user, state=state)[:200])
    tasks = list(selectors.tasks_inbox(user=request.user, state=state)[:200])
    audit_read(
        actor=request.user,
        what="grievances.inbox_view",
        count=len(complaints) + len(tasks),
        region_code=region_of(
            [c.village_code for c in complaints] + [t.village_code for t in tasks]
        ),
        request=request,
        detail={"status": state[:20]},
    )
    return render(
        request,
        "grievances/inbox.html",
        {
            "complaints": complaints,
            "tasks": tasks,
            "summary": selectors.backlog_summary(user=request.user),
            "state": state,
        },
    )


def _audit_one(request: HttpRequest, what: str, kind: str, item: Any) -> None:
    """Staff reads of one complaint or report (names, contact) are audited like registry reads."""
    audit_read(
        actor=request.user,
        what=what,
        count=1,
        region_code=item.village_code,
        request=request,
        target_type=kind,
        target_id=item.public_id,
    )


def _staff_action(request: HttpRequest, fn: Any) -> str:
    if not can_edit_registry(request.user):
        # The page shows no form to a read-only role (auditor, field agent); a post anyway
        # is the 403 page with the reason (core/http_errors.py).
        raise TepatDenied(
            "Peran Anda hanya dapat membaca: tidak boleh memutus aduan atau laporan / "
            "your role is read-only: you may not decide complaints or reports"
        )
    try:
        fn()
    except TepatDenied:
        raise Http404 from None
    except TepatError as exc:
        return exc.message.split(" / ")[0]
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def complaint_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        complaint = selectors.complaint_get(user=request.user, public_id=public_id)
    except NotFound:
        raise Http404 from None
    _audit_one(request, "grievances.complaint_view", "complaint", complaint)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "assign_me":
            error = _staff_action(
                request,
                lambda: services.complaint_assign(
                    acting_user=staff_user(request), complaint=complaint, assignee=request.user
                ),
            )
        else:
            error = _staff_action(
                request,
                lambda: services.complaint_decide(
                    acting_user=staff_user(request),
                    complaint=complaint,
                    decision=request.POST.get("decision", ""),
                    note=request.POST.get("note", ""),
                ),
            )
        if not error:
            return redirect("grievances:complaint_detail", public_id=public_id)
    return render(
        request,
        "grievances/complaint_detail.html",
        {
            "c": complaint,
            "events": selectors.complaint_history(complaint=complaint),
            "decisions": [
                (s.value, s.label)
                for s in (
                    ComplaintStatus.UPHELD,
                    ComplaintStatus.REJECTED,
                    ComplaintStatus.REFERRED,
                )
            ],
            "error": error,
            "can_act": can_edit_registry(request.user),
        },
        status=400 if error else 200,
    )


def _corrections(request: HttpRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("owns_car", "owns_motorcycle", "owns_refrigerator", "owns_land"):
        value = request.POST.get(name, "")
        if value in ("yes", "no"):
            out[name] = value == "yes"
    va = request.POST.get("electricity_va", "").strip()
    if va:
        out["electricity_va"] = va
    return out


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        report = selectors.task_get(user=request.user, public_id=public_id)
    except NotFound:
        raise Http404 from None
    _audit_one(request, "grievances.task_view", "community_report", report)
    error = ""
    if request.method == "POST":
        error = _staff_action(
            request,
            lambda: services.report_decide(
                acting_user=staff_user(request),
                report=report,
                decision=request.POST.get("decision", ""),
                note=request.POST.get("note", ""),
                corrections=_corrections(request),
            ),
        )
        if not error:
            return redirect("grievances:task_detail", public_id=public_id)
    return render(
        request,
        "grievances/task_detail.html",
        {
            "r": report,
            "photo_url": reverse("grievances:task_photo", args=[report.public_id]),
            "decisions": [(s.value, s.label) for s in (TaskStatus.UPHELD, TaskStatus.REJECTED)],
            "correctable": [
                ("owns_car", _("Memiliki mobil")),
                ("owns_motorcycle", _("Memiliki sepeda motor")),
                ("owns_refrigerator", _("Memiliki lemari es")),
                ("owns_land", _("Memiliki lahan")),
            ],
            "error": error,
            "can_act": can_edit_registry(request.user),
        },
        status=400 if error else 200,
    )


@login_required
def task_photo(request: HttpRequest, public_id: str) -> FileResponse:
    try:
        report = selectors.task_get(user=request.user, public_id=public_id)
    except NotFound:
        raise Http404 from None
    path = services.evidence_dir() / report.photo_path
    if not report.photo_path or not path.is_file():  # purged after its retention period
        raise Http404
    _audit_one(request, "grievances.task_photo_view", "community_report", report)
    return FileResponse(path.open("rb"), content_type=f"image/{report.photo_type}")
