"""Integration pages: sources and uploads with progress, run detail with quarantine, review queue,
data quality. Views parse input, call a service or selector, and render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tepat.accounts.scoping import can_edit_registry, can_view_full_record
from tepat.core.errors import PermissionDenied, TepatError
from tepat.integration import conf, selectors, services
from tepat.integration.models import ImportRun, ReviewPair


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    services.sources_ensure_builtin()
    services.import_runs_reap_stale()
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        source_key = request.POST.get("source", "")
        if upload is None:
            error = "Pilih berkas / choose a file"
        elif upload.size and upload.size > conf.max_upload_bytes():
            error = "Berkas terlalu besar / file too large"
        else:
            try:
                result = services.upload_start(
                    acting_user=request.user,
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


def _run(public_id: str) -> ImportRun:
    services.import_runs_reap_stale()  # a run whose process died stops "running" here
    run = selectors.import_run_get(public_id)
    if run is None:
        raise Http404
    return run


@login_required
def run_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    run = _run(public_id)
    rows = selectors.quarantine_rows_with_raw(
        request.user, run, masked=not can_view_full_record(request.user)
    )
    return render(
        request,
        "integration/run.html",
        {"run": run, "rows": rows, "can_edit": can_edit_registry(request.user)},
    )


@login_required
def run_progress(request: HttpRequest, public_id: str) -> HttpResponse:
    """The htmx-polled progress fragment."""
    return render(request, "integration/_progress.html", {"run": _run(public_id)})


@login_required
def quarantine_download(request: HttpRequest, public_id: str) -> HttpResponse:
    if not can_view_full_record(request.user):
        raise PermissionDenied()
    run = _run(public_id)
    response = HttpResponse(
        selectors.quarantine_csv(request.user, run), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="karantina-{run.public_id}.csv"'
    return response


@login_required
@require_POST
def quarantine_resubmit(request: HttpRequest, public_id: str) -> HttpResponse:
    run = _run(public_id)
    corrections: dict[int, dict[str, str]] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        # Fields are named fix-<quarantine row id>-<column>.
        if not key.startswith("fix-"):
            continue
        _, row_id, column = key.split("-", 2)
        if row_id.isdigit():
            corrections.setdefault(int(row_id), {})[column] = value.strip()
    try:
        result = services.quarantine_resubmit(
            acting_user=request.user, run=run, corrections=corrections
        )
    except PermissionDenied:
        raise
    except TepatError as exc:
        return render(
            request,
            "integration/run.html",
            {"run": run, "rows": [], "error": exc.message, "can_edit": True},
            status=422,
        )
    return redirect("integration:run", public_id=result.run.public_id)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    pairs = list(selectors.review_pairs_for(request.user)[:50])
    items = [{"pair": p, "records": selectors.review_pair_records(p)} for p in pairs]
    return render(
        request,
        "integration/review.html",
        {
            "items": items,
            "open": selectors.review_pairs_for(request.user).count(),
            "can_edit": can_edit_registry(request.user),
        },
    )


@login_required
@require_POST
def review_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    pair = get_object_or_404(selectors.review_pairs_for(request.user), public_id=public_id)
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        return HttpResponse("decision must be accept or reject", status=400)
    services.review_decide(acting_user=request.user, pair=pair, accept=decision == "accept")
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    return redirect("integration:review")


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    region = request.GET.get("region", "").replace(".", "").strip()
    data = selectors.data_quality(request.user, region_prefix=region)
    return render(request, "integration/quality.html", {"data": data, "region": region})


__all__ = ["ReviewPair"]
