"""Community rankings (musyawarah desa): import a deliberation's result per village, read it
within the caller's regions, and compare the PMT, the community and a hybrid rule side by side.

Who may do what (existing roles only):
- import: targeting managers (`services.can_manage_targeting`: admins and supervisors; the
  command line). A regional supervisor imports only villages inside their regions: rows of other
  villages are set aside (`village_out_of_scope`). Operators do not import: the deliberation's
  minutes are verified by the supervisor who signs the list.
- read (imports, per-village coverage, the comparison): the roles that count rules
  (`services.can_check_rules`: admins, supervisors, operators, auditors), each within their
  regions (tepat.accounts.scoping). A village's household-level list is a read of personal data:
  audited with the number of households shown.

An import never drops a row silently: every row set aside is counted under a reason with its row
numbers (data rows, 1 = the first row after the header); warnings (partial villages, gaps in a
rank) are kept with the import. A file with no usable row is refused with every reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from tepat.accounts.scoping import can_see_region, region_q
from tepat.core import crypto
from tepat.core.audit import audit_read, audit_record, region_of
from tepat.core.errors import FieldProblem, NotFound, PermissionDenied, TepatError, ValidationFailed
from tepat.core.reading import decode
from tepat.targeting import hybrid, selectors, services
from tepat.targeting.models import CommunityRanking, CommunityRankingImport, ScoringRun

if TYPE_CHECKING:
    from tepat.accounts.models import User


BATCH = 5000
LOOKUP_CHUNK = 900  # ids per IN (...) query (SQLite's variable limit)
ROWS_LISTED = 20  # row numbers kept per reason (the count is always complete)
YES = frozenset({"ya", "y", "yes", "1", "true", "benar", "dipilih", "terpilih"})
NO = frozenset({"tidak", "tdk", "no", "n", "0", "false", "salah", "tidak dipilih"})
DELIMITERS = {",": ",", ";": ";", "|": "|", "\\t": "\t", "\t": "\t", "tab": "\t"}
KK_RE = re.compile(r"^\d{16}$")
VILLAGE_RE = re.compile(r"^\d{10}$")

# Why a row was set aside (error) or what to know about the import (warning).
REASONS: dict[str, tuple[str, str, str]] = {
    "village_missing": ("village", "error", "kode desa kosong / village code is empty"),
    "village_invalid": ("village", "error", "kode desa bukan 10 digit / not a 10-digit village code"),
    "village_unknown": ("village", "error", "desa tidak dikenal / no such village"),
    "village_out_of_scope": ("village", "error",
                             "desa di luar wilayah Anda / village outside your regions"),
    "kk_missing": ("kk", "error", "No. KK kosong / No. KK is empty"),
    "kk_invalid": ("kk", "error", "No. KK bukan 16 digit / No. KK is not 16 digits"),
    "kk_unknown": ("kk", "error", "No. KK tidak ada di registri / No. KK not in the registry"),
    "household_missing": ("household", "error", "ID rumah tangga kosong / household id is empty"),
    "household_unknown": ("household", "error",
                          "rumah tangga tidak ada di registri / household not in the registry"),
    "village_mismatch": ("village", "error",
                         "rumah tangga terdaftar di desa lain / the household is registered in "
                         "another village"),
    "duplicate_household": ("kk", "error",
                            "rumah tangga muncul lebih dari sekali; semua barisnya disisihkan / "
                            "household appears more than once; all its rows set aside"),
    "rank_missing": ("rank", "error", "peringkat kosong / rank is empty"),
    "rank_not_integer": ("rank", "error",
                         "peringkat bukan bilangan bulat >= 1 / rank is not a whole number >= 1"),
    "rank_repeated": ("rank", "error",
                      "peringkat sama dipakai lebih dari sekali di satu desa; barisnya disisihkan "
                      "/ rank repeated within a village; those rows set aside"),
    "selected_invalid": ("selected", "error",
                         "nilai pilihan bukan ya/tidak / selection is not yes/no"),
    "village_partial": ("village", "warning",
                        "rumah tangga registri tidak ada di daftar desanya (diurutkan setelah yang "
                        "terdaftar) / registry households missing from their village's list "
                        "(ordered after the listed ones)"),
    "rank_gaps": ("rank", "warning",
                  "peringkat desa tidak berurutan 1..n (urutan tetap dipakai) / a village's "
                  "ranks are not 1..n (their order is used)"),
    "village_none_selected": ("selected", "warning",
                              "desa tanpa rumah tangga terpilih / village with nobody selected"),
}  # fmt: skip


@dataclass(frozen=True)
class ImportColumns:
    """Which columns hold what. Exactly one household key (`kk` or `household`, the household's
    public id) and exactly one result (`rank`, 1 = poorest, or `selected`, yes/no)."""

    village: str = "kode_desa"
    kk: str = ""
    household: str = ""
    rank: str = ""
    selected: str = ""
    delimiter: str = ","

    def resolved(self) -> ImportColumns:
        """Defaults filled in (No. KK in `no_kk`, a rank in `peringkat`), or an error naming
        each conflict."""
        problems: list[FieldProblem] = []
        if self.kk and self.household:
            problems.append(FieldProblem("kk", "conflict", "pilih satu: kolom No. KK atau ID "
                                         "rumah tangga / give the No. KK column or the household "
                                         "id column, not both"))  # fmt: skip
        if self.rank and self.selected:
            problems.append(FieldProblem("rank", "conflict", "pilih satu: kolom peringkat atau "
                                         "kolom terpilih / give the rank column or the selected "
                                         "column, not both"))  # fmt: skip
        if self.delimiter not in DELIMITERS:
            problems.append(FieldProblem("delimiter", "choice", "pemisah harus salah satu / "
                                         f"delimiter must be one of {sorted(DELIMITERS)}"))  # fmt: skip
        if not self.village.strip():
            problems.append(FieldProblem("village", "required", "kolom desa wajib / the village "
                                         "column is required"))  # fmt: skip
        if problems:
            raise ValidationFailed(problems)
        return ImportColumns(
            village=self.village.strip(),
            kk="" if self.household else (self.kk.strip() or "no_kk"),
            household=self.household.strip(),
            rank="" if self.selected else (self.rank.strip() or "peringkat"),
            selected=self.selected.strip(),
            delimiter=DELIMITERS[self.delimiter],
        )

    @property
    def kind(self) -> str:
        return (
            CommunityRankingImport.Kind.SELECTED
            if self.selected
            else CommunityRankingImport.Kind.RANK
        )

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class _Reasons:
    rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notes: dict[str, str] = field(default_factory=dict)

    def add(self, code: str, row: int | None, count: int = 1) -> None:
        self.counts[code] += count
        if row is not None and len(self.rows[code]) < ROWS_LISTED:
            self.rows[code].append(row)

    def as_list(self) -> list[dict[str, Any]]:
        out = []
        for code in REASONS:
            if not self.counts.get(code):
                continue
            fld, severity, message = REASONS[code]
            if code in self.notes:
                message = f"{message} ({self.notes[code]})"
            out.append({"code": code, "field": fld, "severity": severity, "message": message,
                        "count": self.counts[code], "rows": self.rows.get(code, [])})  # fmt: skip
        return out


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """`values` in lists of LOOKUP_CHUNK, for IN (...) queries (a national import names tens of
    thousands of villages)."""
    items = sorted(values)
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def _village_households(villages: Iterable[str]) -> dict[str, int]:
    """Registry households per village."""
    from tepat.registry.models import Household

    out: dict[str, int] = {}
    for chunk in _chunks(villages):
        out.update(
            Household.objects.filter(village_id__in=chunk)
            .values("village_id")
            .annotate(n=Count("id"))
            .values_list("village_id", "n")
        )
    return out


def problems_text(problems: list[dict[str, Any]]) -> list[str]:
    """One line per reason: `count x code: message (rows 3, 7, ...)`."""
    lines = []
    for p in problems:
        rows = p.get("rows") or []
        more = ", ..." if p["count"] > len(rows) and rows else ""
        where = f" (baris data / data rows {', '.join(map(str, rows))}{more})" if rows else ""
        lines.append(f"{p['severity']}: {p['count']} x {p['code']}: {p['message']}{where}")
    return lines


def _refuse(reasons: _Reasons, extra: list[FieldProblem] | None = None) -> ValidationFailed:
    items = list(extra or [])
    for p in reasons.as_list():
        rows = p["rows"]
        items.append(
            FieldProblem(
                p["field"], p["code"], f"{p['count']} x {p['code']}: {p['message']}"
                + (f" (baris data / data rows {', '.join(map(str, rows))})" if rows else ""),
                rows[0] if rows else None, "error" if p["severity"] == "error" else "warning",
            )
        )  # fmt: skip
    return ValidationFailed(items)


def _read(path: Path, cols: ImportColumns) -> tuple[list[str], list[list[str]], str]:
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = decode(data, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TepatError(
            f"berkas bukan UTF-8 (byte {exc.start}) / the file is not UTF-8 (byte {exc.start})",
            field="file",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=cols.delimiter)
    header = [h.strip() for h in next(reader, [])]
    rows = [r for r in reader if any(cell.strip() for cell in r)]
    wanted = {"village": cols.village, "kk": cols.kk, "household": cols.household,
              "rank": cols.rank, "selected": cols.selected}  # fmt: skip
    missing = [
        FieldProblem(role, "missing_column", f"kolom {name!r} tidak ada / no column {name!r}; "
                     f"kolom berkas / the file's columns: {header}")
        for role, name in wanted.items() if name and name not in header
    ]  # fmt: skip
    if missing:
        raise ValidationFailed(missing)
    if not rows:
        raise TepatError("berkas tanpa baris data / the file has no data rows", field="file")
    return header, rows, digest


def _households(keys: list[str], by: str, user: Any) -> dict[str, tuple[int, str] | None]:
    """Registry household (id, village code) per key; None when absent or outside the user's
    regions (the same answer: no probing of other regions)."""
    from tepat.registry.models import Household

    found: dict[str, tuple[int, str] | None] = dict.fromkeys(keys)
    if by == "kk":
        index = crypto.blind_indexer(purpose="kk")
        lookup = {index(k): k for k in keys}
        column = "kk_index"
    else:
        lookup = {k: k for k in keys}
        column = "public_id"
    wanted = list(lookup)
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = Household.objects.filter(**{f"{column}__in": chunk}).values_list(
            column, "id", "village_id"
        )
        for key, hid, village in rows:
            if user is None or can_see_region(user, village):
                found[lookup[key]] = (int(hid), str(village))
    return found


def community_import(
    *,
    acting_user: User,
    path: Path,
    columns: ImportColumns | None = None,
    label: str = "",
    file_name: str = "",
    request: Any = None,
) -> CommunityRankingImport:
    """Import a deliberation result file; see the module docstring for who may and what is set
    aside. Returns the saved import (its `problems` hold the reasons and warnings)."""
    from tepat.regions.models import Region

    if not services.can_manage_targeting(acting_user):
        raise PermissionDenied()
    cols = (columns or ImportColumns()).resolved()
    header, rows, digest = _read(path, cols)
    pos = {name: i for i, name in enumerate(header)}
    by = "kk" if cols.kk else "household"
    key_col = pos[cols.kk or cols.household]
    result_col = pos[cols.rank or cols.selected]
    reasons = _Reasons()

    def cell(r: list[str], i: int) -> str:
        return r[i].strip() if i < len(r) else ""

    # 1. Each row on its own: village code, key, result.
    parsed: list[tuple[int, str, str, int | None, bool | None]] = []
    for n, r in enumerate(rows, start=1):
        village = cell(r, pos[cols.village]).replace(".", "")
        key = cell(r, key_col)
        raw = cell(r, result_col)
        bad = False
        if not village:
            reasons.add("village_missing", n)
            bad = True
        elif not VILLAGE_RE.match(village):
            reasons.add("village_invalid", n)
            bad = True
        elif acting_user is not None and not can_see_region(acting_user, village):
            reasons.add("village_out_of_scope", n)
            bad = True
        if not key:
            reasons.add(f"{by}_missing", n)
            bad = True
        elif by == "kk" and not KK_RE.match(key):
            reasons.add("kk_invalid", n)
            bad = True
        rank: int | None = None
        chosen: bool | None = None
        if cols.rank:
            if not raw:
                reasons.add("rank_missing", n)
                bad = True
            elif not raw.isdigit() or int(raw) < 1:
                reasons.add("rank_not_integer", n)
                bad = True
            else:
                rank = int(raw)
        else:
            low = raw.lower()
            if low in YES:
                chosen = True
            elif low in NO:
                chosen = False
            else:
                reasons.add("selected_invalid", n)
                bad = True
        if not bad:
            parsed.append((n, village, key, rank, chosen))

    # 2. Villages that exist; households in the registry, in that village, once.
    known: set[str] = set()
    for chunk in _chunks({v for _, v, *_ in parsed}):
        known.update(Region.objects.filter(code__in=chunk).values_list("code", flat=True))
    homes = _households(sorted({k for _, _, k, *_ in parsed}), by, acting_user)
    matched: list[tuple[int, str, int, int | None, bool | None]] = []
    for n, village, key, rank, chosen in parsed:
        home = homes.get(key)
        if village not in known:
            reasons.add("village_unknown", n)
        elif home is None:
            reasons.add(f"{by}_unknown", n)
        elif home[1] != village:
            reasons.add("village_mismatch", n)
        else:
            matched.append((n, village, home[0], rank, chosen))
    seen: dict[int, int] = defaultdict(int)
    for _, _, hid, _, _ in matched:
        seen[hid] += 1
    kept = []
    for entry in matched:
        if seen[entry[2]] > 1:
            reasons.add("duplicate_household", entry[0])
        else:
            kept.append(entry)
    if cols.rank:
        ranks: dict[tuple[str, int | None], int] = defaultdict(int)
        for _, village, _, rank, _ in kept:
            ranks[(village, rank)] += 1
        repeated = [e for e in kept if ranks[(e[1], e[3])] > 1]
        for e in repeated:
            reasons.add("rank_repeated", e[0])
        kept = [e for e in kept if ranks[(e[1], e[3])] == 1]
    if not kept:
        extra = [FieldProblem("file", "nothing_usable", "tidak ada baris yang dapat dipakai / no "
                              f"usable row among {len(rows)}")]  # fmt: skip
        raise _refuse(reasons, extra)

    # 3. Warnings about what was kept.
    villages = sorted({e[1] for e in kept})
    _warn(reasons, kept, villages, ranked=bool(cols.rank))
    problems = reasons.as_list()
    with transaction.atomic():
        imp = CommunityRankingImport.objects.create(
            label=label[:100], file_name=(file_name or Path(path).name)[:255], sha256=digest,
            kind=cols.kind, columns=cols.as_dict() | {"delimiter": cols.delimiter},
            rows_read=len(rows), rows_used=len(kept), villages=villages,
            region_code=region_of(villages), problems=problems,
            created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
            created_by_label=getattr(acting_user, "username", "") or "system",
        )  # fmt: skip
        entries = (
            CommunityRanking(ranking_import=imp, household_id=hid, village_code=village,
                             rank=rank, selected=chosen, row=n)
            for n, village, hid, rank, chosen in kept
        )  # fmt: skip
        while batch := [e for _, e in zip(range(BATCH), entries, strict=False)]:
            CommunityRanking.objects.bulk_create(batch)
        audit_record(
            actor=acting_user, action="targeting.community_import",
            target_type="community_ranking_import", target_id=imp.public_id,
            region_code=imp.region_code, request=request,
            detail={"file": imp.file_name, "sha256": digest, "kind": imp.kind,
                    "rows_read": imp.rows_read, "rows_used": imp.rows_used,
                    "villages": len(villages),
                    "set_aside": {p["code"]: p["count"] for p in problems
                                  if p["severity"] == "error"},
                    "warnings": {p["code"]: p["count"] for p in problems
                                 if p["severity"] == "warning"}},
        )  # fmt: skip
    return imp


def _warn(
    reasons: _Reasons,
    kept: list[tuple[int, str, int, int | None, bool | None]],
    villages: list[str],
    *,
    ranked: bool,
) -> None:
    listed: dict[str, int] = defaultdict(int)
    for _, village, *_ in kept:
        listed[village] += 1
    in_registry = _village_households(villages)
    partial = {v: in_registry.get(v, 0) - listed[v] for v in villages}
    partial = {v: m for v, m in partial.items() if m > 0}
    if partial:
        reasons.add("village_partial", None, count=len(partial))
        reasons.notes["village_partial"] = (
            f"{len(partial)} desa, {sum(partial.values())} rumah tangga / villages, households"
        )
    if ranked:
        by_village: dict[str, list[int]] = defaultdict(list)
        for _, village, _, rank, _ in kept:
            by_village[village].append(int(rank or 0))
        gaps = [v for v, rs in by_village.items() if sorted(rs) != list(range(1, len(rs) + 1))]
        if gaps:
            reasons.add("rank_gaps", None, count=len(gaps))
            reasons.notes["rank_gaps"] = f"{', '.join(sorted(gaps)[:10])}"
    else:
        chosen: dict[str, int] = defaultdict(int)
        for _, village, _, _, sel in kept:
            chosen[village] += bool(sel)
        none = [v for v in villages if not chosen[v]]
        if none:
            reasons.add("village_none_selected", None, count=len(none))
            reasons.notes["village_none_selected"] = f"{', '.join(none[:10])}"


# --- reads --------------------------------------------------------------------------------------


def _require_reader(user: Any) -> None:
    if user is not None and not services.can_check_rules(user):
        raise PermissionDenied()


def _in_scope(user: Any, codes: list[str]) -> bool:
    return user is None or any(can_see_region(user, c) for c in codes)


def imports_visible(user: Any) -> list[CommunityRankingImport]:
    """Imports with at least one village inside the user's regions, newest first."""
    _require_reader(user)
    return [imp for imp in CommunityRankingImport.objects.all() if _in_scope(user, imp.villages)]


def import_get(*, user: Any, public_id: str) -> CommunityRankingImport:
    imp = CommunityRankingImport.objects.filter(public_id=public_id).first()
    if imp is None or not _in_scope(user, imp.villages):
        raise NotFound()
    return imp


def _entries(user: Any) -> QuerySet[CommunityRanking]:
    qs = CommunityRanking.objects.all()
    return qs if user is None else qs.filter(region_q(user, "village_code"))


def _current_imports(user: Any) -> dict[str, int]:
    """The import that counts for each village: the latest one that ranks it."""
    out: dict[str, int] = {}
    pairs = _entries(user).values_list("village_code", "ranking_import_id").distinct()
    for village, imp in pairs:
        out[village] = max(out.get(village, 0), int(imp))
    return out


@dataclass
class VillageCoverage:
    village_code: str
    village_name: str
    households: int  # in the registry
    ranked: int  # listed by the current import
    selected: int | None  # chosen (yes/no lists)
    kind: str
    import_public_id: str
    imported_at: Any

    @property
    def share(self) -> float:
        return round(self.ranked / self.households, 3) if self.households else 0.0


def coverage(*, user: Any) -> list[VillageCoverage]:
    """Per village in the user's regions with a community ranking: how many registry households
    its current import lists (aggregates only: no household is named)."""
    from tepat.regions.models import Region

    _require_reader(user)
    current = _current_imports(user)
    if not current:
        return []
    imports = {i.pk: i for i in CommunityRankingImport.objects.filter(pk__in=set(current.values()))}
    counts = {
        (v, i): (n, s)
        for v, i, n, s in _entries(user)
        .filter(ranking_import_id__in=set(current.values()))
        .values("village_code", "ranking_import_id")
        .annotate(n=Count("id"), s=Count("id", filter=Q(selected=True)))
        .values_list("village_code", "ranking_import_id", "n", "s")
    }
    homes = _village_households(current)
    names: dict[str, str] = {}
    for chunk in _chunks(current):
        names.update(Region.objects.filter(code__in=chunk).values_list("code", "name"))
    out = []
    for village in sorted(current):
        imp = imports[current[village]]
        n, s = counts.get((village, imp.pk), (0, 0))
        out.append(
            VillageCoverage(
                village_code=village, village_name=names.get(village, ""),
                households=homes.get(village, 0), ranked=n,
                selected=s if imp.kind == CommunityRankingImport.Kind.SELECTED else None,
                kind=imp.kind, import_public_id=imp.public_id, imported_at=imp.created_at,
            )
        )  # fmt: skip
    return out


@dataclass
class VillageEntry:
    household_public_id: str
    rank: int | None
    selected: bool | None
    row: int


def village_list(*, user: Any, village_code: str, request: Any = None) -> list[VillageEntry]:
    """The current deliberation result of one village, household by household (a read of
    personal data: scoped, audited with the number shown)."""
    _require_reader(user)
    village_code = village_code.replace(".", "")
    if user is not None and not can_see_region(user, village_code):
        raise NotFound()
    current = _current_imports(user).get(village_code)
    if current is None:
        raise NotFound(
            "desa ini belum punya hasil musyawarah / this village has no community ranking"
        )
    rows = (
        CommunityRanking.objects.filter(ranking_import_id=current, village_code=village_code)
        .select_related("household")
        .order_by("rank", "-selected", "row")
    )
    out = [VillageEntry(r.household.public_id, r.rank, r.selected, r.row) for r in rows]
    audit_read(
        actor=user, what="targeting.community_village_view", count=len(out),
        region_code=village_code, request=request, target_type="community_ranking_import",
        target_id=CommunityRankingImport.objects.get(pk=current).public_id,
    )  # fmt: skip
    return out


def community_values(
    household_ids: npt.NDArray[np.int64], *, user: Any = None
) -> npt.NDArray[np.float64]:
    """The current community order of each household (tepat.targeting.hybrid convention: the
    rank, or 0 = chosen / 1 = not chosen; NaN = not ranked), aligned with `household_ids`."""
    out = np.full(len(household_ids), np.nan)
    current = _current_imports(user)
    if not current or not len(household_ids):
        return out
    wanted = set(current.values())
    rows = np.array(
        [
            (h, float(r) if r is not None else (0.0 if s else 1.0))
            for h, v, i, r, s in _entries(user)
            .filter(ranking_import_id__in=wanted)
            .values_list("household_id", "village_code", "ranking_import_id", "rank", "selected")
            .iterator(chunk_size=20_000)
            if current.get(v) == i
        ],
        dtype=np.float64,
    ).reshape(-1, 2)
    order = np.argsort(household_ids)
    ids_sorted = household_ids[order]
    pos = np.searchsorted(ids_sorted, rows[:, 0].astype(np.int64))
    ok = (pos < len(ids_sorted)) & (ids_sorted[np.minimum(pos, len(ids_sorted) - 1)] == rows[:, 0])
    out[order[pos[ok]]] = rows[ok, 1]
    return out


def community_compare(
    *,
    acting_user: User,
    rule: hybrid.HybridRule,
    quota: float,
    run: ScoringRun | None = None,
    target_share: float | None = None,
    request: Any = None,
) -> dict[str, Any]:
    """The PMT of a scoring run (default: the latest), the community and `rule`, side by side at
    `quota` per village, over the households of the caller's regions; errors against the synthetic
    or matched truth where it is loaded (targeting.TruthConsumption). Audited."""
    _require_reader(acting_user)
    run = run or selectors.run_get()
    pop = selectors.population(run=run)
    village = pop.frame.village_code.astype(str)
    if services.is_national(acting_user):
        keep = np.ones(len(village), dtype=bool)
        scope = ["nasional"]
    else:
        scope = sorted(getattr(acting_user, "region_codes", []) or [])
        keep = np.zeros(len(village), dtype=bool)
        for code in scope:
            keep |= np.strings.startswith(village, code)
    ids = pop.frame.household_id[keep]
    community = community_values(ids, user=acting_user)
    result = hybrid.hybrid_compare(
        pop.score[keep], community, village[keep], quota, rule,
        truth=pop.truth_pc[keep], weight=pop.weight[keep], target_share=target_share,
    )  # fmt: skip
    result["run"] = run.public_id
    result["model_version"] = run.model.version
    result["rank_by"] = run.rank_by
    result["scope"] = scope
    audit_record(
        actor=acting_user, action="targeting.community_compare", target_type="scoring_run",
        target_id=run.public_id, request=request,
        region_code=scope[0] if len(scope) == 1 and scope[0].isdigit() else "",
        detail={"rule": rule.as_dict(), "quota": quota, "scope": scope,
                "villages": result["villages"], "households": result["households"]["total"],
                "mistargeting": {k: (v.get("all") or {}).get("mistargeting")
                                 for k, v in result["lists"].items()}},
    )  # fmt: skip
    return result
