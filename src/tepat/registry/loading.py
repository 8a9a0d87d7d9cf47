"""Bulk load of a registry extract (households.csv + persons.csv), e.g. the output of `tepat synth`.

One transaction for the whole load: a file with any error is refused whole, with every problem
listed by file, row, field and reason, and nothing is written. Warnings (an outdated NIK prefix,
a birth date that disagrees with the NIK) are kept and reported. Rows are validated by the same
cleaning functions as single edits, then written in batches through registry.bulk (bulk inserts,
each row with its change record).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, Problems, ValidationFailed
from tepat.registry import bulk
from tepat.registry import choices as c
from tepat.registry.cleaning import clean_household, clean_person
from tepat.registry.models import Household, Person

if TYPE_CHECKING:
    from tepat.accounts.models import User


BATCH = 2000
MAX_LISTED_PROBLEMS = 200
FINANCIAL_COLUMNS = ("bank_provider", "bank_account", "ewallet_provider", "ewallet_account")


@dataclass
class LoadReport:
    households: int = 0
    persons: int = 0
    financial_addresses: int = 0
    warnings: list[FieldProblem] = field(default_factory=list)
    warning_count: int = 0
    seconds: float = 0.0


def _read_csv(path: Path) -> pa.Table:
    if not path.exists():
        raise ValidationFailed(
            [FieldProblem(path.name, "missing_file", f"Berkas {path} tidak ada / file not found")]
        )
    # Every column as text: a NIK must never pass through a float.
    with path.open(encoding="utf-8-sig", newline="") as fh:
        head = next(csv.reader(fh), [])
    types = {name: pa.string() for name in head}
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding="utf-8"),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
    )


def _rows(table: pa.Table, batch: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    for rb in table.to_batches(max_chunksize=batch):
        yield rb.to_pylist()


def registry_load_directory(
    *,
    acting_user: User | None,
    directory: Path,
    source: str,
    progress: bool = False,
    today: dt.date | None = None,
) -> LoadReport:
    """Load DIR/households.csv and DIR/persons.csv into the registry, all or nothing."""
    from tepat.regions.models import Level, Region

    started = timezone.now()
    today = today or timezone.localdate()
    households_t = _read_csv(directory / "households.csv")
    persons_t = _read_csv(directory / "persons.csv")

    districts = set(Region.objects.filter(level=Level.DISTRICT).values_list("code", flat=True))
    villages = set(Region.objects.filter(level=Level.VILLAGE).values_list("code", flat=True))
    region_exists: Callable[[str], bool] = districts.__contains__
    village_exists: Callable[[str], bool] = villages.__contains__
    existing_kk = set(Household.objects.values_list("kk_index", flat=True))
    existing_nik = set(Person.objects.values_list("nik_index", flat=True))

    report = LoadReport()
    errors: list[FieldProblem] = []
    error_count = 0

    def note(problems: Problems, filename: str) -> None:
        nonlocal error_count
        for prob in problems.items:
            prob.field = f"{filename}:{prob.field}"
            if prob.severity == "error":
                error_count += 1
                if len(errors) < MAX_LISTED_PROBLEMS:
                    errors.append(prob)
            else:
                report.warning_count += 1
                if len(report.warnings) < MAX_LISTED_PROBLEMS:
                    report.warnings.append(prob)

    now = timezone.now()
    bar = tqdm(
        total=households_t.num_rows + persons_t.num_rows,
        disable=not progress,
        unit="rows",
        desc="registry load",
    )
    with transaction.atomic():
        kk_to_household: dict[str, Household] = {}
        kk_first_row: dict[str, int] = {}
        row_no = 1  # header is line 1; data rows start at 2 like a spreadsheet
        for chunk in _rows(households_t):
            batch: list[tuple[Household, str]] = []
            for raw in chunk:
                row_no += 1
                p = Problems()
                data = clean_household(
                    raw,
                    p,
                    row=row_no,
                    region_exists=region_exists,
                    village_exists=village_exists,
                    today=today,
                )
                kk = data.get("kk", "")
                if kk:
                    if kk in kk_first_row:
                        p.error(
                            "kk",
                            "duplicate",
                            f"No. KK sama dengan baris {kk_first_row[kk]} / duplicate family card number",
                            row_no,
                        )
                    elif crypto.blind_index(kk, purpose="kk") in existing_kk:
                        p.error(
                            "kk", "duplicate", "No. KK sudah terdaftar / already registered", row_no
                        )
                    else:
                        kk_first_row[kk] = row_no
                note(p, "households.csv")
                if p.errors:
                    continue
                h = bulk.new_household(data)
                batch.append((h, kk))
                kk_to_household[kk] = h
            if error_count == 0:
                bulk.households_create(
                    acting_user=acting_user, source=source, at=now, households=batch
                )
            report.households += len(batch)
            bar.update(len(chunk))

        nik_first_row: dict[str, int] = {}
        heads: dict[str, int] = {}
        row_no = 1
        for chunk in _rows(persons_t):
            people: list[tuple[Person, str, str]] = []
            money: list[tuple[Person, str, str, str]] = []
            for raw in chunk:
                row_no += 1
                p = Problems()
                fin = {k: (raw.pop(k, "") or "").strip() for k in FINANCIAL_COLUMNS}
                kk = (raw.pop("kk", "") or "").strip()
                data = clean_person(raw, p, row=row_no, region_exists=region_exists, today=today)
                household = kk_to_household.get(kk)
                if household is None:
                    p.error(
                        "kk",
                        "unknown_household",
                        f"No. KK {kk[:6]}... tidak ada di households.csv / household not in the file",
                        row_no,
                    )
                nik = data.get("nik", "")
                if nik:
                    if nik in nik_first_row:
                        p.error(
                            "nik",
                            "duplicate",
                            f"NIK sama dengan baris {nik_first_row[nik]} / duplicate NIK",
                            row_no,
                        )
                    elif crypto.blind_index(nik, purpose="nik") in existing_nik:
                        p.error(
                            "nik", "duplicate", "NIK sudah terdaftar / already registered", row_no
                        )
                    else:
                        nik_first_row[nik] = row_no
                if data.get("relationship") == c.Relationship.HEAD and kk:
                    if kk in heads:
                        p.error(
                            "relationship",
                            "one_head",
                            f"Kepala keluarga kedua (pertama di baris {heads[kk]}) / a second head",
                            row_no,
                        )
                    heads[kk] = row_no
                for kind, prov_col, acc_col in (
                    (c.FinancialKind.BANK, "bank_provider", "bank_account"),
                    (c.FinancialKind.EWALLET, "ewallet_provider", "ewallet_account"),
                ):
                    provider, account = fin[prov_col].upper(), fin[acc_col]
                    if provider or account:
                        allowed = c.BANKS if kind == c.FinancialKind.BANK else c.EWALLETS
                        if provider not in allowed:
                            p.error(
                                prov_col,
                                "unknown_code",
                                f"Penyedia {provider!r} tidak dikenal",
                                row_no,
                            )
                        if not account.isdigit() or not 6 <= len(account) <= 20:
                            p.error(
                                acc_col, "bad_account", "Nomor rekening harus 6-20 digit", row_no
                            )
                note(p, "persons.csv")
                if p.errors or household is None:
                    continue
                person = bulk.new_person(data, household=household)
                people.append((person, nik, data.get("phone", "")))
                for kind, prov_col, acc_col in (
                    (c.FinancialKind.BANK, "bank_provider", "bank_account"),
                    (c.FinancialKind.EWALLET, "ewallet_provider", "ewallet_account"),
                ):
                    if fin[acc_col]:
                        money.append((person, kind, fin[prov_col].upper(), fin[acc_col]))
            if error_count == 0:
                fas = bulk.persons_create(
                    acting_user=acting_user, source=source, at=now, persons=people, accounts=money
                )
                report.financial_addresses += len(fas)
            report.persons += len(people)
            bar.update(len(chunk))
        bar.close()

        headless = [kk for kk in kk_to_household if kk not in heads]
        for kk in headless[:MAX_LISTED_PROBLEMS]:
            error_count += 1
            errors.append(
                FieldProblem(
                    "persons.csv:relationship",
                    "one_head",
                    f"Keluarga No. KK {kk[:6]}... (households.csv baris {kk_first_row[kk]}) "
                    "tanpa kepala keluarga / household without a head",
                )
            )
        if error_count:
            if error_count > len(errors):
                errors.append(
                    FieldProblem(
                        "*",
                        "more_errors",
                        f"... dan {error_count - len(errors)} masalah lain / and more problems",
                    )
                )
            # Raising inside the atomic block rolls back every batch already written.
            raise ValidationFailed(errors)
        audit_record(
            actor=acting_user,
            action="registry.load",
            target_type="registry",
            target_id=str(directory.name),
            detail={
                "source": source,
                "households": report.households,
                "persons": report.persons,
                "warnings": report.warning_count,
            },
        )
    report.seconds = (timezone.now() - started).total_seconds()
    return report
