"""Reads of the integration app. Everything that shows personal data is region-scoped."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from tepat.accounts.scoping import can_see_region, can_view_full_record, region_q
from tepat.core import csvsafe
from tepat.core.errors import FieldProblem, NotFound, ValidationFailed
from tepat.core.masking import mask_account, mask_nik
from tepat.integration.importing import quarantine_raw
from tepat.integration.models import (
    Flag,
    ImportRun,
    LinkRun,
    QuarantinedRow,
    ReviewPair,
    Source,
    StagedRecord,
)
from tepat.integration.sources import FLAG_KINDS
from tepat.regions.selectors import region_names
from tepat.registry.choices import Sex


def flags_for_households(household_ids: Iterable[int]) -> dict[int, dict[str, bool]]:
    """Eligibility flags per household (a flag on any member counts): {id: {flag: bool}}.
    Households without flags map to all-False; flag names are sources.FLAG_KINDS."""
    ids = list(household_ids)
    out = {hid: dict.fromkeys(FLAG_KINDS, False) for hid in ids}
    for i in range(0, len(ids), 900):
        for hid, kind in (
            Flag.objects.filter(household_id__in=ids[i : i + 900])
            .values_list("household_id", "kind")
            .distinct()
        ):
            out[hid][kind] = True
    return out


def flagged_households() -> dict[str, list[int]]:
    """Every flagged household id per flag kind, for vectorised use (targeting scores millions)."""
    out: dict[str, list[int]] = {kind: [] for kind in FLAG_KINDS}
    for hid, kind in Flag.objects.values_list("household_id", "kind").distinct():
        out.setdefault(kind, []).append(hid)
    return out


def flags_for_household_detail(household_id: int) -> list[Flag]:
    return list(Flag.objects.filter(household_id=household_id).select_related("person"))


def sources_list() -> QuerySet[Source]:
    return Source.objects.annotate(
        record_count=Count("records", filter=Q(records__current=True))
    ).order_by("-precedence", "key")


def import_runs_recent(limit: int = 50) -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("source").order_by("-started_at", "-id")[:limit]


def import_run_get(public_id: str) -> ImportRun | None:
    return ImportRun.objects.select_related("source").filter(public_id=public_id).first()


def import_runs_filter(*, source_key: str = "", status: str = "") -> QuerySet[ImportRun]:
    """Import runs, newest first, optionally of one source and in one status."""
    runs = ImportRun.objects.select_related("source", "resubmission_of").order_by(
        "-started_at", "-id"
    )
    if source_key:
        runs = runs.filter(source__key=source_key)
    if status:
        runs = runs.filter(status=status)
    return runs


def quarantine_corrections_resolve(
    user: Any, run: ImportRun, corrections: dict[int, dict[str, str]]
) -> dict[int, dict[str, str]]:
    """Corrections keyed by the file's row number, re-keyed by quarantine row id for
    services.quarantine_resubmit. Refuses rows that are not open in the user's regions and
    columns the delivered row does not have, naming each row and column."""
    rows = {
        r.row_number: r
        for r in quarantine_for(user, run).filter(
            status=QuarantinedRow.Status.OPEN, row_number__in=list(corrections)
        )
    }
    problems: list[FieldProblem] = []
    out: dict[int, dict[str, str]] = {}
    for number, values in sorted(corrections.items()):
        row = rows.get(number)
        if row is None:
            problems.append(
                FieldProblem(
                    "row",
                    "unknown_row",
                    _("Baris tidak ada di karantina terbuka / row is not open in quarantine"),
                    number,
                )
            )
            continue
        columns = quarantine_raw(row)
        for column in values:
            if column not in columns:
                problems.append(
                    FieldProblem(
                        column,
                        "unknown_column",
                        _("Kolom %(column)r tidak ada di baris ini / no such column in this row")
                        % {"column": column},
                        number,
                    )
                )
        out[row.pk] = values
    if problems:
        raise ValidationFailed(problems)
    return out


def quarantine_for(user: Any, run: ImportRun) -> QuerySet[QuarantinedRow]:
    """Quarantined rows of a run the user may see: those of their regions; rows without a
    readable village code only for full-access roles."""
    return QuarantinedRow.objects.filter(run=run).filter(region_q(user, "village_code"))


def quarantine_rows_with_raw(
    user: Any, run: ImportRun, *, masked: bool, offset: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    """Quarantined rows in the user's regions with the row as delivered; NIK and No. KK masked
    unless `masked` is False (a stated, audited reveal). `fix` is what the correction field
    starts with: never a masked number, which re-submitted would overwrite the real one."""
    out = []
    nik_cols = {run.source.config["columns"].get("nik"), run.source.config["columns"].get("kk")}
    rows = quarantine_for(user, run)
    if offset or limit is not None:
        rows = rows[offset : None if limit is None else offset + limit]
    for row in rows:
        raw = quarantine_raw(row)
        if masked:
            raw = {k: (mask_nik(v) if k in nik_cols else v) for k, v in raw.items()}
        hidden = masked and row.field in nik_cols
        out.append({"row": row, "raw": raw, "fix": "" if hidden else raw.get(row.field, "")})
    return out


def quarantine_csv(user: Any, run: ImportRun, *, masked: bool = True) -> tuple[str, int]:
    """The run's quarantine as CSV: row, field, code, reason, then the row as delivered (NIK and
    No. KK masked unless `masked` is False); with the number of rows, for the audit."""
    rows = quarantine_rows_with_raw(user, run, masked=masked)
    header: list[str] = []
    for r in rows:
        for k in r["raw"]:
            if k not in header:
                header.append(k)
    buf = io.StringIO()
    w = csvsafe.writer(buf)  # agency data opened in a spreadsheet: no formulas run
    w.writerow(["baris_row", "kolom_field", "kode_code", "alasan_reason", "status", *header])
    for r in rows:
        q = r["row"]
        w.writerow(
            [
                q.row_number,
                q.field,
                q.code,
                q.reason,
                q.status,
                *(r["raw"].get(h, "") for h in header),
            ]
        )
    return buf.getvalue(), len(rows)


def review_pairs_for(user: Any, *, status: str = "open") -> QuerySet[ReviewPair]:
    return ReviewPair.objects.filter(status=status).filter(region_q(user, "village_code"))


def review_pair_get(user: Any, public_id: str) -> ReviewPair:
    """One pair in the user's regions, whatever its status; outside them it does not exist."""
    pair = (
        ReviewPair.objects.filter(region_q(user, "village_code"))
        .filter(public_id=public_id)
        .first()
    )
    if pair is None:
        raise NotFound()
    return pair


def link_runs_recent() -> QuerySet[LinkRun]:
    return LinkRun.objects.select_related("model").order_by("-started_at", "-id")


def _pairs_records_clear(pairs: Sequence[ReviewPair]) -> list[list[dict[str, Any]]]:
    """The two records of each pair with the NIK in clear: for the masking callers below only.
    Read in one query for the registry's persons and one per source, whatever the number of
    pairs (a review page holds 50)."""
    from tepat.core import crypto
    from tepat.integration.importing import NIK_CONTEXT
    from tepat.registry.models import Person
    from tepat.registry.sealed import NIK as REG_NIK
    from tepat.registry.sealed import unseal

    keys = [key for pair in pairs for key in (pair.left_key, pair.right_key)]
    wanted: dict[str, set[str]] = {}
    for key in keys:
        source, _, rid = key.partition(":")
        wanted.setdefault(source, set()).add(rid)
    found: dict[str, dict[str, Any]] = {}
    persons = Person.objects.select_related("household").filter(
        public_id__in=wanted.pop("registry", set())
    )
    for p in persons.order_by("pk"):
        found.setdefault(
            f"registry:{p.public_id}",
            {
                "source": "registry",
                "nik": unseal(p.nik_enc, context=REG_NIK, row=p.public_id),
                "full_name": p.full_name,
                "sex": p.sex,
                "birth_date": p.birth_date,
                "village_code": p.household.village_id,
                "address": p.household.address,
            },
        )
    for source, rids in wanted.items():
        staged = StagedRecord.objects.filter(source__key=source, record_id__in=rids, current=True)
        for r in staged.order_by("pk"):
            found.setdefault(
                f"{source}:{r.record_id}",
                {
                    "source": source,
                    "nik": crypto.decrypt(r.nik_enc, context=NIK_CONTEXT) if r.nik_enc else "",
                    "full_name": r.full_name,
                    "sex": r.sex,
                    "birth_date": r.birth_date,
                    "village_code": r.village_code,
                    "address": r.address,
                },
            )
    return [
        [
            {"key": key, **found[key]} if key in found else {"key": key, "missing": True}
            for key in (pair.left_key, pair.right_key)
        ]
        for pair in pairs
    ]


def review_pair_records(pair: ReviewPair) -> list[dict[str, Any]]:
    """The two records of a pair, side by side (NIK masked)."""
    out = _pairs_records_clear([pair])[0]
    for r in out:
        if "nik" in r:
            r["nik"] = mask_nik(r["nik"])
    return out


REVIEW_PAGE_SIZE = 50


def review_pair_comparisons(pairs: Iterable[ReviewPair], *, user: Any) -> list[dict[str, Any]]:
    """`review_pair_comparison` of many pairs, with the source and village names read once."""
    pairs = list(pairs)
    cleared = list(zip(pairs, _pairs_records_clear(pairs), strict=True))
    sources = dict(Source.objects.values_list("key", "name"))
    villages = region_names(
        r["village_code"] for _p, clear in cleared for r in clear if r.get("village_code")
    )
    return [_comparison(pair, clear, user, sources, villages) for pair, clear in cleared]


def review_pair_comparison(pair: ReviewPair, *, user: Any) -> dict[str, Any]:
    """The two records of a pair as a reviewer compares them: a column per record and a row per
    field (NIK, name, sex, birth date, village by name, address), each row saying whether the
    two values differ (None when a side has no value or no longer exists). The NIK is shown by
    its distinguishing last four digits to roles that may see a full record
    (`can_view_full_record`) and masked as everywhere else (region of issue and last two digits)
    to the others; the comparison itself uses the NIK in clear, which never leaves here."""
    return review_pair_comparisons([pair], user=user)[0]


def _comparison(
    pair: ReviewPair,
    clear: list[dict[str, Any]],
    user: Any,
    sources: dict[str, str],
    villages: dict[str, str],
) -> dict[str, Any]:
    full = can_view_full_record(user)
    sexes = {code: str(label) for code, label in Sex.choices}

    def nik(r: dict[str, Any]) -> str:
        if not r["nik"]:
            return ""
        return mask_account(r["nik"]) if full else mask_nik(r["nik"])

    def village(r: dict[str, Any]) -> str:
        code = r["village_code"]
        name = villages.get(code)
        return f"{name} ({code})" if name and code else code

    fields: list[tuple[str, str, Any, Any]] = [
        # (field, label, what is shown, what is compared)
        ("nik", _("NIK"), nik, lambda r: r["nik"]),
        ("full_name", _("Nama"), lambda r: r["full_name"], lambda r: _folded(r["full_name"])),
        ("sex", _("Jenis kelamin"), lambda r: sexes.get(r["sex"], r["sex"]), lambda r: r["sex"]),
        ("birth_date", _("Tanggal lahir"), lambda r: r["birth_date"], lambda r: r["birth_date"]),
        ("village", _("Desa/kelurahan"), village, lambda r: r["village_code"]),
        ("address", _("Alamat"), lambda r: r["address"], lambda r: _folded(r["address"])),
    ]
    both = not any(r.get("missing") for r in clear)
    rows: list[dict[str, Any]] = []
    for field_name, label, shown, compared in fields:
        values = [None if r.get("missing") else shown(r) for r in clear]
        keys = [compared(r) for r in clear] if both else []
        differs = None
        if both and all(k not in ("", None) for k in keys):
            differs = keys[0] != keys[1]
        rows.append({"field": field_name, "label": label, "values": values, "differs": differs})
    heads = []
    for r in clear:
        source = r["key"].partition(":")[0]
        heads.append(
            {
                "key": r["key"],
                "source": _("Registri sosial")
                if source == "registry"
                else sources.get(source, source),
                "missing": bool(r.get("missing")),
            }
        )
    return {
        "pair": pair,
        "heads": heads,
        "rows": rows,
        "differences": sum(1 for x in rows if x["differs"]),
    }


def _folded(text: str) -> str:
    return " ".join((text or "").casefold().split())


def quality_region(user: Any, raw: str) -> str:
    """The undotted region code to narrow the quality figures to ("" for all the user's regions).
    A region that shares nothing with the user's regions does not exist for them."""
    from tepat.regions.selectors import region_get

    if not raw.strip():
        return ""
    code = region_get(raw, field="region").code
    inside = can_see_region(user, code)
    around = user.is_region_scoped and any(c.startswith(code) for c in user.region_codes)
    if not (inside or around):
        raise NotFound()
    return code


def data_quality(user: Any, *, region_prefix: str = "") -> dict[str, Any]:
    """Per-region figures: records per source, linked share, conflicts, quarantine, flags."""
    scope = region_q(user, "village_code")
    pref = Q(village_code__startswith=region_prefix) if region_prefix else Q()
    records = (
        StagedRecord.objects.filter(current=True)
        .filter(scope & pref)
        .values("source__key")
        .annotate(total=Count("id"), linked=Count("id", filter=Q(person__isnull=False)))
        .order_by("source__key")
    )
    coverage = [
        {
            "source": r["source__key"],
            "records": r["total"],
            "linked": r["linked"],
            "match_rate": round(100.0 * r["linked"] / r["total"], 1) if r["total"] else 0.0,
        }
        for r in records
    ]
    quarantined = (
        QuarantinedRow.objects.filter(status=QuarantinedRow.Status.OPEN)
        .filter(scope & pref)
        .values("run__source__key", "code")
        .annotate(n=Count("id"))
        .order_by("run__source__key", "code")
    )
    flags = (
        Flag.objects.filter(scope & pref)
        .values("kind")
        .annotate(n=Count("id"), households=Count("household_id", distinct=True))
        .order_by("kind")
    )
    # Conflicts: registry values the authoritative source overrode in the last link run.
    registry_changes = _conflicts(scope & pref)
    last_link = LinkRun.objects.filter(status=LinkRun.Status.DONE).first()
    return {
        "coverage": coverage,
        "quarantined": list(quarantined),
        "flags": list(flags),
        "conflicts": registry_changes,
        "review_open": review_pairs_for(user).filter(pref).count(),
        "last_link": last_link,
    }


def _conflicts(q: Q) -> list[dict[str, Any]]:
    """Fields where the last link run changed the registry to another source's value."""
    from tepat.registry.models import ChangeRecord
    from tepat.registry.snapshots import open_pairs

    last = LinkRun.objects.filter(status=LinkRun.Status.DONE).first()
    if last is None:
        return []
    counts: dict[str, int] = defaultdict(int)
    changes = ChangeRecord.objects.filter(
        reason=f"golden record, link run {last.public_id}", entity_type="person"
    )
    if q.children:
        changes = changes.filter(_rewrite(q))
    rows = changes.values_list("before", "after").iterator(chunk_size=2000)
    # Names and birth dates are sealed under each person's key: opened 2,000 at a time.
    while chunk := list(islice(rows, 2000)):
        for before, after in open_pairs("person", chunk):
            for name in ("full_name", "sex", "birth_date", "deceased_on"):
                if (before or {}).get(name) != (after or {}).get(name):
                    counts[name] += 1
    return [{"field": k, "n": v} for k, v in sorted(counts.items())]


def _rewrite(q: Q) -> Q:
    """The same filter on ChangeRecord: village_code lives on the household there."""
    out = Q()
    out.connector = q.connector
    out.negated = q.negated
    for child in q.children:
        if isinstance(child, Q):
            out.children.append(_rewrite(child))
        else:
            key, value = child  # type: ignore[misc]
            # The village's code, not the foreign key column: a key takes no `startswith`
            # (every scoped user's and every `?region=` filter is a prefix match).
            out.children.append((key.replace("village_code", "household__village__code", 1), value))
    return out


def person_source_records(*, person_id: int) -> QuerySet[StagedRecord]:
    """The agency records linked to a registry person (current deliveries), with their source
    and import run: where the registry's knowledge of the person came from."""
    return (
        StagedRecord.objects.filter(person_id=person_id, current=True)
        .select_related("source", "run")
        .order_by("source__key", "record_id")
    )
