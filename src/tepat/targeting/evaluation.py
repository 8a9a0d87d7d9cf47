"""Targeting metrics: who is poor, who is selected at a quota, the errors, and CV folds.

Conventions used throughout:

- a score is a welfare index, LOWER = POORER (log consumption, or a linear index oriented so);
- `poor` is the target group (below a poverty line, the poorest share, or the poor classes);
- a quota is the share of the weight selected, nationally, within each quota group (area), or per
  area from a survey column or a quota file;
- every metric is a finite float or None (undefined, e.g. an AUC with no poor household): never
  NaN or inf, so a metrics dict always saves as JSON.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, overload

import numpy as np
import numpy.typing as npt

from tepat.core.errors import Problems
from tepat.core.reading import decode

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]
TARGET_SHARE = 0.4  # bansos targets the bottom 40 %, not the poverty line (ANCHORS)
QUOTA_COLUMNS = ("area", "quota", "households")


def weighted_quantile(values: F64, weight: F64, q: float) -> float:
    """The smallest value whose cumulative weight reaches `q` of the total."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weight[order])
    idx = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(values[order][min(idx, len(values) - 1)])


# --- who is poor ------------------------------------------------------------------------------


def poor_from_line(consumption: F64, line: float) -> BOOL:
    """Poor: per-capita consumption at or below the poverty line (a missing consumption is not)."""
    if not math.isfinite(line) or line <= 0:
        raise ValueError(f"poverty line must be a positive amount, got {line!r}")
    c = np.asarray(consumption, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.isfinite(c) & (c <= line), dtype=bool)


def poor_from_share(
    values: F64, weight: F64, share: float, person_weight: F64 | None = None
) -> BOOL:
    """Poor: the lowest `values` up to `share` of the weight (of persons when `person_weight`,
    e.g. weight x household size, is given: "the poorest 40 % of people").

    Households with the same value are one block: they are all poor or all not, whichever brings
    the poor share nearer to `share` (a block is poor when its midpoint lies inside the share;
    with no ties this is the household rule of `select_lowest`). So a survey whose bottom class
    holds 45 % of the weight gets a 45 % target at share 0.4, not 100 % (the old `y <= quantile`
    rule) and not 0 %. Missing values are never poor and do not count in the total.
    """
    if not 0 <= share <= 1:
        raise ValueError(f"poor share must lie in [0, 1], got {share!r}")
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weight if person_weight is None else person_weight, dtype=np.float64)
    out = np.zeros(len(v), dtype=bool)
    ok = np.flatnonzero(np.isfinite(v) & np.isfinite(w))
    if not len(ok):
        return out
    order = ok[np.argsort(v[ok], kind="stable")]
    vs, ws = v[order], w[order]
    block = np.cumsum(np.concatenate([[True], vs[1:] != vs[:-1]])) - 1
    bw = np.bincount(block, weights=ws)
    before = np.cumsum(bw) - bw
    out[order] = (before + bw / 2 < share * float(ws.sum()))[block]
    return out


def poor_target(s: Any) -> BOOL:
    """The target group of a survey (`Survey.poor`, computed when the survey is read)."""
    return np.asarray(s.poor, dtype=bool)


# --- quotas -----------------------------------------------------------------------------------


def _spec_quota(spec: Any) -> float:
    return float(getattr(spec, "quota", getattr(spec, "coverage", TARGET_SHARE)))


def quota_groups(
    spec: Any, s: Any, quota_table: Mapping[str, float] | None = None
) -> npt.NDArray[Any] | None:
    """The groups a quota applies within, or None for one national quota.

    Within areas when `quota_scope = "area"`, or whenever the quota is given per area (a quota
    column or a quota file): a per-area share only means something inside its area.
    """
    per_area = quota_table is not None or bool(getattr(spec, "quota_column", ""))
    if getattr(spec, "quota_scope", "national") != "area" and not per_area:
        return None
    group = getattr(s, "quota_group", None)
    if group is None:  # a Survey from before quota groups existed
        group = s.area if getattr(spec, "area", "") else None
    if group is None or not len(group) or not np.any(np.asarray(group) != ""):
        return None
    return np.asarray(group)


def quota_shares(
    spec: Any,
    s: Any,
    quota_table: Mapping[str, float] | None = None,
    *,
    warnings: list[dict[str, Any]] | None = None,
) -> F64:
    """The share selected in each row's quota group: from `quota_table` (area -> share, e.g.
    from `quota_table_read`), else the survey's quota column (`Survey.quota_share`), else the
    spec's one quota.

    Survey quota areas the table has no quota for are an error (nobody could be selected there
    honestly); table areas the survey does not hold, and a quota column that varies inside one
    quota area, are warnings appended to `warnings` ({"field", "code", "message", "count",
    "rows"}, as `Survey.warnings`).
    """
    n = len(s.weight)
    sink = warnings if warnings is not None else []
    if quota_table is not None:
        group = quota_groups(spec, s, quota_table)
        if group is None:
            _fail(
                "quota_file",
                "no_quota_area",
                "kuota per wilayah perlu kolom wilayah kuota (survey.quota_area atau "
                "survey.area) / a per-area quota needs a quota area column "
                "(survey.quota_area or survey.area)",
            )
        codes, inv = np.unique(group.astype(str), return_inverse=True)
        per_code = np.array([quota_table.get(str(c), np.nan) for c in codes], dtype=np.float64)
        missing = np.isnan(per_code)
        if missing.any():
            rows = np.flatnonzero(missing[inv])
            names = [str(c) for c in codes[missing]]
            _fail(
                "quota_file",
                "area_without_quota",
                f"{len(names)} wilayah survei ({len(rows)} baris) tanpa kuota / "
                f"{len(names)} survey areas ({len(rows)} rows) have no quota: "
                f"{', '.join(names[:5])}{' ...' if len(names) > 5 else ''}",
            )
        unknown = sorted(set(quota_table) - {str(c) for c in codes})
        if unknown:
            sink.append(
                _warning(
                    "quota_file",
                    "quota_area_not_in_survey",
                    f"{len(unknown)} wilayah di berkas kuota tidak ada di survei / "
                    f"{len(unknown)} quota areas are not in the survey: "
                    f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}",
                    len(unknown),
                )
            )
        return np.asarray(per_code[inv], dtype=np.float64)
    column = getattr(s, "quota_share", None)
    if column is not None:
        share = np.asarray(column, dtype=np.float64)
        bad = ~((share >= 0) & (share <= 1))  # NaN too
        if bad.any():
            rows = np.flatnonzero(bad)
            _fail(
                "survey.quota_column",
                "quota_share",
                f"{len(rows)} baris tanpa kuota 0..1 / {len(rows)} rows without a quota share "
                f"in 0..1 (rows {', '.join(str(r + 1) for r in rows[:5])})",
            )
        group = quota_groups(spec, s)
        if group is not None:
            _, inv = np.unique(group.astype(str), return_inverse=True)
            lo = np.full(inv.max() + 1, np.inf)
            hi = np.full(inv.max() + 1, -np.inf)
            np.minimum.at(lo, inv, share)
            np.maximum.at(hi, inv, share)
            varying = int(np.sum(hi - lo > 1e-9))
            if varying:
                sink.append(
                    _warning(
                        "survey.quota_column",
                        "quota_varies_in_area",
                        f"kuota berbeda di dalam {varying} wilayah; dipakai rata-rata "
                        f"tertimbang / the quota differs inside {varying} quota areas; their "
                        "weighted mean is used",
                        varying,
                    )
                )
        return share
    return np.full(n, _spec_quota(spec), dtype=np.float64)


def quota_table_read(path: Path) -> dict[str, float]:
    """Quotas per area from a CSV with columns `area,quota[,households]`.

    `quota` is a share (0..1) of the area's households, or, with a `households` column, a count
    of households (converted to quota / households). Comma-separated, or `;`-separated with
    decimal commas as spreadsheets in the Indonesian locale save it. Area codes are kept as text (leading zeros
    matter). Unknown columns, duplicate areas, non-numbers, shares outside 0..1 and counts above
    the households are errors naming the row; all are reported at once (ValidationFailed).
    """
    p = Problems()
    name = path.name
    try:
        text = decode(path.read_bytes(), "utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        p.error(name, "unreadable", f"berkas kuota tidak terbaca / unreadable quota file: {exc}")
        p.raise_if_errors()
        raise
    lines = text.splitlines()
    # Spreadsheets in the Indonesian locale save `;`-separated CSV with decimal commas (0,25).
    semicolon = bool(lines) and ";" in lines[0] and "," not in lines[0]
    reader = csv.DictReader(lines, delimiter=";" if semicolon else ",")
    header = [h.strip() for h in (reader.fieldnames or [])]
    unknown = [h for h in header if h not in QUOTA_COLUMNS]
    if unknown:
        p.error(
            name,
            "unknown_column",
            f"kolom tidak dikenal / unknown columns {unknown}; allowed {list(QUOTA_COLUMNS)}",
        )
    for required in ("area", "quota"):
        if required not in header:
            p.error(name, "missing_column", f"perlu kolom / needs a column `{required}`")
    p.raise_if_errors()
    counts = "households" in header
    out: dict[str, float] = {}
    first_row: dict[str, int] = {}
    bad = 0
    for row_no, row in enumerate(reader, start=2):  # row 1 is the header
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        problems_before = len(p.items)
        area = row.get("area", "")
        if not area:
            p.error("area", "required", "kode wilayah kosong / empty area code", row_no)
        quota = _number(row.get("quota", ""), decimal_comma=semicolon)
        households = _number(row.get("households", ""), decimal_comma=semicolon) if counts else None
        if quota is None or quota < 0:
            p.error(
                "quota", "not_a_number", "kuota bukan angka >= 0 / quota not a number >= 0", row_no
            )
        elif counts:
            if households is None or households <= 0:
                p.error(
                    "households",
                    "not_a_number",
                    "jumlah rumah tangga bukan angka > 0 / households not a number > 0",
                    row_no,
                )
            elif quota > households:
                p.error(
                    "quota",
                    "above_households",
                    f"kuota {quota:g} melebihi {households:g} rumah tangga / quota above the "
                    "households",
                    row_no,
                )
        elif quota > 1:
            p.error(
                "quota",
                "share",
                f"kuota {quota:g} bukan pangsa 0..1; untuk jumlah, tambah kolom households / "
                "not a share in 0..1; for a count add a `households` column",
                row_no,
            )
        if area in first_row:
            p.error(
                "area",
                "duplicate",
                f"wilayah {area} ganda (baris {first_row[area]}) / duplicate area (row "
                f"{first_row[area]})",
                row_no,
            )
        if len(p.items) > problems_before:
            bad += 1
            continue
        first_row[area] = row_no
        assert quota is not None
        out[area] = quota / households if counts and households else quota
    if bad > 20:
        kept = p.items[:20]
        p.items = kept
        p.error(name, "many_errors", f"{bad} baris bermasalah / {bad} rows with problems")
    if not out and not p.items:
        p.error(name, "empty", "berkas kuota kosong / the quota file has no rows")
    p.raise_if_errors()
    return out


def _number(text: str, *, decimal_comma: bool) -> float | None:
    try:
        v = float(text.replace(",", ".") if decimal_comma else text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _fail(field: str, code: str, message: str) -> NoReturn:
    p = Problems()
    p.error(field, code, message)
    p.raise_if_errors()
    raise AssertionError  # unreachable: raise_if_errors raised


def _warning(field: str, code: str, message: str, count: int) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message, "count": count, "rows": []}


# --- who is selected --------------------------------------------------------------------------


def select_lowest(
    score: F64,
    weight: F64,
    share: float | F64,
    group: npt.NDArray[Any] | None = None,
) -> BOOL:
    """The lowest-scored households up to `share` of the weight, within each group (quota).

    `share` is one number or one per row; with one per row a group selects the weighted mean of
    its rows' shares (the same number when, as usual, the share is constant within a group). A
    household is chosen when most of its weight lies inside the quota, so small areas round to
    the nearest household rather than always up. Ties in the score are taken in row order; a
    missing (NaN) score sorts last.
    """
    n = len(score)
    if n == 0:
        return np.zeros(0, dtype=bool)
    g = (
        np.zeros(n, dtype=np.int64)
        if group is None
        else np.unique(group, return_inverse=True)[1].astype(np.int64)
    )
    order = np.lexsort((score, g))
    gs, ws = g[order], weight[order]
    cum = np.cumsum(ws)
    totals = np.bincount(gs, weights=ws)
    starts = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    before = cum - ws - starts[gs]
    share_arr = np.asarray(share, dtype=np.float64)
    quota: F64 = (
        np.asarray(float(share_arr) * totals, dtype=np.float64)
        if share_arr.ndim == 0
        else np.bincount(g, weights=weight * share_arr, minlength=len(totals)).astype(np.float64)
    )
    chosen = np.zeros(n, dtype=bool)
    chosen[order] = before + ws / 2 < quota[gs]
    return chosen


# --- the errors -------------------------------------------------------------------------------


def targeting_errors(selected: BOOL, poor: BOOL, weight: F64) -> dict[str, float | None]:
    """Weighted targeting errors of a selection against the target group (`poor`).

    - coverage: share of all households selected;
    - poor_share: share of all households that are poor (the target group's size);
    - mistargeting: share of all households misclassified (poor and missed, or non-poor and
      selected), the "mistarget" outcome of Alatas, Banerjee, Hanna, Olken & Tobias (2012, AER);
    - inclusion_error: share of the NON-POOR who are selected (Alatas et al. 2012: "share of
      non-poor who received"; 0.18 for the PMT arm there);
    - exclusion_error: share of the POOR who are not selected (Alatas et al. 2012: "share of poor
      missed"; 0.52 for the PMT arm);
    - undercoverage: the same number as exclusion_error, under the name of Coady, Grosh &
      Hoddinott (2004) that many programme reports use;
    - leakage: share of the SELECTED who are non-poor (Coady et al.'s leakage; note it divides by
      the selected, where inclusion_error divides by the non-poor).

    None where the denominator is empty (no poor, no non-poor, nobody selected).
    """
    w = np.asarray(weight, dtype=np.float64)
    sel, tgt = np.asarray(selected, dtype=bool), np.asarray(poor, dtype=bool)
    total = float(w.sum())
    w_poor, w_nonpoor, w_sel = float(w[tgt].sum()), float(w[~tgt].sum()), float(w[sel].sum())
    w_included = float(w[sel & ~tgt].sum())
    w_excluded = float(w[~sel & tgt].sum())
    exclusion = _ratio(w_excluded, w_poor)
    return {
        "coverage": _ratio(w_sel, total),
        "poor_share": _ratio(w_poor, total),
        "mistargeting": _ratio(w_included + w_excluded, total),
        "inclusion_error": _ratio(w_included, w_nonpoor),
        "exclusion_error": exclusion,
        "undercoverage": exclusion,
        "leakage": _ratio(w_included, w_sel),
    }


def _ratio(a: float, b: float) -> float | None:
    if b <= 0 or not math.isfinite(a) or not math.isfinite(b):
        return None
    return a / b


def _auc(score: F64, poor: BOOL, weight: F64) -> tuple[float | None, str]:
    poor = np.asarray(poor, dtype=bool)
    if not poor.any():
        return None, "tidak ada rumah tangga miskin / no poor households"
    if poor.all():
        return None, "semua rumah tangga miskin / every household is poor"
    if not np.all(np.isfinite(score)):
        return None, "skor tidak terhingga atau kosong / a score is missing or infinite"
    from sklearn.metrics import roc_auc_score

    value = float(roc_auc_score(poor, -np.asarray(score), sample_weight=weight))
    if not math.isfinite(value):
        return None, "AUC tidak terdefinisi / AUC undefined"
    return value, ""


def auc(score_lower_is_poorer: F64, poor: BOOL, weight: F64) -> float | None:
    """Weighted probability that a poor household scores below a non-poor one (ties count half);
    None when there is no poor or no non-poor household, or a score is not finite."""
    return _auc(score_lower_is_poorer, poor, weight)[0]


def _r2(y: F64, pred: F64, w: F64) -> tuple[float | None, str]:
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(pred))):
        return None, "nilai tidak terhingga atau kosong / a value is missing or infinite"
    mean = np.average(y, weights=w)
    total = float(np.sum(w * (y - mean) ** 2))
    if total <= 0:
        return None, "hasil tanpa variasi / the outcome does not vary"
    return float(1 - np.sum(w * (y - pred) ** 2) / total), ""


def r2(y: F64, pred: F64, w: F64) -> float | None:
    """Weighted R² of `pred` for `y`; None when `y` does not vary or a value is not finite."""
    return _r2(y, pred, w)[0]


def _metrics_core(
    *,
    y: F64,
    poor: BOOL,
    weight: F64,
    pred: F64,
    share: float | F64,
    group: npt.NDArray[Any] | None,
    continuous: bool,
    auc_name: str,
    notes: dict[str, str] | None,
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    if continuous:
        out["r2"], why_r2 = _r2(y, pred, weight)
    else:
        out["r2"], why_r2 = None, "hanya untuk hasil kontinu / continuous outcomes only"
    out[auc_name], why_auc = _auc(pred, poor, weight)
    finite = np.isfinite(pred)
    chosen = select_lowest(np.where(finite, pred, np.inf), weight, share, group)
    out.update(targeting_errors(chosen, poor, weight))
    out = {k: _json_number(v) for k, v in out.items()}
    if notes is not None:
        why = {"r2": why_r2, auc_name: why_auc}
        for k, v in out.items():
            if v is None:
                notes[k] = why.get(k) or "penyebut kosong / empty denominator"
    return out


def _json_number(v: float | None) -> float | None:
    return round(v, 4) if v is not None and math.isfinite(v) else None


@overload
def metrics(
    s: Any,
    pred: F64,
    spec: Any,
    quota: float | F64 | None = None,
    *,
    quota_table: Mapping[str, float] | None = None,
    notes: dict[str, str] | None = None,
) -> dict[str, float | None]: ...
@overload
def metrics(
    s: F64,
    pred: F64,
    spec: F64,
    quota: npt.NDArray[Any] | None,
    coverage: float,
    *,
    notes: dict[str, str] | None = None,
) -> dict[str, float | None]: ...
def metrics(
    s: Any,
    pred: F64,
    spec: Any,
    quota: Any = None,
    coverage: float | None = None,
    *,
    quota_table: Mapping[str, float] | None = None,
    notes: dict[str, str] | None = None,
) -> dict[str, float | None]:
    """Fit and targeting metrics of a score (lower = poorer) on a survey, at the quota.

    `metrics(s, pred, spec, quota=None)`: `s` a Survey; the target is `s.poor`; `quota` a share
    or one per row (default: `quota_shares(spec, s, quota_table)`), applied within
    `quota_groups(spec, s)`. Keys: r2 (continuous outcomes only, else None), auc (against the
    target), and the `targeting_errors` at the quota. Every value is rounded to 4 places, or None
    when undefined; pass `notes={}` to learn why (metric -> reason).

    Old form, kept while callers move over: `metrics(y, pred, w, area, coverage)` -- the target
    is the bottom 40 % of `y` (ties as in `poor_from_share`), the AUC is named `auc_bottom40`.
    """
    if isinstance(s, np.ndarray):
        y = np.asarray(s, dtype=np.float64)
        w = np.asarray(spec, dtype=np.float64)
        poor = poor_from_share(y, w, TARGET_SHARE)
        return _metrics_core(
            y=y,
            poor=poor,
            weight=w,
            pred=pred,
            share=TARGET_SHARE if coverage is None else float(coverage),
            group=quota,
            continuous=True,
            auc_name="auc_bottom40",
            notes=notes,
        )
    share = quota_shares(spec, s, quota_table) if quota is None else quota
    return _metrics_core(
        y=np.asarray(s.y, dtype=np.float64),
        poor=poor_target(s),
        weight=np.asarray(s.weight, dtype=np.float64),
        pred=pred,
        share=share,
        group=quota_groups(spec, s, quota_table),
        continuous=getattr(spec, "outcome_kind", "continuous") == "continuous",
        auc_name="auc",
        notes=notes,
    )


def metrics_by_fold(
    s: Any,
    pred: F64,
    spec: Any,
    fold: I64,
    quota: float | F64 | None = None,
    *,
    quota_table: Mapping[str, float] | None = None,
) -> list[dict[str, float | None]]:
    """`metrics` of each fold's held-out rows (folds without rows are left out), for
    `fold_spread`. The target stays the survey's (`s.poor`); the quota is applied within each
    fold's rows of every quota group, so a quota group with no rows in a fold simply selects
    nobody there."""
    share = quota_shares(spec, s, quota_table) if quota is None else quota
    share_arr = np.broadcast_to(np.asarray(share, dtype=np.float64), (len(s.weight),))
    group = quota_groups(spec, s, quota_table)
    continuous = getattr(spec, "outcome_kind", "continuous") == "continuous"
    y, w, poor = np.asarray(s.y), np.asarray(s.weight), poor_target(s)
    out = []
    for k in np.unique(fold):
        te = np.flatnonzero(fold == k)
        out.append(
            _metrics_core(
                y=y[te],
                poor=poor[te],
                weight=w[te],
                pred=pred[te],
                share=share_arr[te],
                group=None if group is None else group[te],
                continuous=continuous,
                auc_name="auc",
                notes=None,
            )
        )
    return out


def fold_spread(per_fold: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per metric, over the folds where it is defined: mean, sd (sample, n - 1), se (sd / sqrt n,
    the "one standard error" of model selection), min, max and n (the folds counted)."""
    names: list[str] = []
    for m in per_fold:
        names.extend(k for k in m if k not in names)
    out: dict[str, dict[str, float | None]] = {}
    for name in names:
        vals = np.array(
            [
                float(m[name])
                for m in per_fold
                if isinstance(m.get(name), int | float) and math.isfinite(float(m[name]))
            ],
            dtype=np.float64,
        )
        n = len(vals)
        sd = float(np.std(vals, ddof=1)) if n >= 2 else None
        out[name] = {
            "mean": _json_number(float(vals.mean())) if n else None,
            "sd": _json_number(sd),
            "se": _json_number(sd / math.sqrt(n)) if sd is not None else None,
            "min": _json_number(float(vals.min())) if n else None,
            "max": _json_number(float(vals.max())) if n else None,
            "n": float(n),
        }
    return out


# --- folds ------------------------------------------------------------------------------------


def folds_for(n: int, k: int, groups: npt.NDArray[Any] | None, seed: int) -> tuple[I64, bool]:
    """(fold of each row, grouped): whole groups per fold (no leakage across villages or areas)
    when there are at least `k` distinct groups; otherwise rows are split at random and `grouped`
    is False -- the caller must record that and warn (`fold_warning`), since row folds let one
    area's households sit in both the training and the held-out data."""
    rng = np.random.default_rng(seed)
    if groups is not None:
        if len(groups) != n:
            raise ValueError(f"{len(groups)} fold groups for {n} rows")
        uniq, inv = np.unique(groups, return_inverse=True)
        if len(uniq) >= k and not (len(uniq) == 1 and uniq[0] == ""):
            fold_of_group = rng.permutation(len(uniq)) % k
            return fold_of_group[inv].astype(np.int64), True
    return (rng.permutation(n) % k).astype(np.int64), False


def fold_warning(groups: npt.NDArray[Any] | None, k: int, field: str) -> dict[str, Any] | None:
    """The model-card warning when folds were meant to be grouped by `field` (e.g.
    "survey.cv_group") but there are fewer groups than folds; None when there is nothing to say."""
    if groups is None or not np.any(np.asarray(groups) != ""):
        return None
    n_groups = len(np.unique(groups))
    if n_groups >= k:
        return None
    return _warning(
        field,
        "folds_not_grouped",
        f"hanya {n_groups} kelompok untuk {k} lipatan: lipatan dibagi per baris, sehingga "
        "rumah tangga satu wilayah ada di data latih dan uji (CV terlalu optimistis) / only "
        f"{n_groups} groups for {k} folds: folds are split by row, so one area's households sit "
        "in both training and held-out data (cross-validation is optimistic)",
        n_groups,
    )
