"""Writes of the public side: refreshing the aggregate snapshot and exporting open data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils import timezone

from tepat.core import csvsafe
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, ValidationFailed
from tepat.core.masking import mask_name
from tepat.payments.models import Payment, PaymentState
from tepat.programs.models import Cycle, Entitlement, EntitlementState
from tepat.regions.selectors import region_names
from tepat.registry.models import Person
from tepat.transparency import conf
from tepat.transparency.models import AggregateCell, OpenDataRelease, RefreshRun
from tepat.transparency.suppression import ROOT, is_small, suppress_tree, tree_of

if TYPE_CHECKING:
    from tepat.accounts.models import User


# Only approved cycles are public: a draft list may still change and must not leak.
PUBLIC_CYCLE_STATES = ("approved", "distributed", "ended")
# Entitlements that do not count as recipients.
NOT_RECIPIENTS = (EntitlementState.REJECTED, EntitlementState.CANCELLED, EntitlementState.DRAFT)
LEVEL_OF_LENGTH = {0: "national", 2: "province", 4: "regency", 6: "district", 10: "village"}
BATCH = 5000


def _leaf_sums(rows: Iterable[dict[str, Any]]) -> dict[int, dict[str, tuple[int, int]]]:
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for r in rows:
        out.setdefault(r["cycle_id"], {})[r["village_code"]] = (r["n"], r["amount"] or 0)
    return out


def _cells_for_cycle(
    cycle: Cycle,
    entitled: dict[str, tuple[int, int]],
    paid: dict[str, tuple[int, int]],
    threshold: int,
) -> list[AggregateCell]:
    counts, children = tree_of({v: n for v, (n, _a) in entitled.items()})
    amounts, _ = tree_of({v: a for v, (_n, a) in entitled.items()})
    paid_leaves = {v: paid.get(v, (0, 0)) for v in entitled}
    paid_counts, _ = tree_of({v: n for v, (n, _a) in paid_leaves.items()})
    paid_amounts, _ = tree_of({v: a for v, (_n, a) in paid_leaves.items()})
    hidden = suppress_tree(counts, children, threshold=threshold, root=ROOT)
    # Where recipients are published, a paid count also publishes the unpaid remainder
    # (recipients - paid): a small remainder hides the paid count like a small paid count does.
    # Recipients and paid counts sit in separate trees of relations, so each tree's own rule
    # keeps its hidden values unrecoverable.
    unpaid_small = {
        code for code in counts if is_small(counts[code] - paid_counts.get(code, 0), threshold)
    }
    paid_hidden = suppress_tree(
        paid_counts, children, threshold=threshold, root=ROOT, forced=hidden | unpaid_small
    )
    programme_code = cycle.programme.code
    return [
        AggregateCell(
            cycle=cycle,
            programme_code=programme_code,
            cycle_code=cycle.code,
            region_code=code,
            level=LEVEL_OF_LENGTH[len(code)],
            recipients=counts[code],
            amount=amounts[code],
            paid=paid_counts.get(code, 0),
            amount_paid=paid_amounts.get(code, 0),
            recipients_hidden=code in hidden,
            paid_hidden=code in paid_hidden,
        )
        for code in sorted(counts)
    ]


def aggregates_refresh(
    *, acting_user: User | None = None, threshold: int | None = None
) -> RefreshRun:
    """Recompute every public cell (all cycles, all levels) with suppression flags, and replace
    the snapshot in one transaction: readers see the old snapshot or the new, never half."""
    threshold = threshold or conf.suppression_threshold()
    started = timezone.now()
    cycles = {
        c.pk: c
        for c in Cycle.objects.filter(state__in=PUBLIC_CYCLE_STATES).select_related("programme")
    }
    entitled = _leaf_sums(
        Entitlement.objects.filter(cycle_id__in=list(cycles))
        .exclude(state__in=NOT_RECIPIENTS)
        .order_by()
        .values("cycle_id", "village_code")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )
    paid = _leaf_sums(
        Payment.objects.filter(cycle_id__in=list(cycles), state=PaymentState.PAID)
        .order_by()
        .values("cycle_id", "village_code")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )
    cells: list[AggregateCell] = []
    for cycle_id, leaves in entitled.items():
        cells.extend(_cells_for_cycle(cycles[cycle_id], leaves, paid.get(cycle_id, {}), threshold))
    with transaction.atomic(durable=True):
        AggregateCell.objects.all().delete()
        AggregateCell.objects.bulk_create(cells, batch_size=BATCH)
        run = RefreshRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            cells=len(cells),
            hidden=sum(1 for c in cells if c.recipients_hidden),
            threshold=threshold,
        )
        audit_record(
            actor=acting_user,
            action="transparency.refresh",
            target_type="RefreshRun",
            target_id=str(run.pk),
            detail={"cells": run.cells, "hidden": run.hidden, "threshold": threshold},
        )
    return run


# --- open data -------------------------------------------------------------------------------

AGGREGATE_FIELDS: list[dict[str, Any]] = [
    {
        "name": "kode_wilayah",
        "type": "string",
        "description": "Kode Kemendagri tanpa titik; kosong = nasional",
    },
    {
        "name": "tingkat",
        "type": "string",
        "constraints": {"required": True, "enum": list(LEVEL_OF_LENGTH.values())},
    },
    {"name": "nama_wilayah", "type": "string"},
    {"name": "kode_program", "type": "string", "constraints": {"required": True}},
    {"name": "kode_tahap", "type": "string", "constraints": {"required": True}},
    {
        "name": "penerima",
        "type": "integer",
        "constraints": {"minimum": 0},
        "description": "Keluarga penerima; kosong = disembunyikan (sel kecil)",
    },
    {"name": "nilai_rupiah", "type": "integer", "constraints": {"minimum": 0}},
    {"name": "tersalur", "type": "integer", "constraints": {"minimum": 0}},
    {"name": "nilai_tersalur_rupiah", "type": "integer", "constraints": {"minimum": 0}},
]
RECIPIENT_FIELDS: list[dict[str, Any]] = [
    {
        "name": "kode_desa",
        "type": "string",
        "constraints": {"required": True, "pattern": "[0-9]{10}"},
    },
    {"name": "nama_desa", "type": "string"},
    {"name": "kode_program", "type": "string", "constraints": {"required": True}},
    {"name": "kode_tahap", "type": "string", "constraints": {"required": True}},
    {"name": "nama_disamarkan", "type": "string", "constraints": {"required": True}},
]


def _blank(value: int, hidden: bool) -> str:
    return "" if hidden else str(value)


def _aggregate_rows() -> Iterator[list[str]]:
    cells = AggregateCell.objects.order_by("programme_code", "cycle_code", "region_code")
    names: dict[str, str] = {}
    for chunk in _chunks(cells.iterator(chunk_size=BATCH), BATCH):
        names = region_names({c.region_code for c in chunk if c.region_code})
        for c in chunk:
            yield [
                c.region_code,
                c.level,
                names.get(c.region_code, "Indonesia" if not c.region_code else ""),
                c.programme_code,
                c.cycle_code,
                _blank(c.recipients, c.recipients_hidden),
                _blank(c.amount, c.recipients_hidden),
                _blank(c.paid, c.paid_hidden),
                _blank(c.amount_paid, c.paid_hidden),
            ]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _recipient_rows() -> Iterator[list[str]]:
    """Masked names per village: no NIK, no person id, no address, no amount (a PKH amount
    reveals a household's components, e.g. disability), nothing finer than the village.

    A list is a count too: villages whose count the last refresh hid (small, or the complement
    of a small one) are left out, so the list can never be used to recompute a hidden cell.
    """
    published = AggregateCell.objects.filter(level="village", recipients_hidden=False)
    listed = set(published.values_list("cycle_id", "region_code"))
    name = Person.objects.filter(public_id=OuterRef("beneficiary_ref")).values("full_name")[:1]
    rows = (
        Entitlement.objects.filter(cycle_id__in={cycle for cycle, _v in listed})
        .exclude(state__in=NOT_RECIPIENTS)
        .annotate(person_name=Subquery(name))
        .order_by("village_code", "cycle__programme__code", "cycle__code")
        .values_list(
            "cycle_id", "village_code", "cycle__programme__code", "cycle__code", "person_name"
        )
    )
    for chunk in _chunks(rows.iterator(chunk_size=BATCH), BATCH):
        names = region_names({r[1] for r in chunk})
        masked = sorted(
            (village, programme, cycle, mask_name(person or ""))
            for cycle_id, village, programme, cycle, person in chunk
            if (cycle_id, village) in listed
        )
        for village, programme, cycle, person_masked in masked:
            yield [village, names.get(village, ""), programme, cycle, person_masked]


def _write_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> tuple[int, int, str]:
    digest = hashlib.sha256()
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csvsafe.writer(fh, lineterminator="\n")  # numbers stay numbers
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    data = path.read_bytes()
    digest.update(data)
    return count, len(data), digest.hexdigest()


def _package(
    directory: Path,
    *,
    name: str,
    title: str,
    description: str,
    resource: str,
    fields: list[dict[str, Any]],
    rows: Iterable[list[str]],
    created: dt.datetime,
) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    csv_name = f"{resource}.csv"
    count, size, sha = _write_csv(directory / csv_name, [f["name"] for f in fields], rows)
    descriptor = {
        "profile": "tabular-data-package",
        "name": name,
        "title": title,
        "description": description,
        "created": created.isoformat(timespec="seconds"),
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
                "title": "Creative Commons Attribution 4.0",
            }
        ],
        "resources": [
            {
                "name": resource,
                "path": csv_name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": size,
                "hash": f"sha256:{sha}",
                "schema": {"fields": fields, "missingValues": [""]},
            }
        ],
    }
    (directory / "datapackage.json").write_text(
        json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return {
        "name": name,
        "title": title,
        "files": [
            {"path": f"{name}/{csv_name}", "bytes": size, "sha256": sha, "rows": count},
            {
                "path": f"{name}/datapackage.json",
                "bytes": (directory / "datapackage.json").stat().st_size,
            },
        ],
    }


AGGREGATES_PACKAGE = "tepat-agregat"
RECIPIENTS_PACKAGE = "tepat-penerima-disamarkan"


def opendata_export(
    *, out: Path | None = None, acting_user: User | None = None, today: dt.date | None = None
) -> OpenDataRelease:
    """Write today's two data packages under <out>/<date>/ and record the release.

    The aggregates come from the last refresh (run `transparency refresh` first), so the files
    publish exactly the cells the dashboard shows, hidden where the dashboard hides them.
    """
    created = timezone.now()
    release_date = today or timezone.localdate(created)
    # Files are served only from the open-data root (selectors.release_file), so a release is
    # written only there: an --out elsewhere (var/keys, /etc) is refused before anything is made.
    base = conf.inside_opendata_root((out or conf.opendata_dir()) / release_date.isoformat())
    if base is None:
        raise ValidationFailed(
            [
                FieldProblem(
                    "out",
                    "outside_root",
                    f"Folder rilis harus di dalam {conf.opendata_root()} / the release folder "
                    f"must be inside {conf.opendata_root()} (TRANSPARENCY_OPENDATA_DIR)",
                )
            ]
        )
    run = RefreshRun.objects.first()
    threshold = run.threshold if run else conf.suppression_threshold()
    packages = [
        _package(
            base / AGGREGATES_PACKAGE,
            name=AGGREGATES_PACKAGE,
            title="Agregat penerima bansos per wilayah, program dan tahap",
            description=(
                "Jumlah keluarga penerima, nilai dan penyaluran per desa (dan kecamatan, "
                f"kabupaten/kota, provinsi, nasional). Sel di bawah {threshold}, dan sel yang "
                "dapat dihitung darinya, dikosongkan."
            ),
            resource="agregat",
            fields=AGGREGATE_FIELDS,
            rows=_aggregate_rows(),
            created=created,
        ),
        _package(
            base / RECIPIENTS_PACKAGE,
            name=RECIPIENTS_PACKAGE,
            title="Daftar penerima bansos per desa (nama disamarkan)",
            description=(
                "Nama disamarkan per desa, program dan tahap; tanpa NIK dan alamat. Desa yang "
                "jumlahnya disembunyikan di agregat tidak dicantumkan."
            ),
            resource="penerima",
            fields=RECIPIENT_FIELDS,
            rows=_recipient_rows(),
            created=created,
        ),
    ]
    with transaction.atomic(durable=True):
        release = OpenDataRelease.objects.create(
            release_date=release_date, directory=str(base), threshold=threshold, packages=packages
        )
        audit_record(
            actor=acting_user,
            action="transparency.export",
            target_type="OpenDataRelease",
            target_id=release.public_id,
            detail={"directory": str(base), "packages": [p["name"] for p in packages]},
        )
    return release
