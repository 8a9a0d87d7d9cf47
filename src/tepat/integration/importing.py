"""Import runs: validate every row of a delivered file, keep rejected rows in quarantine, and apply
the accepted rows all or nothing.

Validation runs outside any transaction (progress is committed as it goes, so a page can poll it);
the apply phase is one transaction: a crash there leaves no half-import, only a failed run.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.bulk import bulk_insert, insert_rows
from tepat.core.errors import FieldProblem, NotFound, Problems
from tepat.integration import conf
from tepat.integration.models import ImportRun, QuarantinedRow, Source, StagedRecord
from tepat.integration.reading import RawRow, read_rows
from tepat.registry.cleaning import clean_household
from tepat.registry.validators import validate_kk, validate_nik

NIK_CONTEXT = "integration.record.nik"
KK_CONTEXT = "integration.record.kk"
RAW_CONTEXT = "integration.quarantine.raw"
BATCH = 2000
PROGRESS_EVERY = 2000
_LONG_NUMBER = re.compile(r"\d{6,}")
_DIGIT = re.compile(r"\d")

Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    run: ImportRun
    duplicate: bool = False
    warnings: list[FieldProblem] = field(default_factory=list)


@dataclass
class _Checked:
    row: RawRow
    record_id: str
    data: dict[str, Any]
    errors: list[FieldProblem]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe(message: str) -> str:
    """Problem messages may quote the bad value; never keep a long digit run (a NIK) in clear."""
    return _LONG_NUMBER.sub(lambda m: m.group(0)[:4] + "*" * (len(m.group(0)) - 4), message)


_DATE_PARTS = {"%d": r"(?P<d>\d{1,2})", "%m": r"(?P<m>\d{1,2})", "%Y": r"(?P<y>\d{4})"}


@functools.lru_cache(maxsize=64)
def _date_pattern(fmt: str) -> re.Pattern[str] | None:
    """A regular expression for the all-numeric formats agencies use (%d-%m-%Y, %d/%m/%Y,
    %Y%m%d ...): strptime costs ~20 us a call, a million rows make that 20 s. Other formats
    (month names ...) return None and go through strptime."""
    parts = re.split(r"(%[dmY])", fmt)
    if any(p.startswith("%") and p not in _DATE_PARTS for p in re.findall(r"%.", fmt)):
        return None
    if sorted(p for p in parts if p in _DATE_PARTS) != ["%Y", "%d", "%m"]:
        return None
    return re.compile("".join(_DATE_PARTS.get(p, re.escape(p)) for p in parts))


def _strptime(text: str, fmt: str) -> dt.date:
    pattern = _date_pattern(fmt)
    if pattern is None:
        return dt.datetime.strptime(text, fmt).date()
    m = pattern.fullmatch(text)
    if m is None:
        raise ValueError(text)
    return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))


def _parse_date(
    text: str, formats: list[str], name: str, row: int, today: dt.date, errors: list[FieldProblem]
) -> dt.date | None:
    if not text:
        return None
    value: dt.date | None = None
    try:
        value = dt.date.fromisoformat(text[:10])
    except ValueError:
        for fmt in formats:
            try:
                value = _strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None or value.year < 1890:
        errors.append(
            FieldProblem(
                name,
                "impossible_date",
                f"Tanggal {text!r} tidak valid / invalid or impossible date",
                row,
            )
        )
        return None
    if value > today:
        errors.append(
            FieldProblem(name, "future_date", f"Tanggal {value} di masa depan / future date", row)
        )
        return None
    return value


def check_row(
    row: RawRow,
    config: dict[str, Any],
    *,
    village_exists: Callable[[str], bool],
    today: dt.date,
) -> tuple[dict[str, Any], list[FieldProblem], list[FieldProblem]]:
    """Canonical values of one row, its errors and its warnings."""
    columns: dict[str, str] = config["columns"]
    values_map: dict[str, dict[str, str]] = config.get("values", {})
    formats: list[str] = config.get("date_formats", [])
    n = row.number
    errors = [p for p in row.problems if p.severity == "error"]
    warnings: list[FieldProblem] = []

    delivered = row.values
    # Every mapped value once, stripped (raw() is called ~15 times a row).
    stripped = {name: delivered.get(col, "").strip() for name, col in columns.items() if col}

    def raw(name: str) -> str:
        return stripped.get(name, "")

    out: dict[str, Any] = {}
    for name in config.get("required", []):
        if not raw(name):
            errors.append(
                FieldProblem(
                    columns[name], "required", f"{columns[name]} wajib diisi / is required", n
                )
            )
    for name, validator in (("nik", validate_nik), ("kk", validate_kk)):
        text = raw(name)
        out[name] = ""
        if not text:
            continue
        col = columns[name]
        if col in row.numeric_cells:
            errors.append(
                FieldProblem(
                    col,
                    "spreadsheet_number",
                    f"{col} tersimpan sebagai angka di spreadsheet (digit hilang); format kolom "
                    "sebagai teks / stored as a number by a spreadsheet, digits lost",
                    n,
                )
            )
            continue
        value, problems = validator(text, field=col, row=n)
        for prob in problems:
            prob.message = _safe(prob.message)
            (errors if prob.severity == "error" else warnings).append(prob)
        out[name] = value
    name_text = " ".join(raw("full_name").split())
    if _DIGIT.search(name_text):
        errors.append(
            FieldProblem(
                columns["full_name"], "digits_in_name", "Nama berisi angka / digits in name", n
            )
        )
    out["full_name"] = name_text[:150]
    sex_raw = raw("sex")
    sex = values_map.get("sex", {}).get(sex_raw.upper(), sex_raw.upper()) if sex_raw else ""
    if sex and sex not in ("M", "F"):
        errors.append(
            FieldProblem(
                columns["sex"], "unknown_code", f"Jenis kelamin {sex_raw!r} tidak dikenal", n
            )
        )
        sex = ""
    out["sex"] = sex
    for name in ("birth_date", "deceased_on"):
        col = columns.get(name, name)
        out[name] = _parse_date(raw(name), formats, col, n, today, errors)
    village = raw("village_code").replace(".", "")
    if village and (len(village) != 10 or not village.isdigit() or not village_exists(village)):
        errors.append(
            FieldProblem(
                columns["village_code"],
                "unknown_region",
                f"Kode desa/kelurahan {village!r} tidak dikenal / unknown village code",
                n,
            )
        )
    out["village_code"] = village
    out["birth_place"] = raw("birth_place")[:100]
    out["address"] = raw("address")[:255]
    out["rt"] = raw("rt")[-3:].zfill(3) if raw("rt") else ""
    out["rw"] = raw("rw")[-3:].zfill(3) if raw("rw") else ""
    household_columns: dict[str, str] = config.get("household_columns", {})
    mapped = set(columns.values()) | set(household_columns.values()) | {config.get("record_id", "")}
    out["attrs"] = {k: v for k, v in row.values.items() if k not in mapped and v != ""}
    if household_columns:
        present = {
            name: row.values.get(col, "").strip()
            for name, col in household_columns.items()
            if row.values.get(col, "").strip() != ""
        }
        checked = Problems()
        cleaned = clean_household(
            present,
            checked,
            row=n,
            region_exists=_always,
            village_exists=_always,
            today=today,
            partial=True,
        )
        for prob in checked.items:
            prob.field = household_columns.get(prob.field, prob.field)
            (errors if prob.severity == "error" else warnings).append(prob)
        if cleaned:
            out["attrs"]["household"] = cleaned
    return out, errors, warnings


def _always(_code: str) -> bool:
    return True


def _village_lookup() -> Callable[[str], bool]:
    from tepat.regions.models import Level, Region

    villages = set(Region.objects.filter(level=Level.VILLAGE).values_list("code", flat=True))
    return villages.__contains__


def import_run_create(
    *,
    acting_user: Any,
    source_key: str,
    file_name: str,
    data: bytes,
    delivered_on: dt.date | None = None,
    resubmission_of: ImportRun | None = None,
) -> ImportResult:
    """Register a delivery. Returns the earlier run (duplicate=True) if this file was imported."""
    source = Source.objects.filter(key=source_key, active=True).first()
    if source is None:
        raise NotFound(f"Sumber {source_key!r} tidak dikenal / unknown source")
    import_runs_reap_stale()
    digest = content_hash(data)
    done = ImportRun.objects.filter(
        source=source, content_hash=digest, status=ImportRun.Status.DONE
    ).first()
    if done is not None:
        return ImportResult(done, duplicate=True)
    run = ImportRun.objects.create(
        source=source,
        file_name=file_name[:255],
        content_hash=digest,
        delivered_on=delivered_on or timezone.localdate(),
        resubmission_of=resubmission_of,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    return ImportResult(run)


INTERRUPTED = (
    "Impor terputus: proses berhenti sebelum selesai, tidak ada baris yang diterapkan; unggah "
    "ulang berkasnya / interrupted: the process stopped before finishing, no row was applied; "
    "upload the file again"
)


def import_runs_reap_stale(*, now: dt.datetime | None = None) -> int:
    """Mark imports whose process died (killed, server restarted) as failed. Accepted rows are
    applied in one transaction at the end, so such a run applied nothing; saying so lets the
    file be uploaded again and stops the progress page from waiting for ever."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=conf.stale_import_seconds())
    stale = ImportRun.objects.filter(
        status__in=[ImportRun.Status.PENDING, ImportRun.Status.RUNNING]
    ).filter(
        models.Q(heartbeat_at__lt=cutoff)
        | models.Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    ids = list(stale.values_list("pk", flat=True))
    if ids:
        ImportRun.objects.filter(pk__in=ids).update(
            status=ImportRun.Status.FAILED, error=INTERRUPTED, finished_at=now
        )
        for public_id in ImportRun.objects.filter(pk__in=ids).values_list("public_id", flat=True):
            audit_record(
                actor=None,
                action="integration.import_interrupted",
                target_type="import_run",
                target_id=public_id,
                detail={},
            )
    return len(ids)


def import_run_process(
    *,
    acting_user: Any,
    run: ImportRun,
    data: bytes,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Validate and apply one delivery (see the module docstring)."""
    today = today or timezone.localdate()
    config = run.source.config
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.RUNNING, heartbeat_at=timezone.now()
    )
    village_exists = _village_lookup()
    accepted: list[_Checked] = []
    rejected: list[_Checked] = []
    warnings: list[FieldProblem] = []
    warning_count = 0
    seen_ids: dict[str, int] = {}
    id_col = config.get("record_id") or ""
    try:
        rows = list(read_rows(data, config, run.file_name))
        for row in rows:
            # A re-submission keeps the row numbers of the original file.
            original = row.values.pop("_row", "")
            if original.isdigit():
                row.number = int(original)
        ImportRun.objects.filter(pk=run.pk).update(total_rows=len(rows))
        for i, row in enumerate(rows, start=1):
            out, errors, warns = check_row(row, config, village_exists=village_exists, today=today)
            record_id = (row.values.get(id_col, "") if id_col else "") or str(row.number)
            if record_id in seen_ids:
                errors.append(
                    FieldProblem(
                        id_col or "*",
                        "duplicate_record",
                        f"ID rekaman sama dengan baris {seen_ids[record_id]} / duplicate record id",
                        row.number,
                    )
                )
            else:
                seen_ids[record_id] = row.number
            warning_count += len(warns)
            if len(warnings) < 200:
                warnings.extend(warns[: 200 - len(warnings)])
            (rejected if errors else accepted).append(_Checked(row, record_id, out, errors))
            if i % PROGRESS_EVERY == 0:
                ImportRun.objects.filter(pk=run.pk).update(
                    processed_rows=i, heartbeat_at=timezone.now()
                )
                if progress:
                    progress(i, len(rows))
        if progress:
            progress(len(rows), len(rows))
        _apply(run=run, accepted=accepted, rejected=rejected, warning_count=warning_count)
    except Exception as exc:
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    audit_record(
        actor=acting_user,
        action="integration.import",
        target_type="import_run",
        target_id=run.public_id,
        detail={
            "source": run.source.key,
            "file": run.file_name,
            "accepted": run.accepted_rows,
            "rejected": run.rejected_rows,
        },
    )
    return ImportResult(run, warnings=warnings)


STAGED_COLUMNS = (
    "source_id",
    "run_id",
    "record_id",
    "row_number",
    "current",
    "nik_enc",
    "nik_index",
    "kk_enc",
    "kk_index",
    "full_name",
    "sex",
    "birth_date",
    "birth_place",
    "village_code",
    "address",
    "rt",
    "rw",
    "deceased_on",
    "attrs",
    "cluster_id",
    "person_id",
)


def _staged(run: ImportRun, c: _Checked) -> tuple[Any, ...]:
    """One StagedRecord row in STAGED_COLUMNS order (a plain tuple: see core.bulk.insert_rows)."""
    d = c.data
    nik, kk = d["nik"], d["kk"]
    return (
        run.source_id,
        run.pk,
        c.record_id[:64],
        c.row.number,
        True,
        crypto.encrypt(nik, context=NIK_CONTEXT) if nik else "",
        crypto.blind_index(nik, purpose="nik") if nik else "",
        crypto.encrypt(kk, context=KK_CONTEXT) if kk else "",
        crypto.blind_index(kk, purpose="kk") if kk else "",
        d["full_name"],
        d["sex"],
        d["birth_date"],
        d["birth_place"],
        d["village_code"],
        d["address"],
        d["rt"],
        d["rw"],
        d["deceased_on"],
        d["attrs"],
        "",
        None,
    )


def _quarantined(run: ImportRun, c: _Checked) -> QuarantinedRow:
    first = c.errors[0]
    village = c.data.get("village_code", "")
    return QuarantinedRow(
        run=run,
        row_number=c.row.number,
        field=first.field[:64],
        code=first.code[:32],
        reason=_safe(first.message)[:500],
        problems=[{**p.as_dict(), "message": _safe(p.message)} for p in c.errors],
        raw_enc=crypto.encrypt(json.dumps(c.row.values, ensure_ascii=False), context=RAW_CONTEXT),
        village_code=village if len(village) == 10 and village.isdigit() else "",
    )


def _apply(
    *, run: ImportRun, accepted: list[_Checked], rejected: list[_Checked], warning_count: int
) -> None:
    with transaction.atomic():
        ids = [c.record_id for c in accepted]
        # A new delivery supersedes the same records of earlier ones (kept for history).
        for i in range(0, len(ids), 900):
            StagedRecord.objects.filter(
                source_id=run.source_id, current=True, record_id__in=ids[i : i + 900]
            ).update(current=False)
        # COPY (PostgreSQL) / executemany (SQLite) of validated rows: the ORM's bulk_create
        # compiled every value and took two thirds of an import's time.
        for i in range(0, len(accepted), BATCH):
            insert_rows(
                StagedRecord, STAGED_COLUMNS, [_staged(run, c) for c in accepted[i : i + BATCH]]
            )
        for i in range(0, len(rejected), BATCH):
            bulk_insert(QuarantinedRow, [_quarantined(run, c) for c in rejected[i : i + BATCH]])
        if run.resubmission_of_id:
            fixed = [c.row.number for c in accepted]
            QuarantinedRow.objects.filter(
                run_id=run.resubmission_of_id,
                status=QuarantinedRow.Status.OPEN,
                row_number__in=fixed,
            ).update(status=QuarantinedRow.Status.RESUBMITTED, resubmitted_in=run)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.DONE,
            processed_rows=len(accepted) + len(rejected),
            accepted_rows=len(accepted),
            rejected_rows=len(rejected),
            warning_count=warning_count,
            finished_at=timezone.now(),
        )


def import_file(
    *,
    acting_user: Any,
    source_key: str,
    file_name: str,
    data: bytes,
    delivered_on: dt.date | None = None,
    progress: Progress | None = None,
    resubmission_of: ImportRun | None = None,
) -> ImportResult:
    """Create and process a run in one call (the command line and the demo)."""
    created = import_run_create(
        acting_user=acting_user,
        source_key=source_key,
        file_name=file_name,
        data=data,
        delivered_on=delivered_on,
        resubmission_of=resubmission_of,
    )
    if created.duplicate:
        return created
    return import_run_process(
        acting_user=acting_user, run=created.run, data=data, progress=progress
    )


def quarantine_raw(row: QuarantinedRow) -> dict[str, str]:
    value: dict[str, str] = json.loads(crypto.decrypt(row.raw_enc, context=RAW_CONTEXT))
    return value
