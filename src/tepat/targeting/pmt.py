"""Proxy-means test: fit log per-capita consumption on proxies, cross-validate, score, explain.

Pure numpy (+ scipy for smoothed quantile regression, scikit-learn for AUC and the gradient-boosting
comparison): no database here, so the same code serves the survey, the registry and benchmarks.
A fitted linear model is plain JSON (`LinearPmt.as_dict`): coefficients per proxy level, the
training centre of each proxy (for explanations) and the categorical levels, never a pickle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.core.errors import Problems, ValidationFailed
from tepat.targeting.spec import Spec

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]


# Moved to their own modules; re-exported while callers move over.
from tepat.targeting.design import Design, _transform, design_fit, design_matrix  # noqa: E402
from tepat.targeting.estimators import fit_gbm, fit_linear  # noqa: E402
from tepat.targeting.evaluation import (  # noqa: E402
    TARGET_SHARE,
    auc,
    folds_for,
    metrics,
    r2,
    select_lowest,
    targeting_errors,
    weighted_quantile,
)
from tepat.targeting.survey import Survey, survey_read  # noqa: E402

__all__ = [
    "TARGET_SHARE", "Design", "Survey", "auc", "design_fit", "design_matrix", "fit_gbm",
    "fit_linear", "folds_for", "metrics", "r2", "select_lowest", "survey_read",
    "targeting_errors", "weighted_quantile",
]  # fmt: skip


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
