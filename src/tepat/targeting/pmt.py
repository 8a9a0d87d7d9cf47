"""Proxy-means test: fit log per-capita consumption on proxies, cross-validate, score, explain.

Pure numpy (+ scipy for smoothed quantile regression, scikit-learn for AUC and the gradient-boosting
comparison): no database here, so the same code serves the survey, the registry and benchmarks.
A fitted linear model is plain JSON (`LinearPmt.as_dict`): coefficients per proxy level, the
training centre of each proxy (for explanations) and the categorical levels, never a pickle.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tepat.core.errors import Problems, ValidationFailed
from tepat.targeting.spec import Proxy, Spec

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
TARGET_SHARE = 0.4  # bansos targets the bottom 40 %, not the poverty line (ANCHORS)
MIN_LEVEL_SHARE = 0.002  # rarer categorical levels fold into the reference level


@dataclass
class Survey:
    """The usable survey rows: log per-capita consumption, weights, areas and raw proxies."""

    y: F64
    weight: F64
    area: npt.NDArray[np.str_]
    proxies: dict[str, npt.NDArray[Any]]
    rows_read: int
    dropped: dict[str, list[int]]  # reason -> 1-based data row numbers (first few kept)
    dropped_count: dict[str, int]
    sha256: str
    file_name: str


def _as_float(col: pa.ChunkedArray, name: str, p: Problems) -> F64:
    try:
        return np.asarray(
            pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = col.to_pylist()
        out = np.full(len(values), np.nan)
        bad = 0
        for i, v in enumerate(values):
            if v is None or v == "":
                continue
            try:
                out[i] = float(v)
            except ValueError:
                bad += 1
                if bad <= 3:
                    p.warning(name, "not_a_number", f"bukan angka / not a number: {v!r}", i + 1)
        return out


def survey_read(path: Path, spec: Spec) -> Survey:
    """Read the spec's columns from a CSV; rows without a usable consumption are set aside."""
    p = Problems()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    wanted = [spec.consumption, spec.weight, spec.area, *(x.column for x in spec.proxies)]
    wanted = [w for w in dict.fromkeys(wanted) if w]
    try:
        header = pacsv.open_csv(path).schema.names
    except (pa.ArrowInvalid, OSError) as exc:
        p.error(path.name, "unreadable", f"CSV tidak terbaca / unreadable CSV: {exc}")
        p.raise_if_errors()
        raise
    for col in wanted:
        if col not in header:
            p.error(
                col,
                "missing_column",
                f"kolom tidak ada di survei / column not in survey {path.name}",
            )
    p.raise_if_errors()
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            include_columns=wanted,
            column_types=dict.fromkeys(wanted, pa.string()),
            strings_can_be_null=True,
        ),
    )
    n = table.num_rows
    cons = _as_float(table[spec.consumption], spec.consumption, p)
    weight = _as_float(table[spec.weight], spec.weight, p) if spec.weight else np.ones(n)
    area = (
        np.array(table[spec.area].fill_null("").to_pylist(), dtype="U16")
        if spec.area
        else np.full(n, "", dtype="U16")
    )
    raw: dict[str, npt.NDArray[Any]] = {}
    for x in spec.proxies:
        if x.kind == "numeric":
            raw[x.name] = _as_float(table[x.column], x.column, p)
        else:
            raw[x.name] = np.array(table[x.column].fill_null("").to_pylist(), dtype="U32")
    reasons = {
        "consumption_missing_or_not_positive": ~(cons > 0),
        "weight_missing_or_not_positive": ~(weight > 0),
    }
    keep = np.ones(n, dtype=bool)
    dropped: dict[str, list[int]] = {}
    dropped_count: dict[str, int] = {}
    for reason, mask in reasons.items():
        mask = mask & keep
        if mask.any():
            dropped[reason] = (np.flatnonzero(mask)[:20] + 1).tolist()
            dropped_count[reason] = int(mask.sum())
        keep &= ~mask
    if keep.sum() < 20:
        p.error(
            spec.consumption,
            "too_few_rows",
            f"hanya {int(keep.sum())} baris terpakai / too few usable rows",
        )
    p.raise_if_errors()
    return Survey(
        y=np.log(cons[keep]),
        weight=weight[keep] / weight[keep].mean(),
        area=area[keep],
        proxies={k: v[keep] for k, v in raw.items()},
        rows_read=n,
        dropped=dropped,
        dropped_count=dropped_count,
        sha256=digest.hexdigest(),
        file_name=path.name,
    )


# --- design matrix ----------------------------------------------------------------------------


@dataclass
class Design:
    """How raw proxies become columns: numeric fill values, categorical levels, areas."""

    proxies: list[Proxy]
    fill: dict[str, float]  # numeric proxy -> training median (after transform)
    levels: dict[str, list[str]]  # categorical proxy -> non-reference levels, in column order
    reference: dict[str, str]
    areas: list[str]  # area effects (non-reference areas); empty when off
    area_prefix: int  # village-code prefix length the areas are (0: none)

    @property
    def names(self) -> list[str]:
        out: list[str] = []
        for x in self.proxies:
            if x.kind == "numeric":
                out.append(x.name)
            else:
                out.extend(f"{x.name}={lv}" for lv in self.levels[x.name])
        out.extend(f"area={a}" for a in self.areas)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "proxies": [{"name": x.name, "kind": x.kind, "log": x.log} for x in self.proxies],
            "fill": self.fill,
            "levels": self.levels,
            "reference": self.reference,
            "areas": self.areas,
            "area_prefix": self.area_prefix,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Design:
        proxies = [Proxy(x["name"], x["name"], x["kind"], bool(x["log"])) for x in d["proxies"]]
        return cls(
            proxies, d["fill"], d["levels"], d["reference"], d["areas"], int(d["area_prefix"])
        )


def _transform(x: Proxy, values: npt.NDArray[Any]) -> F64:
    v = np.asarray(values, dtype=np.float64)
    return np.log1p(np.clip(v, 0, None)) if x.log else v


def design_fit(
    proxies: list[Proxy],
    raw: Mapping[str, npt.NDArray[Any]],
    weight: F64,
    area: npt.NDArray[np.str_],
    *,
    area_effects: bool,
) -> Design:
    fill: dict[str, float] = {}
    levels: dict[str, list[str]] = {}
    reference: dict[str, str] = {}
    total = float(weight.sum())
    for x in proxies:
        if x.kind == "numeric":
            v = _transform(x, raw[x.name])
            ok = ~np.isnan(v)
            fill[x.name] = float(np.median(v[ok])) if ok.any() else 0.0
        else:
            uniq, inv = np.unique(raw[x.name], return_inverse=True)
            share = np.bincount(inv, weights=weight, minlength=len(uniq)) / total
            ref = str(uniq[int(np.argmax(share))])
            reference[x.name] = ref
            levels[x.name] = [
                str(u)
                for u, s in zip(uniq, share, strict=True)
                if s >= MIN_LEVEL_SHARE and u != ref
            ]
    areas: list[str] = []
    prefix = 0
    if area_effects and len(area):
        uniq, counts = np.unique(area, return_counts=True)
        ref = str(uniq[int(np.argmax(counts))])
        areas = [str(a) for a in uniq if a != ref and a != ""]
    if len(area):
        lengths = {len(a) for a in np.unique(area) if a}
        prefix = lengths.pop() if len(lengths) == 1 else 0
    return Design(list(proxies), fill, levels, reference, areas, prefix)


def design_matrix(
    design: Design, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[np.str_] | None
) -> F64:
    n = len(next(iter(raw.values())))
    cols: list[F64] = []
    for x in design.proxies:
        if x.kind == "numeric":
            v = _transform(x, raw[x.name])
            cols.append(np.where(np.isnan(v), design.fill[x.name], v))
        else:
            values = raw[x.name]
            cols.extend((values == lv).astype(np.float64) for lv in design.levels[x.name])
    if design.areas:
        a = area if area is not None else np.full(n, "", dtype="U16")
        cols.extend((a == code).astype(np.float64) for code in design.areas)
    return np.column_stack(cols) if cols else np.zeros((n, 0))


# --- estimators -------------------------------------------------------------------------------


def fit_linear(X: F64, y: F64, w: F64, *, method: str, quantile: float = 0.5) -> tuple[float, F64]:
    """(intercept, coefficients) of weighted OLS or weighted quantile regression."""
    from threadpoolctl import threadpool_limits

    # Tall, narrow matrices gain nothing from BLAS threads, and on a busy machine the threads
    # fight each other (measured: 4-10x slower); one thread per fit.
    with threadpool_limits(limits=1):
        return _fit_linear(X, y, w, method=method, quantile=quantile)


def _fit_linear(X: F64, y: F64, w: F64, *, method: str, quantile: float) -> tuple[float, F64]:
    A = np.column_stack([np.ones(len(y)), X])
    if method == "ols":
        sw = np.sqrt(w)
        beta, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
    elif method == "quantile":
        beta = _quantile_smoothed(A, y, w, quantile)
    else:
        raise ValueError(method)
    return float(beta[0]), np.asarray(beta[1:], dtype=np.float64)


def _quantile_smoothed(A: F64, y: F64, w: F64, tau: float) -> F64:
    """Weighted quantile regression by convolution smoothing (He, Pan, Tan & Zhou 2021,
    "conquer"): the check loss smoothed with a Gaussian kernel of bandwidth h is convex and
    differentiable, so L-BFGS solves it in a second where an exact LP or IRLS takes minutes on a
    survey of 50k households; the estimate tends to the exact one as h shrinks.
    """
    from scipy.optimize import minimize
    from scipy.special import ndtr

    n, p = A.shape
    ww = w / w.sum()
    start, *_ = np.linalg.lstsq(A * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)
    resid = y - A @ start
    start[0] += weighted_quantile(resid, w, tau)
    scale = float(np.sqrt(np.average(resid**2, weights=w))) or 1.0
    h = scale * max(((p + math.log(n)) / n) ** 0.4, 0.05)
    sqrt_2pi = math.sqrt(2 * math.pi)

    def loss(beta: F64) -> tuple[float, F64]:
        r = y - A @ beta
        z = r / h
        value = np.sum(ww * (r * (tau - ndtr(-z)) + h * np.exp(-0.5 * z * z) / sqrt_2pi))
        grad = -(A.T @ (ww * (tau - ndtr(-z))))
        return float(value), grad

    res = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return np.asarray(res.x, dtype=np.float64)


def fit_gbm(X: F64, y: F64, w: F64, *, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.08, random_state=seed)
    model.fit(X, y, sample_weight=w)
    return model


# --- metrics ----------------------------------------------------------------------------------


def weighted_quantile(values: F64, weight: F64, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weight[order])
    idx = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(values[order][min(idx, len(values) - 1)])


def select_lowest(
    score: F64, weight: F64, coverage: float, group: npt.NDArray[Any] | None = None
) -> BOOL:
    """The lowest-scored households up to `coverage` of the weight, within each group (quota)."""
    n = len(score)
    g = np.zeros(n, dtype=np.int64) if group is None else np.unique(group, return_inverse=True)[1]
    order = np.lexsort((score, g))
    gs, ws = g[order], weight[order]
    cum = np.cumsum(ws)
    totals = np.bincount(gs, weights=ws)
    starts = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    before = cum - ws - starts[gs]
    chosen = np.zeros(n, dtype=bool)
    # A household is chosen when most of its weight lies inside the quota, so small areas round
    # to the nearest household rather than always up.
    chosen[order] = before + ws / 2 < coverage * totals[gs]
    return chosen


def targeting_errors(selected: BOOL, target: BOOL, weight: F64) -> dict[str, float]:
    """Inclusion error: share of the non-target who are selected; exclusion: share of the target
    missed (the definitions of Alatas et al. 2012, as in ANCHORS)."""
    w_t = float(weight[target].sum())
    w_nt = float(weight[~target].sum())
    return {
        "coverage": float(weight[selected].sum() / max(weight.sum(), 1e-12)),
        "inclusion_error": float(weight[selected & ~target].sum() / w_nt) if w_nt else 0.0,
        "exclusion_error": float(weight[~selected & target].sum() / w_t) if w_t else 0.0,
        "leakage": float(weight[selected & ~target].sum() / max(weight[selected].sum(), 1e-12)),
    }


def auc(score_poorer_is_lower: F64, target: BOOL, weight: F64) -> float:
    from sklearn.metrics import roc_auc_score

    if target.all() or not target.any():
        return float("nan")
    return float(roc_auc_score(target, -score_poorer_is_lower, sample_weight=weight))


def r2(y: F64, pred: F64, w: F64) -> float:
    mean = np.average(y, weights=w)
    return float(1 - np.sum(w * (y - pred) ** 2) / np.sum(w * (y - mean) ** 2))


def metrics(
    y: F64, pred: F64, w: F64, area: npt.NDArray[Any] | None, coverage: float
) -> dict[str, float]:
    target = y <= weighted_quantile(y, w, TARGET_SHARE)
    chosen = select_lowest(pred, w, coverage, area)
    out = {"r2": r2(y, pred, w), "auc_bottom40": auc(pred, target, w)}
    out.update(targeting_errors(chosen, target, w))
    return {k: (round(v, 4) if math.isfinite(v) else v) for k, v in out.items()}


def folds_for(n: int, k: int, area: npt.NDArray[Any] | None, seed: int) -> npt.NDArray[np.int64]:
    """Fold of each row: whole areas per fold when areas are given (no leakage across areas)."""
    rng = np.random.default_rng(seed)
    if area is not None and len(np.unique(area)) >= k:
        uniq, inv = np.unique(area, return_inverse=True)
        fold_of_area = rng.permutation(len(uniq)) % k
        return fold_of_area[inv].astype(np.int64)
    return (rng.permutation(n) % k).astype(np.int64)


# --- the linear PMT ---------------------------------------------------------------------------


def _lookup(values: npt.NDArray[Any], levels: list[str], coef: F64) -> F64:
    """coef[k] where values == levels[k], else 0 (the reference level or an unseen value).

    One vectorised comparison per level: sorting a million strings (np.unique) costs seconds,
    a comparison a few milliseconds.
    """
    out = np.zeros(len(values))
    for level, c in zip(levels, coef.tolist(), strict=True):
        if c:
            out[values == level] += c
    return out


@dataclass
class LinearPmt:
    design: Design
    intercept: float
    coef: F64
    centre: dict[str, float]  # proxy -> mean contribution in training (explanations)

    def predict_matrix(self, X: F64) -> F64:
        return self.intercept + X @ self.coef

    def predict(self, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[Any] | None) -> F64:
        """Scores without building the design matrix: categorical proxies become one table
        look-up over their distinct values, which keeps a million households to a few seconds."""
        n = len(next(iter(raw.values())))
        out = np.full(n, self.intercept)
        j = 0
        for x in self.design.proxies:
            if x.kind == "numeric":
                v = _transform(x, raw[x.name])
                out += self.coef[j] * np.where(np.isnan(v), self.design.fill[x.name], v)
                j += 1
                continue
            levels = self.design.levels[x.name]
            out += _lookup(raw[x.name], levels, self.coef[j : j + len(levels)])
            j += len(levels)
        if self.design.areas and area is not None:
            out += _lookup(area, self.design.areas, self.coef[j:])
        return out

    def contributions(
        self, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[Any] | None = None
    ) -> dict[str, F64]:
        """Per proxy, how far it moved each score from the training average (log points)."""
        X = design_matrix(self.design, raw, area)
        out: dict[str, F64] = {}
        j = 0
        for x in self.design.proxies:
            width = 1 if x.kind == "numeric" else len(self.design.levels[x.name])
            out[x.name] = X[:, j : j + width] @ self.coef[j : j + width] - self.centre[x.name]
            j += width
        if self.design.areas:
            out["area"] = X[:, j:] @ self.coef[j:] - self.centre.get("area", 0.0)
        return out

    def coefficients(self) -> dict[str, Any]:
        table: dict[str, Any] = {"intercept": self.intercept}
        for name, b in zip(self.design.names, self.coef, strict=True):
            table[name] = float(b)
        return table

    def as_dict(self) -> dict[str, Any]:
        return {
            "design": self.design.as_dict(),
            "intercept": self.intercept,
            "coef": [float(b) for b in self.coef],
            "centre": self.centre,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LinearPmt:
        return cls(
            Design.from_dict(d["design"]),
            float(d["intercept"]),
            np.asarray(d["coef"], dtype=np.float64),
            {k: float(v) for k, v in d["centre"].items()},
        )


def linear_fit(
    spec: Spec, raw: Mapping[str, npt.NDArray[Any]], y: F64, w: F64, area: npt.NDArray[Any]
) -> LinearPmt:
    design = design_fit(spec.proxies, raw, w, area, area_effects=spec.area_effects)
    X = design_matrix(design, raw, area)
    intercept, coef = fit_linear(X, y, w, method=spec.method, quantile=spec.quantile)
    model = LinearPmt(design, intercept, coef, {})
    zero = {k: 0.0 for k in [x.name for x in design.proxies] + ["area"]}
    model.centre = zero
    contrib = model.contributions(raw, area)
    model.centre = {k: float(np.average(v, weights=w)) for k, v in contrib.items()}
    return model


@dataclass
class Calibration:
    model: LinearPmt
    cv: dict[str, float]
    train: dict[str, float]
    summary: dict[str, Any]


def _subset(raw: Mapping[str, npt.NDArray[Any]], idx: npt.NDArray[np.intp]) -> dict[str, Any]:
    return {k: v[idx] for k, v in raw.items()}


def cross_validated(spec: Spec, s: Survey, *, method: str | None = None) -> F64:
    """Out-of-fold predictions of log consumption for `method` (ols | quantile | gbm)."""
    method = method or spec.method
    area = s.area if spec.area else None
    fold = folds_for(len(s.y), spec.folds, area, spec.seed)
    pred = np.empty(len(s.y))
    for k in range(spec.folds):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        if not len(te):
            continue
        raw_tr, raw_te = _subset(s.proxies, tr), _subset(s.proxies, te)
        if method == "gbm":
            from threadpoolctl import threadpool_limits

            design = design_fit(spec.proxies, raw_tr, s.weight[tr], s.area[tr], area_effects=False)
            # OpenMP threads on a shared machine thrash (measured: 600 rows took minutes).
            with threadpool_limits(limits=1):
                gbm = fit_gbm(
                    design_matrix(design, raw_tr, None), s.y[tr], s.weight[tr], seed=spec.seed
                )
                pred[te] = gbm.predict(design_matrix(design, raw_te, None))
            continue
        fold_spec = Spec(**{**spec.__dict__, "method": method})
        m = linear_fit(fold_spec, raw_tr, s.y[tr], s.weight[tr], s.area[tr])
        pred[te] = m.predict(raw_te, s.area[te])
    return pred


def training_summary(spec: Spec, s: Survey) -> dict[str, Any]:
    cons = np.exp(s.y)
    proxies: dict[str, Any] = {}
    for x in spec.proxies:
        v = s.proxies[x.name]
        if x.kind == "numeric":
            ok = ~np.isnan(v)
            proxies[x.name] = {
                "column": x.column,
                "kind": "numeric",
                "mean": round(float(np.average(v[ok], weights=s.weight[ok])), 3)
                if ok.any()
                else None,
                "min": float(v[ok].min()) if ok.any() else None,
                "max": float(v[ok].max()) if ok.any() else None,
                "missing_share": round(float(1 - ok.mean()), 4),
            }
        else:
            uniq, inv = np.unique(v, return_inverse=True)
            share = np.bincount(inv, weights=s.weight) / s.weight.sum()
            proxies[x.name] = {
                "column": x.column,
                "kind": "categorical",
                "levels": {
                    str(u) or "(kosong)": round(float(sh), 4)
                    for u, sh in zip(uniq, share, strict=True)
                },
            }
    return {
        "file": s.file_name,
        "sha256": s.sha256,
        "rows_read": s.rows_read,
        "rows_used": len(s.y),
        "rows_dropped": s.dropped_count,
        "dropped_rows_first": s.dropped,
        "areas": len(np.unique(s.area)) if spec.area else 0,
        "consumption_pc": {
            "p10": round(weighted_quantile(cons, s.weight, 0.1)),
            "p40": round(weighted_quantile(cons, s.weight, 0.4)),
            "median": round(weighted_quantile(cons, s.weight, 0.5)),
            "p90": round(weighted_quantile(cons, s.weight, 0.9)),
        },
        "proxies": proxies,
    }


def calibrate(spec: Spec, s: Survey) -> Calibration:
    area = s.area if spec.area else None
    pred_cv = cross_validated(spec, s)
    model = linear_fit(spec, s.proxies, s.y, s.weight, s.area)
    pred_train = model.predict(s.proxies, s.area)
    return Calibration(
        model=model,
        cv=metrics(s.y, pred_cv, s.weight, area, spec.coverage),
        train=metrics(s.y, pred_train, s.weight, area, spec.coverage),
        summary=training_summary(spec, s),
    )


def compare(
    spec: Spec, s: Survey, methods: tuple[str, ...] = ("ols", "quantile", "gbm")
) -> dict[str, dict[str, float]]:
    """Cross-validated metrics of each method on the same folds, side by side."""
    area = s.area if spec.area else None
    return {
        m: metrics(s.y, cross_validated(spec, s, method=m), s.weight, area, spec.coverage)
        for m in methods
    }


def validation_error(field: str, message: str) -> ValidationFailed:
    p = Problems()
    p.error(field, "invalid", message)
    return ValidationFailed(p.items)


# --- ranking ----------------------------------------------------------------------------------


def desil(score: F64, weight: F64, group: npt.NDArray[Any] | None = None) -> npt.NDArray[np.int8]:
    """Decile 1 (poorest) .. 10 by score, each holding a tenth of the weight (within each group)."""
    n = len(score)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    g = np.zeros(n, dtype=np.int64) if group is None else np.unique(group, return_inverse=True)[1]
    order = np.lexsort((score, g))
    gs, ws = g[order], weight[order]
    cum = np.cumsum(ws)
    totals = np.bincount(gs, weights=ws)
    starts = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    # Midpoint of each household's weight, so a household straddling a boundary goes where most
    # of it lies.
    share = (cum - ws / 2 - starts[gs]) / totals[gs]
    out = np.empty(n, dtype=np.int8)
    out[order] = np.clip(np.floor(share * 10).astype(np.int64) + 1, 1, 10)
    return out
