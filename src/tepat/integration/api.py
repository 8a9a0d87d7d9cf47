"""Integration API: agency sources, import runs with their quarantine, corrections, the clerical
review queue, data-quality figures and link runs: what the /integrasi/ pages do, for scripts.

Quarantined rows and review pairs are region-scoped (outside the caller's regions they do not
exist: 404), NIK and No. KK are masked, and every read of them is audited. Writes need a role that
may edit the registry; a link run rewrites every region, so it needs an admin.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from ninja.params import functions as param
from ninja.responses import Status

from tepat.accounts.scoping import can_edit_registry
from tepat.accounts.selectors import staff_user
from tepat.core.apischema import REGION_FILTER_PATTERN, ErrorOut
from tepat.core.audit import audit_read, audit_record, region_of
from tepat.core.errors import FieldProblem, NotFound, PermissionDenied, TepatError, ValidationFailed
from tepat.core.paging import MAX_OFFSET
from tepat.core.uploads import upload_guard
from tepat.integration import conf, selectors, services
from tepat.integration.importing import ImportResult
from tepat.integration.models import ImportRun, LinkRun, ReviewPair

router = Router(tags=["integration"])


class PageIn(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class SourceOut(Schema):
    key: str
    name: str
    format: str
    authoritative_for: list[str]
    precedence: int
    active: bool
    records: int


class ProblemOut(Schema):
    field: str
    code: str
    message: str
    row: int | None
    severity: str


class ImportRunOut(Schema):
    public_id: str
    source: str
    file_name: str
    status: str
    delivered_on: dt.date
    total_rows: int
    processed_rows: int
    accepted_rows: int
    rejected_rows: int
    warning_count: int
    error: str
    resubmission_of: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


class ImportRunPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ImportRunOut]


class QuarantinedRowOut(Schema):
    row: int
    field: str
    code: str
    reason: str
    problems: list[ProblemOut]
    status: str
    values: dict[str, str]


class ImportRunDetailOut(ImportRunOut):
    duplicate: bool
    warnings: list[ProblemOut]
    quarantine_count: int
    quarantine: list[QuarantinedRowOut]


class RunsQuery(PageIn):
    source: str = ""
    status: Literal["", "pending", "running", "done", "failed"] = ""


class UploadIn(Schema):
    # A form sends a value left empty as nothing at all, so a required one says so in the schema.
    source: str = Field(min_length=1)
    delivered_on: str = Field("", pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")


class CorrectionIn(Schema):
    row: int
    values: dict[str, str]


class ResubmitIn(Schema):
    corrections: list[CorrectionIn]


class PairRecordOut(Schema):
    key: str
    missing: bool = False
    source: str = ""
    nik_masked: str = ""
    full_name: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    village_code: str = ""
    address: str = ""


class PairOut(Schema):
    public_id: str
    probability: float
    village_code: str
    status: str
    link_run: str | None
    records: list[PairRecordOut]


class PairPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[PairOut]


class DecisionIn(Schema):
    decision: Literal["accept", "reject"]


class DecisionOut(Schema):
    public_id: str
    status: str
    decided_at: dt.datetime | None


class LinkRunOut(Schema):
    public_id: str
    mode: str
    engine: str
    status: str
    model_version: int | None
    stats: dict[str, Any]
    error: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


class LinkRunPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[LinkRunOut]


class LinkRunIn(Schema):
    mode: Literal["incremental", "full"] = "incremental"


class CoverageOut(Schema):
    source: str
    records: int
    linked: int
    match_rate: float


class QuarantineCountOut(Schema):
    source: str
    code: str
    rows: int


class FlagCountOut(Schema):
    kind: str
    persons: int
    households: int


class ConflictOut(Schema):
    field: str
    changes: int


class QualityOut(Schema):
    region: str
    coverage: list[CoverageOut]
    conflicts: list[ConflictOut]
    quarantined: list[QuarantineCountOut]
    flags: list[FlagCountOut]
    review_open: int
    last_link: LinkRunOut | None


class FileTooLarge(TepatError):
    http_status = 413


READ_ERRORS: dict[int, type[Schema]] = {403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


def _editor(request: HttpRequest) -> Any:
    """The caller, if their role may change registry data (checked before any input is read)."""
    if not can_edit_registry(request.user):
        raise PermissionDenied()
    return request.user


def _run_out(run: ImportRun) -> dict[str, Any]:
    return {
        "public_id": run.public_id,
        "source": run.source.key,
        "file_name": run.file_name,
        "status": run.status,
        "delivered_on": run.delivered_on,
        "total_rows": run.total_rows,
        "processed_rows": run.processed_rows,
        "accepted_rows": run.accepted_rows,
        "rejected_rows": run.rejected_rows,
        "warning_count": run.warning_count,
        "error": run.error,
        "resubmission_of": run.resubmission_of.public_id if run.resubmission_of else None,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def _run_detail(
    request: HttpRequest,
    run: ImportRun,
    *,
    page: PageIn,
    duplicate: bool = False,
    warnings: list[FieldProblem] | None = None,
) -> dict[str, Any]:
    """A run with one page of its quarantine in the caller's regions, masked; the read is
    audited when it shows any row."""
    count = selectors.quarantine_for(request.user, run).count()
    rows = selectors.quarantine_rows_with_raw(
        request.user, run, masked=True, offset=page.offset, limit=page.limit
    )
    if rows:
        audit_read(
            actor=request.user,
            what="integration.quarantine_view",
            count=len(rows),
            region_code=region_of(r["row"].village_code for r in rows),
            target_type="import_run",
            target_id=run.public_id,
            request=request,
            detail={"rows": len(rows), "offset": page.offset, "revealed": False},
        )
    return {
        **_run_out(run),
        "duplicate": duplicate,
        "warnings": [w.as_dict() for w in warnings or []],
        "quarantine_count": count,
        "quarantine": [
            {
                "row": r["row"].row_number,
                "field": r["row"].field,
                "code": r["row"].code,
                "reason": r["row"].reason,
                "problems": r["row"].problems,
                "status": r["row"].status,
                "values": r["raw"],
            }
            for r in rows
        ],
    }


def _result(request: HttpRequest, result: ImportResult) -> Status[dict[str, Any]]:
    """201 for a new run; 200 with `duplicate` for a file imported before (the earlier run)."""
    run = selectors.import_run_get(result.run.public_id) or result.run
    body = _run_detail(
        request,
        run,
        page=PageIn(limit=50, offset=0),
        duplicate=result.duplicate,
        warnings=result.warnings,
    )
    return Status(200 if result.duplicate else 201, body)


def _run(public_id: str) -> ImportRun:
    services.import_runs_reap_stale()  # a run whose process died stops "running" here
    run = selectors.import_run_get(public_id)
    if run is None:
        raise NotFound()
    return run


def _delivered_on(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value > timezone.localdate():
        raise ValidationFailed(
            [
                FieldProblem(
                    "delivered_on",
                    "invalid_date",
                    _(
                        "Tanggal kirim harus YYYY-MM-DD dan tidak di masa depan / "
                        "delivered_on must be YYYY-MM-DD and not in the future"
                    ),
                )
            ]
        )
    return value


def _link_run_out(run: LinkRun) -> dict[str, Any]:
    return {
        "public_id": run.public_id,
        "mode": run.mode,
        "engine": run.engine,
        "status": run.status,
        "model_version": run.model.version if run.model else None,
        "stats": run.stats,
        "error": run.error,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


@router.get("/sources", response=list[SourceOut], summary="Sumber data / agency sources")
def sources_list(request: HttpRequest) -> list[dict[str, Any]]:
    services.sources_ensure_builtin()
    return [
        {
            "key": s.key,
            "name": s.name,
            "format": s.config.get("format", ""),
            "authoritative_for": s.config.get("authoritative_for", []),
            "precedence": s.precedence,
            "active": s.active,
            "records": getattr(s, "record_count", 0),
        }
        for s in selectors.sources_list()
    ]


@router.get(
    "/import-runs",
    response={200: ImportRunPageOut, **READ_ERRORS},
    summary="Daftar impor / import runs, newest first",
)
def import_runs(request: HttpRequest, params: Query[RunsQuery]) -> dict[str, Any]:
    runs = selectors.import_runs_filter(source_key=params.source, status=params.status)
    page = runs[params.offset : params.offset + params.limit]
    return {
        "count": runs.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": [_run_out(r) for r in page],
    }


@router.post(
    "/import-runs",
    response={200: ImportRunDetailOut, 201: ImportRunDetailOut, 413: ErrorOut, **WRITE_ERRORS},
    summary="Unggah berkas / upload a delivery",
)
@decorate_view(upload_guard(conf.max_upload_bytes, json=True))  # 413 before reading; memory only
def import_upload(
    request: HttpRequest, body: Form[UploadIn], file: File[UploadedFile]
) -> Status[dict[str, Any]]:
    """Import a file (CSV, Excel or JSON lines) of a source. Rows that fail validation go to the
    quarantine. Processing runs in the background: poll `GET /import-runs/{public_id}` while the
    status is `pending` or `running`. The same file again returns the earlier run (200)."""
    user = _editor(request)
    if file.size and file.size > conf.max_upload_bytes():
        raise FileTooLarge(
            _("Berkas terlalu besar / file too large"), code="file_too_large", field="file"
        )
    delivered_on = _delivered_on(body.delivered_on)
    try:
        result = services.upload_start(
            acting_user=user,
            source_key=body.source,
            file_name=file.name or "upload",
            data=file.read(),
            delivered_on=delivered_on,
        )
    except NotFound as exc:  # the only NotFound here: a source key nobody declared
        raise ValidationFailed([FieldProblem("source", "unknown_source", exc.message)]) from None
    return _result(request, result)


@router.get(
    "/import-runs/{public_id}",
    response={200: ImportRunDetailOut, **READ_ERRORS},
    summary="Satu impor dengan karantinanya / one run with progress and quarantine",
)
def import_run_detail(request: HttpRequest, public_id: str, page: Query[PageIn]) -> dict[str, Any]:
    """Progress counts and a page of the quarantined rows in your regions (NIK and No. KK
    masked), with every problem of each row."""
    return _run_detail(request, _run(public_id), page=page)


@router.post(
    "/import-runs/{public_id}/resubmit",
    response={200: ImportRunDetailOut, 201: ImportRunDetailOut, **WRITE_ERRORS},
    summary="Kirim ulang koreksi / correct and re-submit quarantined rows",
)
def import_run_resubmit(
    request: HttpRequest, public_id: str, body: ResubmitIn
) -> Status[dict[str, Any]]:
    """Correct quarantined rows (by their row number in the file) and re-submit them as a new
    run of the same source: rows that pass leave the quarantine, the others stay with new
    reasons."""
    user = _editor(request)
    run = _run(public_id)
    corrections: dict[int, dict[str, str]] = {}
    for c in body.corrections:
        corrections.setdefault(c.row, {}).update({k: v.strip() for k, v in c.values.items()})
    by_id = selectors.quarantine_corrections_resolve(user, run, corrections)
    result = services.quarantine_resubmit(acting_user=user, run=run, corrections=by_id)
    return _result(request, result)


@router.get(
    "/review-pairs",
    response={200: PairPageOut, **READ_ERRORS},
    summary="Antrean tinjauan / clerical review queue",
)
def review_pairs(request: HttpRequest, page: Query[PageIn]) -> dict[str, Any]:
    """Open pairs in your regions, most likely matches first, each with both records side by
    side (NIK masked)."""
    pairs = selectors.review_pairs_for(request.user).select_related("link_run")
    chunk = list(pairs[page.offset : page.offset + page.limit])
    if chunk:
        audit_record(
            actor=request.user,
            action="integration.review_view",
            target_type="review_pair",
            request=request,
            detail={"pairs": [p.public_id for p in chunk]},
        )
    return {
        "count": pairs.count(),
        "limit": page.limit,
        "offset": page.offset,
        "items": [_pair_out(p) for p in chunk],
    }


def _pair_out(pair: ReviewPair) -> dict[str, Any]:
    records = []
    for r in selectors.review_pair_records(pair):
        r = dict(r)
        r["nik_masked"] = r.pop("nik", "")
        records.append(r)
    return {
        "public_id": pair.public_id,
        "probability": pair.probability,
        "village_code": pair.village_code,
        "status": pair.status,
        "link_run": pair.link_run.public_id if pair.link_run else None,
        "records": records,
    }


@router.post(
    "/review-pairs/{public_id}/decision",
    response={200: DecisionOut, 409: ErrorOut, **WRITE_ERRORS},
    summary="Putuskan pasangan / decide a review pair",
)
def review_decide(request: HttpRequest, public_id: str, body: DecisionIn) -> dict[str, Any]:
    """`accept`: the same person, always linked from now on; `reject`: never linked."""
    user = _editor(request)
    pair = selectors.review_pair_get(user, public_id)
    if pair.status != ReviewPair.Status.OPEN:
        raise services.AlreadyDecided(
            _("Pasangan sudah diputuskan / this pair has been decided already"),
            code="already_decided",
        )
    pair = services.review_decide(acting_user=user, pair=pair, accept=body.decision == "accept")
    return {"public_id": pair.public_id, "status": pair.status, "decided_at": pair.decided_at}


@router.get(
    "/quality",
    response={200: QualityOut, 400: ErrorOut, **READ_ERRORS},
    summary="Kualitas data / data-quality figures",
)
def quality(
    request: HttpRequest, region: str = param.Query("", pattern=REGION_FILTER_PATTERN)
) -> dict[str, Any]:
    """Records and match rate per source, fields the authoritative source changed in the last
    link run, open quarantine by reason, eligibility flags and open review pairs, within your
    regions and, with `region`, within that region (a code of any level, dotted or not)."""
    code = selectors.quality_region(request.user, region)
    data = selectors.data_quality(request.user, region_prefix=code)
    last = data["last_link"]
    return {
        "region": code,
        "coverage": data["coverage"],
        "conflicts": [{"field": c["field"], "changes": c["n"]} for c in data["conflicts"]],
        "quarantined": [
            {"source": q["run__source__key"], "code": q["code"], "rows": q["n"]}
            for q in data["quarantined"]
        ],
        "flags": [
            {"kind": f["kind"], "persons": f["n"], "households": f["households"]}
            for f in data["flags"]
        ],
        "review_open": data["review_open"],
        "last_link": _link_run_out(last) if last else None,
    }


@router.get(
    "/link-runs",
    response={200: LinkRunPageOut, **READ_ERRORS},
    summary="Daftar penautan / link runs, newest first",
)
def link_runs(request: HttpRequest, page: Query[PageIn]) -> dict[str, Any]:
    runs = selectors.link_runs_recent()
    return {
        "count": runs.count(),
        "limit": page.limit,
        "offset": page.offset,
        "items": [_link_run_out(r) for r in runs[page.offset : page.offset + page.limit]],
    }


@router.get(
    "/link-runs/{public_id}",
    response={200: LinkRunOut, **READ_ERRORS},
    summary="Satu penautan / one link run",
)
def link_run_detail(request: HttpRequest, public_id: str) -> dict[str, Any]:
    return _link_run_out(services.link_run_get(public_id=public_id))


@router.post(
    "/link-runs",
    response={202: LinkRunOut, 409: ErrorOut, **WRITE_ERRORS},
    summary="Mulai penautan / start a link run (admins)",
)
def link_run_start(request: HttpRequest, body: LinkRunIn) -> Status[dict[str, Any]]:
    """Link the staged records with the registry (Splink), then apply golden records and flags.
    `incremental` scores only records not linked yet, with the saved model; `full` relinks
    everything. It runs in the background: poll `GET /link-runs/{public_id}`. One at a time."""
    run = services.link_run_start(
        acting_user=staff_user(request), incremental=body.mode == "incremental"
    )
    return Status(202, _link_run_out(run))
