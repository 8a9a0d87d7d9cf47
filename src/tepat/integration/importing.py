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
from typing import TYPE_CHECKING, Any, cast

from django.db import models, transaction
from django.utils import timezone

from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.bulk import bulk_insert, insert_rows
from tepat.core.errors import FieldProblem, NotFound, Problems
from tepat.core.gcpause import gc_paused
from tepat.core.reading import RawRow
from tepat.integration import conf
from tepat.integration.models import ImportRun, ImportUpload, QuarantinedRow, Source, StagedRecord
from tepat.integration.reading import read_rows
from tepat.registry.cleaning import clean_household
from tepat.registry.validators import (
    PROVINCE_CODES,
    kk_issue_date,
    nik_birth_date,
    validate_kk,
    validate_nik,
)

if TYPE_CHECKING:
    from tepat.accounts.models import User


NIK_CONTEXT = "integration.record.nik"
KK_CONTEXT = "integration.record.kk"
RAW_CONTEXT = "integration.quarantine.raw"
BATCH = 2000
PROGRESS_EVERY = 2000
# The oldest stated age accepted (years); an older one is a typo.
MAX_AGE = 120
_LONG_NUMBER = re.compile(r"\d{6,}")
_DIGIT = re.compile(r"\d")

Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    run: ImportRun
    duplicate: bool = False
    warnings: list[FieldProblem] = field(default_factory=list)


@dataclass(slots=True)
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
    return RowChecker(config, village_exists=village_exists, today=today)(row)


# Date texts remembered per file (a birth date recurs: a century holds 37k days).
_DATE_CACHE_MAX = 200_000
_EXTRA_CACHE_MAX = 1_000


# The canonical fields check_row reads, in the order RowChecker unpacks them.
_FIELDS = (
    "nik",
    "kk",
    "full_name",
    "sex",
    "birth_date",
    "deceased_on",
    "village_code",
    "birth_place",
    "address",
    "rt",
    "rw",
    "age",
)
_BLANKS = ("",) * len(_FIELDS)
# The key looked up for a field the source does not map: equal to no column name.
_UNMAPPED = object()


def _well_formed(number: str, valid_dates: dict[str, bool]) -> bool:
    """A NIK or KK of 16 ASCII digits with a known province whose date part was found valid
    before (the short path of RowChecker; anything else goes through the validators)."""
    return (
        len(number) == 16
        and number.isdigit()
        and number.isascii()
        and number[:2] in PROVINCE_CODES
        and bool(valid_dates.get(number[6:12]))
    )


class RowChecker:
    """`check_row` for every row of one file. What depends only on the source configuration is
    worked out once, not per row, and the common case takes a short path: a NIK or KK of 16 ASCII
    digits whose date part was seen valid before, a date text parsed before. Anything else goes
    through the general code (the validators themselves), so every problem keeps its field, code,
    message and order."""

    def __init__(
        self, config: dict[str, Any], *, village_exists: Callable[[str], bool], today: dt.date
    ) -> None:
        self.columns: dict[str, str] = config["columns"]
        self.village_exists = village_exists
        self.today = today
        # The validators' own default for "today" (the system date, not the import's local
        # date), taken once for the file: the short path must decide exactly as they do.
        self.id_today = dt.date.today()
        self.formats: list[str] = config.get("date_formats", [])
        self.sex_map: dict[str, str] = config.get("values", {}).get("sex", {})
        # The delivered column of each canonical field (an unmapped one reads as "").
        self.keys: list[object] = [self.columns.get(name) or _UNMAPPED for name in _FIELDS]
        self.required: list[tuple[str, int | None]] = [
            (name, _FIELDS.index(name) if name in _FIELDS else None)
            for name in config.get("required", [])
        ]
        self.household_columns: dict[str, str] = config.get("household_columns", {})
        self.mapped = (
            set(self.columns.values())
            | set(self.household_columns.values())
            | {config.get("record_id", "")}
        )
        # Columns left in attrs, by the delivered columns of a row (all rows of a CSV file).
        self.extra: dict[tuple[str, ...], list[str]] = {}
        self.nik_dates: dict[str, bool] = {}
        self.kk_dates: dict[str, bool] = {}
        self.dates: dict[str, dt.date] = {}

    def __call__(
        self, row: RawRow
    ) -> tuple[dict[str, Any], list[FieldProblem], list[FieldProblem]]:
        columns = self.columns
        n = row.number
        errors = [p for p in row.problems if p.severity == "error"] if row.problems else []
        warnings: list[FieldProblem] = []
        values = row.values
        get = cast("Callable[[object, str], str]", values.get)
        # Every mapped value once, stripped (in C: a third of the time of a dict comprehension).
        texts = list(map(str.strip, map(get, self.keys, _BLANKS)))
        nik, kk, name, sex_raw, born, died, village, place, address, rt, rw, age = texts

        for req, at in self.required:
            if not (texts[at] if at is not None else self._text(req, get)):
                errors.append(
                    FieldProblem(
                        columns[req], "required", f"{columns[req]} wajib diisi / is required", n
                    )
                )
        # The common NIK and KK inline: 16 ASCII digits, a known province, a serial, a date
        # part _number has found valid; anything else is for _number.
        plain = not row.numeric_cells
        if nik and not (plain and nik[12:] != "0000" and _well_formed(nik, self.nik_dates)):
            nik = self._number("nik", nik, row, errors, warnings)
        if kk and not (plain and _well_formed(kk, self.kk_dates)):
            kk = self._number("kk", kk, row, errors, warnings)
        out: dict[str, Any] = {"nik": nik, "kk": kk}
        name_text = " ".join(name.split())
        if _DIGIT.search(name_text):
            errors.append(
                FieldProblem(
                    columns["full_name"], "digits_in_name", "Nama berisi angka / digits in name", n
                )
            )
        out["full_name"] = name_text[:150]
        sex = ""
        if sex_raw:
            upper = sex_raw.upper()
            sex = self.sex_map.get(upper, upper)
            if sex and sex not in ("M", "F"):
                errors.append(
                    FieldProblem(
                        columns["sex"],
                        "unknown_code",
                        f"Jenis kelamin {sex_raw!r} tidak dikenal",
                        n,
                    )
                )
                sex = ""
        out["sex"] = sex
        dates = self.dates
        out["birth_date"] = (
            (dates.get(born) or self._date("birth_date", born, n, errors)) if born else None
        )
        out["deceased_on"] = (
            (dates.get(died) or self._date("deceased_on", died, n, errors)) if died else None
        )
        village = village.replace(".", "")
        if village and (
            len(village) != 10 or not village.isdigit() or not self.village_exists(village)
        ):
            errors.append(
                FieldProblem(
                    columns["village_code"],
                    "unknown_region",
                    f"Kode desa/kelurahan {village!r} tidak dikenal / unknown village code",
                    n,
                )
            )
        out["village_code"] = village
        out["birth_place"] = place[:100]
        out["address"] = address[:255]
        out["rt"] = rt[-3:].zfill(3) if rt else ""
        out["rw"] = rw[-3:].zfill(3) if rw else ""
        out["age"] = None
        if age:
            if age.isdigit() and age.isascii() and int(age) <= MAX_AGE:
                out["age"] = int(age)
            else:
                errors.append(
                    FieldProblem(
                        columns["age"],
                        "invalid_age",
                        f"Umur {age!r} bukan bilangan bulat 0-{MAX_AGE} / "
                        f"age must be a whole number of years, 0-{MAX_AGE}",
                        n,
                    )
                )
        delivered = tuple(values)
        extra = self.extra.get(delivered)
        if extra is None:
            extra = [k for k in delivered if k not in self.mapped]
            if len(self.extra) < _EXTRA_CACHE_MAX:  # JSON lines may vary their keys row by row
                self.extra[delivered] = extra
        out["attrs"] = {k: v for k in extra if (v := values[k]) != ""}
        if self.household_columns:
            self._household(row, out, errors, warnings)
        return out, errors, warnings

    def _text(self, name: str, get: Callable[[object, str], str]) -> str:
        """The stripped value of a field outside _FIELDS (a source may require one)."""
        col = self.columns.get(name)
        return get(col, "").strip() if col else ""

    def _number(
        self,
        name: str,
        text: str,
        row: RawRow,
        errors: list[FieldProblem],
        warnings: list[FieldProblem],
    ) -> str:
        """A NIK or KK (non-empty text): the short path for a well-formed number from a known
        province, else the validator with its problems as before."""
        col = self.columns[name]
        if col in row.numeric_cells:
            errors.append(
                FieldProblem(
                    col,
                    "spreadsheet_number",
                    f"{col} tersimpan sebagai angka di spreadsheet (digit hilang); format kolom "
                    "sebagai teks / stored as a number by a spreadsheet, digits lost",
                    row.number,
                )
            )
            return ""
        is_nik = name == "nik"
        if (
            len(text) == 16
            and text.isdigit()
            and text.isascii()
            and text[:2] in PROVINCE_CODES
            and (not is_nik or text[12:] != "0000")
        ):
            # What is left to check is the date in digits 7-12; its answer is remembered.
            part = text[6:12]
            seen = self.nik_dates if is_nik else self.kk_dates
            valid = seen.get(part)
            if valid is None:
                date = (nik_birth_date if is_nik else kk_issue_date)(text, today=self.id_today)
                valid = seen[part] = date is not None
            if valid:
                return text
        validator = validate_nik if is_nik else validate_kk
        value, problems = validator(text, field=col, row=row.number, today=self.id_today)
        for prob in problems:
            prob.message = _safe(prob.message)
            (errors if prob.severity == "error" else warnings).append(prob)
        return value

    def _date(self, name: str, text: str, n: int, errors: list[FieldProblem]) -> dt.date | None:
        """_parse_date of a non-empty text; a valid date's text is remembered."""
        value = self.dates.get(text)
        if value is not None:
            return value
        found: list[FieldProblem] = []
        value = _parse_date(text, self.formats, self.columns.get(name, name), n, self.today, found)
        if found:
            errors.extend(found)
        elif value is not None and len(self.dates) < _DATE_CACHE_MAX:
            self.dates[text] = value
        return value

    def _household(
        self,
        row: RawRow,
        out: dict[str, Any],
        errors: list[FieldProblem],
        warnings: list[FieldProblem],
    ) -> None:
        household_columns = self.household_columns
        present = {
            name: row.values.get(col, "").strip()
            for name, col in household_columns.items()
            if row.values.get(col, "").strip() != ""
        }
        checked = Problems()
        cleaned = clean_household(
            present,
            checked,
            row=row.number,
            region_exists=_always,
            village_exists=_always,
            today=self.today,
            partial=True,
        )
        for prob in checked.items:
            prob.field = household_columns.get(prob.field, prob.field)
            (errors if prob.severity == "error" else warnings).append(prob)
        if cleaned:
            out["attrs"]["household"] = cleaned


def _always(_code: str) -> bool:
    return True


def _village_lookup() -> Callable[[str], bool]:
    from tepat.regions.models import Level, Region

    villages = set(Region.objects.filter(level=Level.VILLAGE).values_list("code", flat=True))
    return villages.__contains__


def import_run_create(
    *,
    acting_user: User | None,
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
        # A file still waiting for a worker that never came goes with its run.
        ImportUpload.objects.filter(run_id__in=ids).delete()
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
    acting_user: User | None,
    run: ImportRun,
    data: bytes,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Validate and apply one delivery (see the module docstring)."""
    with gc_paused():
        return _process(acting_user=acting_user, run=run, data=data, progress=progress, today=today)


def _process(
    *,
    acting_user: User | None,
    run: ImportRun,
    data: bytes,
    progress: Progress | None,
    today: dt.date | None,
) -> ImportResult:
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
        check = RowChecker(config, village_exists=village_exists, today=today)
        for row in rows:
            # A re-submission keeps the row numbers of the original file.
            original = row.values.pop("_row", "")
            if original.isdigit():
                row.number = int(original)
        ImportRun.objects.filter(pk=run.pk).update(total_rows=len(rows))
        for i, row in enumerate(rows, start=1):
            out, errors, warns = check(row)
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
            if warns:
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
    "age",
    "attrs",
    "cluster_id",
    "person_id",
)


def _staged_rows(run: ImportRun, accepted: list[_Checked]) -> list[tuple[Any, ...]]:
    """StagedRecord rows in STAGED_COLUMNS order (plain tuples: see core.bulk.insert_rows), with
    the keys of the NIK and KK ciphertexts and blind indexes resolved once for all of them."""
    enc_nik = crypto.encryptor(context=NIK_CONTEXT)
    enc_kk = crypto.encryptor(context=KK_CONTEXT)
    index_nik = crypto.blind_indexer(purpose="nik")
    index_kk = crypto.blind_indexer(purpose="kk")
    source_id, run_id = run.source_id, run.pk
    out = []
    for c in accepted:
        d = c.data
        nik, kk = d["nik"], d["kk"]
        out.append(
            (
                source_id,
                run_id,
                c.record_id[:64],
                c.row.number,
                True,
                enc_nik(nik) if nik else "",
                index_nik(nik) if nik else "",
                enc_kk(kk) if kk else "",
                index_kk(kk) if kk else "",
                d["full_name"],
                d["sex"],
                d["birth_date"],
                d["birth_place"],
                d["village_code"],
                d["address"],
                d["rt"],
                d["rw"],
                d["deceased_on"],
                d["age"],
                d["attrs"],
                "",
                None,
            )
        )
    return out


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
        # A new delivery supersedes the same records of earlier ones (kept for history). The
        # first delivery of a source has none: one query instead of one per 900 rows.
        if StagedRecord.objects.filter(source_id=run.source_id, current=True).exists():
            for i in range(0, len(ids), 900):
                StagedRecord.objects.filter(
                    source_id=run.source_id, current=True, record_id__in=ids[i : i + 900]
                ).update(current=False)
        # COPY (PostgreSQL) / executemany (SQLite) of validated rows: the ORM's bulk_create
        # compiled every value and took two thirds of an import's time.
        for i in range(0, len(accepted), BATCH):
            insert_rows(StagedRecord, STAGED_COLUMNS, _staged_rows(run, accepted[i : i + BATCH]))
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
    acting_user: User | None,
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
