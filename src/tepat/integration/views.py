"""Integration pages: sources and uploads with progress, run detail with quarantine, review queue,
data quality. Views parse input, call a service or selector, and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from tepat.accounts.scoping import can_edit_registry, can_view_full_record
from tepat.accounts.selectors import staff_user
from tepat.core.audit import audit_read, region_of, reveal_purpose
from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.core.uploads import upload_guard
from tepat.integration import conf, selectors, services
from tepat.integration.models import ImportRun, ReviewPair


@login_required
@csrf_exempt  # checked by csrf_protect below, once the body cap and the memory-only upload are set
@upload_guard(conf.max_upload_bytes)
@csrf_protect
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    services.sources_ensure_builtin()
    services.import_runs_reap_stale()
    error = ""
    if request.method == "POST":
        _require_editor(request, "mengunggah berkas", "upload files")
        upload = request.FILES.get("file")
        source_key = request.POST.get("source", "")
        if upload is None:
            error = "Pilih berkas / choose a file"
        elif upload.size and upload.size > conf.max_upload_bytes():
            error = "Berkas terlalu besar / file too large"
        else:
            try:
                result = services.upload_start(
                    acting_user=staff_user(request),
                    source_key=source_key,
                    file_name=upload.name or "upload",
                    data=upload.read(),
                )
            except PermissionDenied:
                raise
            except TepatError as exc:
                error = exc.message
            else:
                return redirect("integration:run", public_id=result.run.public_id)
    return render(
        request,
        "integration/home.html",
        {
            "sources": selectors.sources_list(),
            "runs": selectors.import_runs_recent(),
            "error": error,
            "can_upload": can_edit_registry(request.user),
        },
    )


def _require_editor(request: HttpRequest, what_id: str, what_en: str) -> None:
    """Auditors and field agents read integration, they never change it: refused before any
    work (the 403 page, or an alert on htmx: core/http_errors.py) with the reason in both
    languages, rather than the service's bare refusal deep inside."""
    if not can_edit_registry(request.user):
        raise PermissionDenied(
            f"Peran Anda hanya dapat membaca: tidak boleh {what_id} / "
            f"your role is read-only: you may not {what_en}"
        )


def _run(public_id: str) -> ImportRun:
    services.import_runs_reap_stale()  # a run whose process died stops "running" here
    run = selectors.import_run_get(public_id)
    if run is None:
        raise Http404
    return run


def _reveal(request: HttpRequest) -> str | None:
    """The stated purpose when the user asked (POST) to see full NIK and No. KK, as the
    registry's person page does; None for the masked default. Refused for roles that may not."""
    if request.method != "POST":
        return None
    if not can_view_full_record(request.user):
        raise Forbidden(
            "Peran Anda tidak boleh melihat data lengkap / your role cannot view full records"
        )
    return reveal_purpose(request.POST.get("purpose", ""))


def _audit_quarantine_read(
    request: HttpRequest, run: ImportRun, rows: list[dict[str, Any]], what: str, purpose: str | None
) -> None:
    detail: dict[str, Any] = {"revealed": purpose is not None}
    if purpose is not None:
        detail["purpose"] = purpose
    audit_read(
        actor=request.user,
        what=what,
        count=len(rows),
        region_code=region_of(r["row"].village_code for r in rows),
        request=request,
        target_type="import_run",
        target_id=run.public_id,
        detail=detail,
    )


@login_required
@require_http_methods(["GET", "POST"])
def run_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The run with its quarantine in the user's regions, NIK and No. KK masked; a POST with a
    stated purpose reveals them. Every view that shows rows is audited with their number."""
    run = _run(public_id)
    error = ""
    try:
        purpose = _reveal(request)
    except TepatError as exc:
        purpose, error = None, exc.message
    rows = selectors.quarantine_rows_with_raw(request.user, run, masked=purpose is None)
    if rows:
        _audit_quarantine_read(request, run, rows, "integration.quarantine_view", purpose)
    return render(
        request,
        "integration/run.html",
        {
            "run": run,
            "rows": rows,
            "can_edit": can_edit_registry(request.user),
            "can_reveal": can_view_full_record(request.user),
            "revealed": purpose is not None,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def run_progress(request: HttpRequest, public_id: str) -> HttpResponse:
    """The htmx-polled progress fragment."""
    return render(request, "integration/_progress.html", {"run": _run(public_id)})


@login_required
@require_http_methods(["GET", "POST"])
def quarantine_download(request: HttpRequest, public_id: str) -> HttpResponse:
    """The quarantine as CSV, masked (GET) or in full for a stated purpose (POST); audited."""
    if not can_view_full_record(request.user):
        raise Forbidden()
    run = _run(public_id)
    try:
        purpose = _reveal(request)
    except TepatError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    masked = purpose is None
    body, count = selectors.quarantine_csv(request.user, run, masked=masked)
    audit_read(
        actor=request.user,
        what="integration.quarantine_download",
        count=count,
        region_code=region_of(
            selectors.quarantine_for(request.user, run).values_list("village_code", flat=True)
        ),
        request=request,
        target_type="import_run",
        target_id=run.public_id,
        detail={"revealed": not masked, **({} if masked else {"purpose": purpose})},
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"karantina-{run.public_id}{'' if masked else '-lengkap'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def quarantine_resubmit(request: HttpRequest, public_id: str) -> HttpResponse:
    _require_editor(request, "mengirim ulang koreksi", "resubmit corrections")
    run = _run(public_id)
    corrections: dict[int, dict[str, str]] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        # Fields are named fix-<quarantine row id>-<column>. An empty one keeps the delivered
        # value: a masked NIK or No. KK is offered empty, never as its masked form.
        if not key.startswith("fix-") or not value.strip():
            continue
        _, row_id, column = key.split("-", 2)
        if row_id.isdigit():
            corrections.setdefault(int(row_id), {})[column] = value.strip()
    try:
        result = services.quarantine_resubmit(
            acting_user=staff_user(request), run=run, corrections=corrections
        )
    except PermissionDenied:
        raise
    except TepatError as exc:
        return render(
            request,
            "integration/run.html",
            {
                "run": run,
                "rows": [],
                "error": exc.message,
                "can_edit": can_edit_registry(request.user),
                "can_reveal": can_view_full_record(request.user),
            },
            status=422,
        )
    return redirect("integration:run", public_id=result.run.public_id)


DECISION_LABELS = {
    ReviewPair.Status.ACCEPTED: gettext_lazy("Orang yang sama"),
    ReviewPair.Status.REJECTED: gettext_lazy("Orang berbeda"),
}


def _review_count(request: HttpRequest) -> int:
    return selectors.review_pairs_for(request.user).count()


def _review_items(request: HttpRequest, pairs: list[ReviewPair]) -> list[dict[str, Any]]:
    """The pairs as reviewers compare them; the read of their records is audited."""
    items = selectors.review_pair_comparisons(pairs, user=request.user)
    if items:
        audit_read(
            actor=request.user,
            what="integration.review_view",
            count=sum(1 for i in items for h in i["heads"] if not h["missing"]),
            region_code=region_of(p.village_code for p in pairs),
            request=request,
            detail={"pairs": [p.public_id for p in pairs]},
        )
    return items


@login_required
@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    pairs = list(selectors.review_pairs_for(request.user)[: selectors.REVIEW_PAGE_SIZE])
    items = _review_items(request, pairs)
    # After a decision without JavaScript: the confirmation with its undo, as htmx shows it.
    decided = None
    decided_id = request.GET.get("diputuskan", "").strip()
    if decided_id:
        try:
            pair = selectors.review_pair_get(request.user, decided_id[:16])
        except NotFound:
            pair = None
        if pair is not None and pair.status != ReviewPair.Status.OPEN:
            decided = _decided_context(request, pair)
    return render(
        request,
        "integration/review.html",
        {
            "items": items,
            "open": _review_count(request),
            "can_edit": can_edit_registry(request.user),
            "decided": decided,
        },
    )


def _decided_context(request: HttpRequest, pair: ReviewPair) -> dict[str, Any]:
    return {
        "pair": pair,
        "label": DECISION_LABELS.get(ReviewPair.Status(pair.status), ""),
        "can_undo": pair.decided_by_id == request.user.pk and can_edit_registry(request.user),
    }


def _reviewer_pair(request: HttpRequest, public_id: str) -> ReviewPair:
    """The pair a reviewer acts on: read-only roles are refused (403), a pair outside the
    user's regions does not exist (404)."""
    if not can_edit_registry(request.user):
        raise Forbidden(
            _("Peran Anda hanya dapat membaca antrean tinjauan / your role may only read the queue")
        )
    try:
        return selectors.review_pair_get(request.user, public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_POST
def review_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    pair = _reviewer_pair(request, public_id)
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        return HttpResponse(
            _("Keputusan harus sama atau berbeda / decision must be accept or reject"),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    already = pair.status != ReviewPair.Status.OPEN
    if not already:
        pair = services.review_decide(
            acting_user=staff_user(request), pair=pair, accept=decision == "accept"
        )
    if not getattr(request, "htmx", False):
        if already:
            messages.warning(request, _("Pasangan ini sudah diputuskan sebelumnya."))
            return redirect("integration:review")
        return redirect(f"{reverse('integration:review')}?diputuskan={pair.public_id}")
    return render(
        request,
        "integration/_decided.html",
        {
            "decided": _decided_context(request, pair),
            "already": already,
            "open": _review_count(request),
            "oob": True,
        },
    )


@login_required
@require_POST
def review_undo(request: HttpRequest, public_id: str) -> HttpResponse:
    """Reopen a pair the user has just decided: it goes back into the queue."""
    pair = _reviewer_pair(request, public_id)
    pair = services.review_reopen(acting_user=staff_user(request), pair=pair)
    if not getattr(request, "htmx", False):
        messages.info(request, _("Keputusan dibatalkan; pasangan kembali ke antrean."))
        return redirect(f"{reverse('integration:review')}#pair-{pair.public_id}")
    return render(
        request,
        "integration/_pair.html",
        {
            "item": _review_items(request, [pair])[0],
            "can_edit": True,
            "open": _review_count(request),
            "oob": True,
            "reopened": True,
        },
    )


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    # The region as the API reads it (dotted or not, checked against the user's regions). One
    # outside them reads as unknown (404), a malformed one is refused (400); never a 500.
    typed = request.GET.get("region", "")[:32]
    try:
        region = selectors.quality_region(request.user, typed)
    except TepatError as exc:
        message = _("Wilayah tidak dikenal atau di luar wilayah Anda.")
        if not isinstance(exc, NotFound):
            message = exc.message
        return render(
            request,
            "integration/quality.html",
            {"data": None, "region": typed, "error": message},
            status=exc.http_status,
        )
    data = selectors.data_quality(request.user, region_prefix=region)
    return render(request, "integration/quality.html", {"data": data, "region": region})


__all__ = ["ReviewPair"]
