"""Reading a household survey for PMT calibration, as the spec maps its columns.

The CSV may use `,`, `;`, tab or `|` between fields (taken from the header line) and may start
with a UTF-8 byte-order mark; with `;` a decimal comma (`12,5`) is read as 12.5. Values are
stripped of surrounding spaces. Rows are numbered from 1 = the first line after the header.

Nothing is dropped silently: rows set aside are counted per reason in `dropped_count` (with the
first row numbers in `dropped`), and every value that could not be read as the spec says is a
warning with its count and first rows in `Survey.warnings`, or an error when it would change the
model beyond repair (a numeric proxy that is mostly text, a quota outside 0..1).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tepat.core.errors import Problems, ValidationFailed
from tepat.core.reading import DELIMITERS, decode, sniff_delimiter
from tepat.targeting.evaluation import weighted_quantile
from tepat.targeting.rules import Rule, rule_evaluate
from tepat.targeting.spec import MIN_ROWS, Proxy, Spec, filter_parse

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
OBJ = npt.NDArray[np.object_]
FIRST_ROWS = 5  # row numbers kept per warning
DROPPED_ROWS = 20  # row numbers kept per reason rows are set aside
TEXT_SHARE_ERROR = 0.5  # a numeric proxy more than half text (of its non-empty values): an error
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")

# Status of each raw value of a numeric column.
OK, EMPTY, MISSING, TEXT = 0, 1, 2, 3


def _objects(n: int) -> OBJ:
    return np.full(n, "", dtype=object)


@dataclass
class Survey:
    """The usable survey rows: outcome, target, weights, groups and proxies as the spec maps them."""

    y: F64  # continuous: log per-capita consumption; binary: 1.0 poor else 0.0; ordinal: class
    # index 0..K-1 (0 = poorest)
    weight: F64  # normalised to mean 1
    area: OBJ  # area codes as strings, full length; "" when none
    proxies: dict[str, npt.NDArray[Any]]  # numeric: float64, nan = missing; categorical: str
    rows_read: int
    dropped: dict[str, list[int]]  # reason -> first row numbers set aside
    dropped_count: dict[str, int]
    sha256: str
    file_name: str
    poor: BOOL = field(default_factory=lambda: np.zeros(0, dtype=bool))
    consumption: F64 | None = None  # per-capita consumption (continuous outcome only)
    cv_group: OBJ = field(default_factory=lambda: _objects(0))  # fold groups; "" when none
    quota_group: OBJ = field(default_factory=lambda: _objects(0))  # all "" for a national quota
    quota_share: F64 | None = None  # per-row quota share from target.quota_column
    warnings: list[dict[str, Any]] = field(default_factory=list)
    poverty_line: float | None = None  # the amount defining `poor` (continuous outcome)
    rows: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # ^ the row number (1 = first data line) of each usable row, for out-of-fold exports


class _Notes:
    """Warnings as the model card shows them: field, code, message, count, first rows."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(
        self,
        field_name: str,
        code: str,
        message: str,
        rows: npt.NDArray[np.intp],
        count: int | None = None,
    ) -> None:
        self.items.append(
            {
                "field": field_name,
                "code": code,
                "message": message,
                "count": len(rows) if count is None else count,
                "rows": (rows[:FIRST_ROWS] + 1).tolist(),
            }
        )


def _row_list(rows: npt.NDArray[np.intp], limit: int = FIRST_ROWS) -> str:
    shown = ", ".join(str(int(r) + 1) for r in rows[:limit])
    return shown + (" ..." if len(rows) > limit else "")


def _examples(values: OBJ, rows: npt.NDArray[np.intp], limit: int = 5) -> str:
    """The most frequent values among `rows`, with their counts: 'ya' (120), 'tidak' (80)."""
    uniq, counts = np.unique(values[rows].astype(str), return_counts=True)
    order = np.argsort(-counts, kind="stable")[:limit]
    shown = ", ".join(f"{str(uniq[i])!r} ({int(counts[i])})" for i in order)
    return shown + (" ..." if len(uniq) > limit else "")


# --- the file -----------------------------------------------------------------------------------


def _fail(field_name: str, code: str, message: str) -> ValidationFailed:
    p = Problems()
    p.error(field_name, code, message)
    return ValidationFailed(p.items)


def _header(path: Path) -> tuple[str, list[str]]:
    """The delimiter (the most frequent candidate in the header line) and the column names."""
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        line = decode(first, "utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise _fail(
            path.name,
            "encoding",
            "berkas bukan UTF-8; simpan ulang sebagai CSV UTF-8 / the file is not UTF-8: save it "
            "again as CSV UTF-8",
        ) from None
    delimiter = sniff_delimiter(line)
    if delimiter not in line:  # sniff_delimiter's "," when the line has none of them
        raise _fail(
            path.name,
            "unreadable",
            f"baris judul tanpa pemisah kolom / the header line has no column separator "
            f"({' '.join(repr(d) for d in DELIMITERS)})",
        )
    return delimiter, next(csv.reader([line], delimiter=delimiter))


def _check_columns(p: Problems, header: list[str], wanted: dict[str, str]) -> None:
    """Every column the spec names exists exactly once; a near miss is suggested."""
    folded = {h.strip().casefold(): h for h in header}
    for column, where in wanted.items():
        n = header.count(column)
        if n == 1:
            continue
        if n > 1:
            p.error(column, "duplicate_column", f"kolom muncul {n} kali / column appears {n} times")
            continue
        near = folded.get(column.strip().casefold())
        if near is None:
            close = difflib.get_close_matches(column, header, n=1, cutoff=0.7)
            near = close[0] if close else None
        hint = f" — maksud Anda / did you mean {near!r}?" if near is not None else ""
        p.error(
            column,
            "missing_column",
            f"kolom tidak ada di survei / column not in the survey (named by {where}){hint}",
        )


def _read(path: Path, delimiter: str, columns: list[str]) -> pa.Table:
    try:
        return pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        text = str(exc)
        if "UTF8" in text or "UTF-8" in text:
            text = "bukan UTF-8; simpan ulang sebagai CSV UTF-8 / not UTF-8: save it as CSV UTF-8"
        raise _fail(
            path.name, "unreadable", f"CSV tidak terbaca / unreadable CSV: {text}"
        ) from None


class _Columns:
    """The survey's columns as stripped text, and parsed as numbers on request."""

    def __init__(self, table: pa.Table, decimal_comma: bool) -> None:
        self.table, self.decimal_comma = table, decimal_comma
        self.n = table.num_rows
        self._encoded: dict[str, tuple[list[str], npt.NDArray[np.intp]]] = {}

    def encoded(self, column: str) -> tuple[list[str], npt.NDArray[np.intp]]:
        """(distinct stripped values, index of each row's value): one hash pass, no sort."""
        if column not in self._encoded:
            col = pc.utf8_trim_whitespace(self.table[column]).combine_chunks()
            enc = pc.dictionary_encode(col)
            self._encoded[column] = (
                [str(v) for v in enc.dictionary.to_pylist()],
                np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.intp),
            )
        return self._encoded[column]

    def text(self, column: str, label: Callable[[str], str] | None = None) -> OBJ:
        uniq, idx = self.encoded(column)
        labels = np.array([label(u) if label else u for u in uniq] or [""], dtype=object)
        return labels[idx] if self.n else _objects(0)

    def number(self, text: str) -> float | None:
        if self.decimal_comma and _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        try:
            v = float(text)
        except ValueError:
            return None
        return v if math.isfinite(v) else None

    def numeric(
        self, column: str, recode: dict[str, Any] | None = None, missing: tuple[str, ...] = ()
    ) -> tuple[F64, npt.NDArray[np.int8]]:
        """Values (nan unless OK) and the status of each row: OK, EMPTY, MISSING (declared in
        the spec) or TEXT (not a number and not recoded)."""
        uniq, idx = self.encoded(column)
        recode = recode or {}
        missing_text = set(missing)
        missing_numbers = {v for v in (self.number(m) for m in missing) if v is not None}
        values = np.full(len(uniq), np.nan)
        status = np.zeros(len(uniq), dtype=np.int8)
        for i, u in enumerate(uniq):
            if u == "":
                status[i] = EMPTY
            elif u in missing_text:
                status[i] = MISSING
            elif u in recode:
                values[i] = float(recode[u])
            else:
                v = self.number(u)
                if v is None:
                    status[i] = TEXT
                elif v in missing_numbers:
                    status[i] = MISSING
                else:
                    values[i] = v
        if not len(uniq):
            return np.zeros(0), np.zeros(0, dtype=np.int8)
        return values[idx], status[idx]


# --- pieces of the survey -------------------------------------------------------------------------


def _numeric_proxy(
    cols: _Columns, x: Proxy, keep: BOOL, p: Problems, notes: _Notes
) -> npt.NDArray[np.float64]:
    values, status = cols.numeric(x.column, x.recode, x.missing)
    where = f"proxies.{x.name}"
    text = np.flatnonzero((status == TEXT) & keep)
    filled = int(((status == OK) | (status == TEXT))[keep].sum())
    if len(text):
        raw = cols.text(x.column)
        examples = _examples(raw, text)
        fix = (
            f"add them to `recode`, e.g. recode = {{ {raw[text[0]]!r} = 1 }}, or to `missing`"
        ).replace("'", '"')
        if filled and len(text) > TEXT_SHARE_ERROR * filled:
            p.error(
                where,
                "not_numeric",
                f"kolom {x.column}: {len(text)} dari {filled} nilai bukan angka ({examples}); "
                f'tambahkan `recode` atau ubah kind = "categorical" / column {x.column}: '
                f"{len(text)} of {filled} values are not numbers; {fix}, or declare "
                f'kind = "categorical" (rows {_row_list(text)})',
            )
        else:
            notes.add(
                where,
                "not_numeric",
                f"kolom {x.column}: {len(text)} nilai bukan angka dianggap hilang ({examples}) / "
                f"column {x.column}: {len(text)} values are not numbers and count as missing; "
                f"{fix}",
                text,
            )
    absent = np.flatnonzero(((status == EMPTY) | (status == MISSING)) & keep)
    if len(absent):
        notes.add(
            where,
            "missing_values",
            f"kolom {x.column}: {len(absent)} nilai kosong/hilang / {len(absent)} values empty "
            "or declared missing (filled in the model; see missing_indicators)",
            absent,
        )
    return values


def _categorical_proxy(cols: _Columns, x: Proxy, keep: BOOL, notes: _Notes) -> OBJ:
    where = f"proxies.{x.name}"
    missing = set(x.missing)

    def label(u: str) -> str:
        if u in missing:
            return ""
        return str(x.recode.get(u, u))

    labels = cols.text(x.column, label)
    raw = cols.text(x.column)
    empty = np.flatnonzero((labels == "") & keep)
    if len(empty):
        notes.add(
            where,
            "empty_category",
            f'kolom {x.column}: {len(empty)} nilai kosong menjadi kategori "" / {len(empty)} '
            'empty or missing values become the level "" (a level of their own)',
            empty,
        )
    if x.recode:
        targets = set(x.recode.values())
        known = set(x.recode) | missing | targets | {""}
        uniq, idx = cols.encoded(x.column)
        unmapped_levels = np.array([u not in known for u in uniq] or [False])
        unmapped = np.flatnonzero(unmapped_levels[idx] & keep) if cols.n else np.zeros(0, np.intp)
        if len(unmapped):
            notes.add(
                where,
                "not_recoded",
                f"kolom {x.column}: {len(unmapped)} nilai tidak ada di recode, dipakai apa adanya "
                f"({_examples(raw, unmapped)}) / {len(unmapped)} values are not in `recode` and "
                "are kept as they are",
                unmapped,
            )
    return labels


def _groups(cols: _Columns, column: str, keep: BOOL, where: str, notes: _Notes) -> OBJ:
    values = cols.text(column)
    empty = np.flatnonzero((values == "") & keep)
    if len(empty):
        notes.add(
            where,
            "empty_group",
            f"kolom {column}: {len(empty)} baris tanpa kode / {len(empty)} rows have no code "
            '(they form one group "")',
            empty,
        )
    return values


def _check_area_codes(spec: Spec, area: OBJ, keep: BOOL, p: Problems) -> None:
    """Area codes must be prefixes of one length of the 10-digit village code when area effects
    are used (or when `area_level` says which), or the registry cannot find them at scoring."""
    codes = area[keep]
    present = codes[codes != ""]
    if not len(present):
        return
    lengths = np.fromiter((len(c) for c in present), dtype=np.int64, count=len(present))
    if spec.area_level:
        bad = np.flatnonzero(
            keep
            & (area != "")
            & np.array([not (len(c) == spec.area_level and c.isdigit()) for c in area], bool)
        )
        if len(bad):
            p.error(
                spec.area,
                "area_level",
                f"{len(bad)} kode bukan {spec.area_level} digit / {len(bad)} codes are not "
                f"{spec.area_level}-digit codes as survey.area_level says, e.g. "
                f"{_examples(area, bad, 3)} (rows {_row_list(bad)})",
            )
    elif spec.area_effects != "none" and len(set(lengths.tolist())) > 1:
        by_length = {
            int(k): int(v) for k, v in zip(*np.unique(lengths, return_counts=True), strict=True)
        }
        shown = ", ".join(f"{k} digits: {v} rows" for k, v in sorted(by_length.items()))
        p.error(
            "survey.area_level",
            "required",
            f"kode wilayah {spec.area} tidak sama panjang ({shown}); tetapkan survey.area_level "
            f"/ area codes in {spec.area} have different lengths ({shown}): set survey.area_level "
            "(2, 4, 6 or 10 digits) and write every code at that length",
        )


def _filter(cols: _Columns, spec: Spec, header: list[str], p: Problems, notes: _Notes) -> BOOL:
    """Rows kept by `[filters] keep`; missing numbers fail every comparison."""
    f = filter_parse(spec.filters)
    values: dict[str, npt.NDArray[Any]] = {}
    for column, kind in f.columns.items():
        if column not in header:
            close = difflib.get_close_matches(column, header, n=1, cutoff=0.7)
            hint = f" — maksud Anda / did you mean {close[0]!r}?" if close else ""
            p.error(
                "filters.keep",
                "missing_column",
                f"kolom tidak ada di survei / column {column!r} not in the survey{hint}",
            )
            continue
        if kind == "text":
            values[column] = cols.text(column)
            continue
        v, status = cols.numeric(column)
        text = np.flatnonzero(status == TEXT)
        if len(text):
            notes.add(
                "filters.keep",
                "not_numeric",
                f"kolom {column}: {len(text)} nilai bukan angka gagal setiap perbandingan "
                f"({_examples(cols.text(column), text)}) / {len(text)} values are not numbers and "
                "fail every comparison",
                text,
            )
        values[column] = v
    if p.errors:
        return np.ones(cols.n, dtype=bool)
    return rule_evaluate(Rule(f.expression, f.tree), values, cols.n)


def _class_index(cols: _Columns, spec: Spec) -> tuple[F64, npt.NDArray[np.int8]]:
    """Index of each row's class in spec.classes (nan when none) and the status: OK, EMPTY or
    TEXT (a value not among the classes). '2.0' matches class '2'."""
    uniq, idx = cols.encoded(spec.outcome)
    exact = {c: i for i, c in enumerate(spec.classes)}
    numeric = {cols.number(c): i for i, c in enumerate(spec.classes)}
    numeric.pop(None, None)
    out = np.full(len(uniq), np.nan)
    status = np.zeros(len(uniq), dtype=np.int8)
    for i, u in enumerate(uniq):
        if u == "":
            status[i] = EMPTY
        elif u in exact:
            out[i] = exact[u]
        elif (v := cols.number(u)) is not None and v in numeric:
            out[i] = numeric[v]
        else:
            status[i] = TEXT
    if not len(uniq):
        return np.zeros(0), np.zeros(0, dtype=np.int8)
    return out[idx], status[idx]


def _quota_share(cols: _Columns, spec: Spec, group: OBJ, keep: BOOL, p: Problems) -> F64:
    where = f"target.quota_column ({spec.quota_column})"
    share, status = cols.numeric(spec.quota_column)
    unread = np.flatnonzero((status != OK) & keep)
    if len(unread):
        p.error(
            spec.quota_column,
            "quota_missing",
            f"{where}: {len(unread)} baris tanpa kuota yang terbaca / {len(unread)} rows have no "
            f"readable quota share ({_examples(cols.text(spec.quota_column), unread, 3)}; rows "
            f"{_row_list(unread)})",
        )
    with np.errstate(invalid="ignore"):
        outside = np.flatnonzero(keep & (status == OK) & ((share < 0) | (share > 1)))
    if len(outside):
        p.error(
            spec.quota_column,
            "quota_range",
            f"{where}: {len(outside)} kuota di luar 0..1 / {len(outside)} quota shares outside "
            f"0..1 (write 30 % as 0.3), e.g. {share[outside[0]]:g} (rows {_row_list(outside)})",
        )
    ok = keep & (status == OK)
    if ok.any():
        codes, inv = np.unique(group[ok].astype(str), return_inverse=True)
        lo = np.full(len(codes), np.inf)
        hi = np.full(len(codes), -np.inf)
        np.minimum.at(lo, inv, share[ok])
        np.maximum.at(hi, inv, share[ok])
        differ = codes[hi - lo > 1e-9].tolist()
        if differ:
            p.error(
                spec.quota_column,
                "quota_varies",
                f"{where}: kuota berbeda dalam satu wilayah kuota / the quota share differs within "
                f"quota areas {', '.join(differ[:5])}{' ...' if len(differ) > 5 else ''}: give one "
                "share per area",
            )
    return share


# --- the survey ---------------------------------------------------------------------------------


def survey_read(path: Path, spec: Spec) -> Survey:
    """Read the spec's columns from a CSV. Rows without a usable outcome or weight, or outside the
    filter, are set aside and counted; raises ValidationFailed naming every problem."""
    p = Problems()
    notes = _Notes()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    delimiter, header = _header(path)
    continuous = spec.outcome_kind == "continuous"
    outcome_column = spec.consumption if continuous else spec.outcome
    named = {
        outcome_column: "survey.consumption" if continuous else "survey.outcome",
        spec.weight: "survey.weight",
        spec.area: "survey.area",
        spec.cv_group: "survey.cv_group",
        spec.quota_area: "survey.quota_area",
        spec.household_size: "survey.household_size",
        spec.quota_column: "target.quota_column",
        **{x.column: f"proxies.{x.name}" for x in reversed(spec.proxies)},
    }
    wanted = {c: where for c, where in named.items() if c}
    _check_columns(p, header, wanted)
    p.raise_if_errors()
    filter_columns = list(filter_parse(spec.filters).columns) if spec.filters else []
    columns = list(dict.fromkeys([*wanted, *(c for c in filter_columns if c in header)]))
    cols = _Columns(_read(path, delimiter, columns), decimal_comma=delimiter == ";")
    n = cols.n

    # Rows set aside, in this order: each row counts under its first reason.
    reasons: dict[str, BOOL] = {}
    if spec.filters:
        reasons["filtered"] = ~_filter(cols, spec, header, p, notes)
    consumption: F64 | None = None
    if continuous:
        consumption, status = cols.numeric(spec.consumption)
        with np.errstate(invalid="ignore"):
            reasons["consumption_missing_or_not_positive"] = ~(consumption > 0)
        text = np.flatnonzero(status == TEXT)
        if len(text):
            notes.add(
                "survey.consumption",
                "not_numeric",
                f"kolom {spec.consumption}: {len(text)} nilai bukan angka, baris disisihkan "
                f"({_examples(cols.text(spec.consumption), text)}) / {len(text)} values are not "
                "numbers; those rows are set aside",
                text,
            )
        index = np.zeros(n)
    else:
        index, status = _class_index(cols, spec)
        reasons["outcome_missing"] = status == EMPTY
        reasons["outcome_not_in_classes"] = status == TEXT
    if spec.weight:
        weight, wstatus = cols.numeric(spec.weight)
        with np.errstate(invalid="ignore"):
            reasons["weight_missing_or_not_positive"] = ~(weight > 0)
    else:
        weight = np.ones(n)
    size: F64 | None = None
    if spec.household_size:
        size, _ = cols.numeric(spec.household_size)
        with np.errstate(invalid="ignore"):
            reasons["household_size_missing_or_not_positive"] = ~(size > 0)

    keep = np.ones(n, dtype=bool)
    dropped: dict[str, list[int]] = {}
    dropped_count: dict[str, int] = {}
    for reason, mask in reasons.items():
        mask = mask & keep
        if mask.any():
            dropped[reason] = (np.flatnonzero(mask)[:DROPPED_ROWS] + 1).tolist()
            dropped_count[reason] = int(mask.sum())
        keep &= ~mask
    if not continuous and "outcome_not_in_classes" in dropped_count:
        rows = np.flatnonzero(
            reasons["outcome_not_in_classes"] & ~reasons.get("filtered", np.zeros(n, bool))
        )
        notes.add(
            "survey.outcome",
            "not_in_classes",
            f"kolom {spec.outcome}: {len(rows)} baris dengan nilai di luar classes disisihkan "
            f"({_examples(cols.text(spec.outcome), rows)}) / {len(rows)} rows whose value is not "
            f"among classes ({', '.join(spec.classes)}) are set aside",
            rows,
        )
    if spec.weight:
        text = np.flatnonzero((wstatus == TEXT) & ~reasons.get("filtered", np.zeros(n, bool)))
        if len(text):
            notes.add(
                "survey.weight",
                "not_numeric",
                f"kolom {spec.weight}: {len(text)} bobot bukan angka, baris disisihkan "
                f"({_examples(cols.text(spec.weight), text)}) / {len(text)} weights are not "
                "numbers; those rows are set aside",
                text,
            )

    # Proxies and groups, over the rows kept.
    proxies: dict[str, npt.NDArray[Any]] = {}
    for x in spec.proxies:
        if x.kind == "numeric":
            proxies[x.name] = _numeric_proxy(cols, x, keep, p, notes)
        else:
            proxies[x.name] = _categorical_proxy(cols, x, keep, notes)
    area = _groups(cols, spec.area, keep, "survey.area", notes) if spec.area else _objects(n)
    if spec.area:
        _check_area_codes(spec, area, keep, p)
    if spec.cv_group:
        cv_group = _groups(cols, spec.cv_group, keep, "survey.cv_group", notes)
    else:
        cv_group = area
    if spec.quota_scope == "area":
        quota_group = (
            _groups(cols, spec.quota_area, keep, "survey.quota_area", notes)
            if spec.quota_area
            else area
        )
    else:
        quota_group = _objects(n)
    quota_share = _quota_share(cols, spec, quota_group, keep, p) if spec.quota_column else None

    used = int(keep.sum())
    if used < MIN_ROWS:
        p.error(
            outcome_column,
            "too_few_rows",
            f"hanya {used} baris terpakai dari {n}; minimal {MIN_ROWS} / only {used} usable rows "
            f"of {n}; at least {MIN_ROWS} are needed (set aside: {dropped_count or 'none'})",
        )
    p.raise_if_errors()
    if used < spec.min_rows:
        notes.add(
            outcome_column,
            "few_rows",
            f"hanya {used} baris terpakai (< min_rows {spec.min_rows}); angka validasi silang "
            f"tidak stabil / only {used} usable rows (fewer than min_rows = {spec.min_rows}): "
            "cross-validated figures are noisy and the model may not generalise",
            np.zeros(0, dtype=np.intp),
            used,
        )

    # The outcome and who is poor, over the rows kept.
    w = weight[keep]
    w = w / w.mean()
    poverty_line: float | None = None
    if continuous:
        assert consumption is not None
        cons = consumption[keep]
        y = np.log(cons)
        if spec.poverty_line is not None:
            poverty_line = float(spec.poverty_line)
        else:
            share = spec.poor_share if spec.poor_share is not None else spec.quota
            persons = w * size[keep] if size is not None else w
            poverty_line = weighted_quantile(cons, persons, share)
        poor = cons <= poverty_line
        target_field = (
            "target.poverty_line" if spec.poverty_line is not None else "target.poor_share"
        )
    else:
        cons = None
        idx = index[keep]
        poor = np.isin(idx, [spec.classes.index(c) for c in spec.poor_classes])
        y = poor.astype(np.float64) if spec.outcome_kind == "binary" else idx.astype(np.float64)
        target_field = "survey.poor_classes"
        counts = np.bincount(idx.astype(np.int64), minlength=len(spec.classes))
        absent = [c for c, k in zip(spec.classes, counts, strict=True) if k == 0]
        if absent:
            notes.add(
                "survey.classes",
                "class_absent",
                f"kelas tanpa baris / classes with no usable row: {', '.join(absent)}",
                np.zeros(0, dtype=np.intp),
                len(absent),
            )
    if poor.all() or not poor.any():
        what = "semua / every" if poor.all() else "tidak ada / no"
        line = f" (garis / line {poverty_line:,.0f})" if poverty_line is not None else ""
        raise _fail(
            target_field,
            "target_degenerate",
            f"{what} rumah tangga miskin{line} / {what.split(' / ')[1]} usable household is poor"
            f"{line}: the target cannot separate anyone",
        )
    return Survey(
        y=y,
        weight=w,
        area=area[keep],
        proxies={k: v[keep] for k, v in proxies.items()},
        rows_read=n,
        dropped=dropped,
        dropped_count=dropped_count,
        sha256=digest.hexdigest(),
        file_name=path.name,
        poor=np.asarray(poor, dtype=bool),
        consumption=cons,
        cv_group=cv_group[keep],
        quota_group=quota_group[keep],
        quota_share=quota_share[keep] if quota_share is not None else None,
        warnings=notes.items,
        poverty_line=poverty_line,
        rows=(np.flatnonzero(keep) + 1).astype(np.int64),
    )
