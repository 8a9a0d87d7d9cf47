"""Proxy-means test: a design, a fitted estimator and area effects, calibrated and compared.

Pure numpy (+ scipy, scikit-learn, LightGBM through `estimators`): no database here, so the same
code serves the survey, the registry and benchmarks. A fitted model is plain JSON
(`Pmt.as_dict`, format 2; `Pmt.from_dict` also reads the format-1 `LinearPmt` dicts saved by
older versions), never a pickle.

`calibrate` cross-validates every method of the spec on the same folds, measures each at the
programme's quota (`evaluation.metrics`), picks one (`auto`: the lowest mistargeting, but OLS is
kept unless another method beats it by more than one standard error of the per-fold difference),
fits it on every row and collects the warnings an analyst must see on the model card.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.core.errors import Problems
from tepat.targeting import estimators as est
from tepat.targeting.design import Design, design_fit, design_matrix
from tepat.targeting.evaluation import (
    TARGET_SHARE,
    fold_spread,
    folds_for,
    metrics,
    metrics_by_fold,
    quota_shares,
    weighted_quantile,
)
from tepat.targeting.spec import Spec
from tepat.targeting.survey import Survey

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

FORMAT = 2
CHUNK = 200_000  # rows per design matrix when scoring: bounded memory for any registry size
# Overfit: the chosen model misclassifies this much more of the households out of fold than in
# training (5 points of mistargeting), or loses this much R² (continuous outcomes).
OVERFIT_MISTARGETING_GAP = 0.05
OVERFIT_R2_GAP = 0.10
MIN_ROWS_ERROR = 20  # fewer usable rows than this: refuse (the spec's min_rows only warns)

__all__ = [
    "Calibration",
    "LinearPmt",
    "Pmt",
    "calibrate",
    "compare",
    "cross_validated",
    "desil",
]  # fmt: skip


def _warning(
    field: str, code: str, message: str, count: int = 0, rows: list[int] | None = None
) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message, "count": count, "rows": rows or []}


def _subset(raw: Mapping[str, npt.NDArray[Any]], idx: npt.NDArray[np.intp]) -> dict[str, Any]:
    return {k: v[idx] for k, v in raw.items()}


def _area_mode(spec: Any) -> str:
    """none | fixed | random, from the spec (the legacy boolean true means fixed)."""
    value = getattr(spec, "area_effects", "none")
    if isinstance(value, bool) or value is None:
        value = "fixed" if value else "none"
    mode = str(value) or "none"
    return mode if getattr(spec, "area", "") else "none"


def _fit_design(spec: Any, raw: Mapping[str, npt.NDArray[Any]], w: F64, area: Any) -> Design:
    """The design learnt from these (training) rows: the spec's transforms; fixed area columns
    only for fixed effects (random effects live in the Pmt)."""
    mode = _area_mode(spec)
    return design_fit(spec, raw, w, area, area_effects="fixed" if mode == "fixed" else "none")


def _column_contrib(estimator: Any, X: F64) -> F64:
    """n x p: what each design column adds to the score (its mean is removed later)."""
    if isinstance(estimator, est.LinearEstimator):
        return X * estimator.coef
    if isinstance(estimator, est.GbmEstimator):
        return estimator.contributions(X)[:, :-1]
    if isinstance(estimator, est.EnsembleEstimator):
        out = np.zeros_like(X)
        for m, s in zip(estimator.members, estimator.scale, strict=True):
            out += _column_contrib(m, X) / s
        return out * (estimator.slope / max(len(estimator.members), 1))
    raise TypeError(type(estimator).__name__)


# --- random area effects -----------------------------------------------------------------------


def random_area_effects(
    resid: F64, w: F64, area: npt.NDArray[Any]
) -> tuple[dict[str, float], dict[str, float]]:
    """Empirical-Bayes (James-Stein) shrinkage of each area's weighted mean residual.

    Within-area variance s2 pooled over areas; between-area variance tau2 by the method of
    moments (variance of the area means minus their mean sampling variance, at least 0); each
    area's effect is its mean residual times tau2 / (tau2 + s2 / n_a), n_a the area's effective
    sample size (Kish). Areas never seen get no effect (0): the honest prediction for them.
    """
    codes, inv = np.unique(np.asarray(area).astype(str), return_inverse=True)
    keep = codes != ""
    g = len(codes)
    sw = np.bincount(inv, weights=w, minlength=g)
    sw2 = np.bincount(inv, weights=w * w, minlength=g)
    mean = np.bincount(inv, weights=w * resid, minlength=g) / np.maximum(sw, 1e-12)
    n_eff = sw**2 / np.maximum(sw2, 1e-12)
    within = np.bincount(inv, weights=w * (resid - mean[inv]) ** 2, minlength=g)
    dof = float(np.sum(np.maximum(n_eff[keep] - 1, 0)))
    s2 = float(within[keep].sum() / max(float(sw[keep].sum()), 1e-12)) * (
        float(np.sum(n_eff[keep])) / max(dof, 1.0)
    )
    info = {"areas": float(keep.sum()), "within_variance": s2, "between_variance": 0.0}
    if keep.sum() < 2:
        return {}, info
    m, ne = mean[keep], n_eff[keep]
    grand = float(np.average(m, weights=ne))
    tau2 = max(float(np.average((m - grand) ** 2, weights=ne)) - float(np.mean(s2 / ne)), 0.0)
    info["between_variance"] = tau2
    shrink = tau2 / (tau2 + s2 / np.maximum(n_eff, 1e-12))
    effects = {
        str(c): round(float(e), 6)
        for c, e, k in zip(codes, shrink * mean, keep, strict=True)
        if k and e != 0.0
    }
    return effects, info


# --- the PMT -----------------------------------------------------------------------------------


@dataclass
class Pmt:
    """A fitted PMT: how proxies become columns, the estimator, and (random) area effects.

    Scores are a welfare index, lower = poorer (`estimators` module docstring)."""

    design: Design
    estimator: Any
    area_effect: dict[str, float] = field(default_factory=dict)  # random effects, shrunk
    area_prefix: int = 0  # village-code digits the area codes are (0: none)
    scoring: bool = True  # False when a proxy is survey-only (registry = false)
    outcome_kind: str = "continuous"
    area_mode: str = "none"  # none | fixed | random
    area_info: dict[str, float] = field(default_factory=dict)
    centre: dict[str, float] = field(default_factory=dict)  # proxy -> mean contribution
    legacy: bool = False  # read from a format-1 LinearPmt dict

    @property
    def method(self) -> str:
        return str(self.estimator.kind)

    # The old LinearPmt attributes, for callers not yet moved over.
    @property
    def intercept(self) -> float:
        return float(getattr(self.estimator, "intercept", 0.0))

    @property
    def coef(self) -> F64:
        return np.asarray(getattr(self.estimator, "coef", np.zeros(0)), dtype=np.float64)

    def _area_values(self, area: npt.NDArray[Any] | None, n: int) -> F64:
        out = np.zeros(n)
        if not self.area_effect or area is None:
            return out
        a = np.asarray(area)
        for code, e in self.area_effect.items():
            out[a == code] += e
        return out

    def predict_matrix(self, X: F64) -> F64:
        return np.asarray(self.estimator.predict(X), dtype=np.float64)

    def predict(
        self, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[Any] | None = None
    ) -> F64:
        """Scores of the rows of `raw` (columns by proxy name), in chunks of CHUNK rows so that
        no design matrix is larger than CHUNK x columns."""
        n = len(next(iter(raw.values()))) if raw else 0
        out = np.empty(n)
        for start in range(0, n, CHUNK):
            idx = np.arange(start, min(start + CHUNK, n))
            part = _subset(raw, idx)
            a = None if area is None else np.asarray(area)[idx]
            out[idx] = self.predict_matrix(design_matrix(self.design, part, a))
        return out + self._area_values(area, n)

    def _raw_contributions(
        self, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[Any] | None
    ) -> dict[str, F64]:
        X = design_matrix(self.design, raw, area)
        cols = _column_contrib(self.estimator, X)
        groups = self.design.column_groups().items()
        out = {name: cols[:, idx].sum(axis=1) for name, idx in groups}
        if self.area_effect:
            out["area"] = out.get("area", 0.0) + self._area_values(area, len(X))
        return out

    def contributions(
        self, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[Any] | None = None
    ) -> dict[str, F64]:
        """Per proxy (and "area"), how far it moved each score from the training average:
        coefficient x value for linear models, TreeSHAP values for LightGBM (summed over each
        proxy's columns), both minus their weighted training mean."""
        return {
            k: v - self.centre.get(k, 0.0) for k, v in self._raw_contributions(raw, area).items()
        }

    def coefficients(self) -> dict[str, float]:
        """{"intercept": .., column: coefficient} for linear models (an ensemble of linear
        members too); {} for models without coefficients (LightGBM). Standard errors:
        `coefficient_table`."""
        e = self.estimator
        if isinstance(e, est.EnsembleEstimator):
            if not all(isinstance(m, est.LinearEstimator) for m in e.members):
                return {}
            k = e.slope / len(e.members)
            a = e.intercept + sum(
                k * (m.intercept - c) / s
                for m, c, s in zip(e.members, e.centre, e.scale, strict=True)
            )
            b = sum(
                (k * m.coef / s for m, s in zip(e.members, e.scale, strict=True)),
                np.zeros(len(self.design.names)),
            )
            table = {"intercept": float(a)}
            table.update({n: float(v) for n, v in zip(self.design.names, b, strict=True)})
            return table
        if not isinstance(e, est.LinearEstimator):
            return {}
        table = {"intercept": float(e.intercept)}
        table.update({n: float(v) for n, v in zip(self.design.names, e.coef, strict=True)})
        return table

    def coefficient_table(self) -> list[dict[str, Any]]:
        """Rows {"name", "coef", "se", "se_cluster"} (SEs None where the method has none: the
        penalised and quantile fits, ensembles)."""
        e = self.estimator
        coefs = self.coefficients()
        se = getattr(e, "se", None)
        sc = getattr(e, "se_cluster", None)

        def at(a: F64 | None, j: int) -> float | None:
            if a is None or j >= len(a) or not math.isfinite(float(a[j])):
                return None
            return round(float(a[j]), 6)

        return [
            {"name": name, "coef": round(value, 6), "se": at(se, j), "se_cluster": at(sc, j)}
            for j, (name, value) in enumerate(coefs.items())
        ]

    def importance(
        self, raw: Mapping[str, npt.NDArray[Any]], area: npt.NDArray[Any] | None, w: F64
    ) -> dict[str, float]:
        """Weighted mean |contribution| per proxy (mean |SHAP| for LightGBM), largest first."""
        contrib = self.contributions(raw, area)
        imp = {k: float(np.average(np.abs(v), weights=w)) for k, v in contrib.items()}
        return {k: round(v, 6) for k, v in sorted(imp.items(), key=lambda kv: -kv[1])}

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "method": self.method,
            "outcome_kind": self.outcome_kind,
            "design": self.design.as_dict(),
            "estimator": self.estimator.as_dict(),
            "area_effects": {
                "mode": self.area_mode,
                "prefix": self.area_prefix,
                "effects": self.area_effect,
                "info": self.area_info,
            },
            "scoring": self.scoring,
            "centre": self.centre,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Pmt:
        if "format" not in d:  # format 1: LinearPmt {"design", "intercept", "coef", "centre"}
            design = Design.from_dict(d["design"])
            linear = est.LinearEstimator(
                "ols", float(d["intercept"]), np.asarray(d["coef"], dtype=np.float64)
            )
            return cls(
                design,
                linear,
                area_prefix=int(design.area_prefix),
                area_mode="fixed" if design.areas else "none",
                centre={k: float(v) for k, v in d["centre"].items()},
                legacy=True,
            )
        if int(d["format"]) != FORMAT:
            raise ValueError(f"unknown PMT format {d['format']!r}")
        areas = d.get("area_effects") or {}
        return cls(
            design=Design.from_dict(d["design"]),
            estimator=est.estimator_from_dict(d["estimator"]),
            area_effect={str(k): float(v) for k, v in (areas.get("effects") or {}).items()},
            area_prefix=int(areas.get("prefix", 0)),
            scoring=bool(d.get("scoring", True)),
            outcome_kind=str(d.get("outcome_kind", "continuous")),
            area_mode=str(areas.get("mode", "none")),
            area_info={k: float(v) for k, v in (areas.get("info") or {}).items()},
            centre={k: float(v) for k, v in (d.get("centre") or {}).items()},
        )


LinearPmt = Pmt  # the old name, kept for callers (engine, selectors) until they move over


# --- fitting -------------------------------------------------------------------------------------


def _target(s: Survey, kind: str, spec: Any) -> tuple[F64, str]:
    """(outcome, outcome kind) as the estimator sees it: the logit models the poor target itself
    when the outcome is not binary."""
    outcome_kind = getattr(spec, "outcome_kind", "continuous") or "continuous"
    if kind == "logit" and outcome_kind != "binary":
        return np.asarray(s.poor, dtype=np.float64), "binary"
    return np.asarray(s.y, dtype=np.float64), outcome_kind


def _fit_one(
    kind: str,
    spec: Any,
    s: Survey,
    design: Design,
    X: F64,
    idx: npt.NDArray[np.intp],
    members: list[Any] | None = None,
) -> Any:
    y, outcome_kind = _target(s, kind, spec)
    groups = _cv_groups(s, spec)
    return est.estimator_fit(
        kind, X, y[idx], s.weight[idx], outcome_kind=outcome_kind, spec=spec, names=design.names,
        groups=None if groups is None else groups[idx], poor=np.asarray(s.poor)[idx],
        members=members,
    )  # fmt: skip


def _cv_groups(s: Survey, spec: Any) -> npt.NDArray[Any] | None:
    groups = getattr(s, "cv_group", None)
    if groups is None and str(getattr(spec, "area", "") or ""):
        groups = s.area
    if groups is None or not len(groups) or not np.any(np.asarray(groups) != ""):
        return None
    return np.asarray(groups)


def _welfare(s: Survey, spec: Any) -> F64:
    return est.welfare_target(
        np.asarray(s.y, dtype=np.float64), getattr(spec, "outcome_kind", "continuous")
    )


def _area_prefix(spec: Any, s: Survey, design: Design) -> int:
    level = int(getattr(spec, "area_level", 0) or 0)
    if level:
        return level
    if design.area_prefix:
        return int(design.area_prefix)
    lengths = {len(a) for a in np.unique(np.asarray(s.area).astype(str)) if a}
    return lengths.pop() if len(lengths) == 1 else 0


def _random_on(kind_estimator: Any) -> bool:
    return bool(getattr(kind_estimator, "on_outcome_scale", False))


def _fitted_methods(spec: Any) -> tuple[list[str], list[str]]:
    """(methods compared, base methods fitted in each fold: the compared ones without the
    ensemble, plus the ensemble's default members when it has none of its own)."""
    methods = list(dict.fromkeys(getattr(spec, "methods", None) or [spec.method]))
    base = [m for m in methods if m != "ensemble"]
    if "ensemble" in methods and not base:
        base = list(est.DEFAULT_MEMBERS)
    return methods, base


def _check_methods(spec: Any, methods: list[str]) -> None:
    p = Problems()
    outcome_kind = getattr(spec, "outcome_kind", "continuous")
    for m in methods:
        if m not in (*est.BASE_KINDS, "ensemble"):
            p.error("model.methods", "method", f"metode tidak dikenal / unknown method {m!r}")
        if m == "ordinal" and outcome_kind == "continuous":
            p.error(
                "model.methods", "ordinal_needs_classes",
                "metode ordinal perlu hasil berkelas (survey.outcome, outcome_kind = ordinal "
                "atau binary) / the ordinal method needs a class outcome (survey.outcome with "
                "outcome_kind ordinal or binary)",
            )  # fmt: skip
    p.raise_if_errors()


def _fit_full(
    spec: Any, s: Survey, kind: str, base: list[str], warnings: list[dict[str, Any]] | None
) -> Pmt:
    """`kind` fitted on every row, with its design, area effects and contribution centres."""
    n = len(s.y)
    idx = np.arange(n)
    design = _fit_design(spec, s.proxies, s.weight, s.area)
    X = design_matrix(design, s.proxies, s.area)
    if kind == "ensemble":
        members = [_fit_one(m, spec, s, design, X, idx) for m in base]
        estimator = est.ensemble_from(members, X, _welfare(s, spec), s.weight)
    else:
        estimator = _fit_one(kind, spec, s, design, X, idx)
    model = Pmt(
        design,
        estimator,
        area_prefix=_area_prefix(spec, s, design),
        scoring=all(getattr(x, "registry", True) for x in spec.proxies),
        outcome_kind=getattr(spec, "outcome_kind", "continuous"),
        area_mode=_area_mode(spec),
    )
    if model.area_mode == "random":
        if _random_on(estimator):
            resid = _welfare(s, spec) - model.predict_matrix(X)
            model.area_effect, model.area_info = random_area_effects(resid, s.weight, s.area)
        elif warnings is not None:
            warnings.append(_random_not_applied(kind))
    if not design.area_prefix and model.area_prefix and model.area_effect:
        design.area_prefix = model.area_prefix  # older scoring code reads the design's prefix
    raw = model._raw_contributions(s.proxies, s.area)
    model.centre = {k: float(np.average(v, weights=s.weight)) for k, v in raw.items()}
    return model


def _random_not_applied(kind: str) -> dict[str, Any]:
    return _warning(
        "model.area_effects", "random_effects_not_applied",
        f"efek wilayah acak tidak dipakai untuk {kind}: skornya bukan pada skala hasil / random "
        f"area effects are not applied to {kind}: its score is not on the outcome's scale",
    )  # fmt: skip


# --- cross-validation ----------------------------------------------------------------------------


@dataclass
class CrossValidation:
    fold: npt.NDArray[np.int64]
    grouped: bool
    groups: int  # distinct CV groups (0: none)
    oof: dict[str, F64]  # method -> out-of-fold score per row
    quota: F64  # per-row quota share
    warnings: list[dict[str, Any]] = field(default_factory=list)


def cross_validate(
    spec: Any,
    s: Survey,
    methods: list[str] | None = None,
    quota_table: Mapping[str, float] | None = None,
) -> CrossValidation:
    """Out-of-fold scores of every method on the same folds (grouped by the CV group column when
    there are enough groups). The design, each estimator, the ensemble's standardisation and the
    random area effects are all fitted on the training folds only."""
    if methods is not None:
        spec = _with_methods(spec, methods)
    methods, base = _fitted_methods(spec)
    _check_methods(spec, methods)
    n = len(s.y)
    warnings: list[dict[str, Any]] = []
    groups = _cv_groups(s, spec)
    fold, grouped = folds_for(n, spec.folds, groups, spec.seed)
    n_groups = 0 if groups is None else len(np.unique(groups))
    if groups is not None and not grouped:
        warnings.append(
            _warning(
                "survey.cv_group", "folds_not_grouped",
                f"hanya {n_groups} kelompok CV untuk {spec.folds} lipatan: lipatan dibagi per "
                f"baris, sehingga rumah tangga satu wilayah ada di data latih dan uji (hasil CV "
                f"terlalu optimistis) / only {n_groups} CV groups for {spec.folds} folds: folds "
                "were split by rows, so one area's households sit in both training and held-out "
                "data (CV figures are optimistic)",
                n_groups,
            )
        )  # fmt: skip
    quota = quota_shares(spec, s, quota_table, warnings=warnings)
    oof = {m: np.full(n, np.nan) for m in methods}
    y_w = _welfare(s, spec)
    random = _area_mode(spec) == "random"
    skipped: set[str] = set()
    for k in range(spec.folds):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        if not len(te) or not len(tr):
            continue
        design = _fit_design(spec, _subset(s.proxies, tr), s.weight[tr], s.area[tr])
        X_tr = design_matrix(design, _subset(s.proxies, tr), s.area[tr])
        X_te = design_matrix(design, _subset(s.proxies, te), s.area[te])
        fitted = {m: _fit_one(m, spec, s, design, X_tr, tr) for m in base}
        if "ensemble" in methods:
            fitted["ensemble"] = est.ensemble_from(
                list(fitted.values()), X_tr, y_w[tr], s.weight[tr]
            )
        for m in methods:
            e = fitted[m]
            pred = e.predict(X_te)
            if random:
                if _random_on(e):
                    effects, _ = random_area_effects(
                        y_w[tr] - e.predict(X_tr), s.weight[tr], s.area[tr]
                    )
                    pred = pred + Pmt(design, e, area_effect=effects)._area_values(
                        s.area[te], len(te)
                    )
                else:
                    skipped.add(m)
            oof[m][te] = pred
    warnings.extend(_random_not_applied(m) for m in sorted(skipped))
    return CrossValidation(fold, grouped, n_groups, oof, quota, warnings)


def _with_methods(spec: Any, methods: list[str]) -> Any:
    from dataclasses import replace

    return replace(spec, methods=list(methods))


def cross_validated(spec: Spec, s: Survey, *, method: str | None = None) -> F64:
    """Out-of-fold scores of one method (old callers: benchmarks)."""
    method = method or spec.method
    return cross_validate(spec, s, [method]).oof[method]


# --- selection -----------------------------------------------------------------------------------


def _fold_values(per_fold: list[dict[str, Any]], key: str) -> F64:
    return np.array([np.nan if f.get(key) is None else float(f[key]) for f in per_fold])


def select_method(
    spec: Any, cv: dict[str, dict[str, Any]], per_fold: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Which method to keep, and why (Indonesian / English).

    `select = "auto"`: the lowest CV mistargeting at the quota; OLS is kept unless the best
    beats it by more than one standard error of the per-fold difference (a difference inside the
    fold noise is not worth a less transparent model). Otherwise the spec's method."""
    methods = list(cv)
    mode = getattr(spec, "select", "auto") or "auto"
    key = "mistargeting"

    def err(m: str) -> float:
        v = cv[m].get(key)
        return math.inf if v is None else float(v)

    best = min(methods, key=lambda m: (err(m), methods.index(m)))
    out: dict[str, Any] = {"mode": mode, "metric": key, "best": best, "baseline": None,
                           "difference": None, "se": None}  # fmt: skip
    if mode != "auto" and len(methods) == 1 and mode == methods[0]:
        out["chosen"] = mode
        out["reason"] = f"hanya satu metode ({mode}) / only one method ({mode})"
        return out
    if mode != "auto":
        out["chosen"] = mode
        out["reason"] = (
            f"dipilih oleh spesifikasi (select = {mode!r}); galat terendah: {best} / chosen by "
            f"the spec (select = {mode!r}); lowest error: {best}"
        )
        return out
    if best == "ols" or "ols" not in methods:
        out["chosen"] = best
        if len(methods) == 1:
            out["reason"] = (
                f"hanya satu metode dibandingkan ({best}) / only one method compared ({best})"
            )
        else:
            out["reason"] = (
                f"{best}: galat salah sasaran CV terendah pada kuota ({err(best):.4f}) / {best}: "
                f"lowest CV mistargeting at the quota ({err(best):.4f})"
            )
        return out
    d = _fold_values(per_fold[best], key) - _fold_values(per_fold["ols"], key)
    d = d[np.isfinite(d)]
    diff = float(d.mean()) if len(d) else 0.0
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) >= 2 else math.inf
    out.update({"baseline": "ols", "difference": round(diff, 4),
                "se": round(se, 4) if math.isfinite(se) else None})  # fmt: skip
    if -diff > se:
        out["chosen"] = best
        out["reason"] = (
            f"{best} mengalahkan OLS: salah sasaran {err(best):.4f} vs {err('ols'):.4f}, selisih "
            f"per lipatan {diff:+.4f} melebihi satu galat baku ({se:.4f}) / {best} beats OLS: "
            f"mistargeting {err(best):.4f} vs {err('ols'):.4f}, per-fold difference {diff:+.4f} "
            f"exceeds one standard error ({se:.4f})"
        )
    else:
        out["chosen"] = "ols"
        se_text = f"{se:.4f}" if math.isfinite(se) else "n/a"
        out["reason"] = (
            f"OLS dipertahankan: {best} lebih rendah ({err(best):.4f} vs {err('ols'):.4f}) tetapi "
            f"selisih per lipatan {diff:+.4f} tidak melebihi satu galat baku ({se_text}), masih "
            f"dalam derau lipatan / OLS kept: {best} is lower ({err(best):.4f} vs "
            f"{err('ols'):.4f}) but the per-fold difference {diff:+.4f} is within one standard "
            f"error ({se_text}), inside the fold noise"
        )
    return out


# --- calibration ---------------------------------------------------------------------------------


@dataclass
class Calibration:
    model: Pmt
    cv: dict[str, Any]  # the chosen method's CV metrics at the quota
    train: dict[str, Any]  # ... on the training rows
    summary: dict[str, Any]
    comparison: dict[str, dict[str, Any]] = field(default_factory=dict)  # method -> cv, folds
    selection: dict[str, Any] = field(default_factory=dict)
    oof: F64 = field(default_factory=lambda: np.zeros(0))  # chosen method, per survey row
    fold: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    folds: dict[str, Any] = field(default_factory=dict)  # k, grouped, groups, column, seed
    warnings: list[dict[str, Any]] = field(default_factory=list)
    coefficient_table: list[dict[str, Any]] = field(default_factory=list)  # with SEs (linear)
    importance: dict[str, float] = field(default_factory=dict)  # mean |SHAP| (LightGBM)

    @property
    def method(self) -> str:
        return self.model.method

    def predictions(self, s: Survey) -> dict[str, list[Any]]:
        """The chosen model's out-of-fold predictions per usable survey row (PmtModel.predictions)."""
        rows = np.asarray(getattr(s, "rows", np.zeros(0)))
        if len(rows) != len(s.y):  # a Survey built by hand, without row numbers
            rows = np.arange(1, len(s.y) + 1)
        return {
            "row": [int(r) for r in rows],
            "fold": [int(f) for f in self.fold],
            "outcome": [round(float(v), 6) for v in s.y],
            "poor": [int(bool(v)) for v in s.poor],
            "score": [round(float(v), 6) if math.isfinite(v) else None for v in self.oof],
            "weight": [round(float(v), 6) for v in s.weight],
        }


def compare(
    spec: Spec,
    s: Survey,
    methods: list[str] | tuple[str, ...] | None = None,
    quota_table: Mapping[str, float] | None = None,
) -> dict[str, dict[str, Any]]:
    """CV metrics at the quota of each method on the same folds, with the fold spread:
    {method: {"cv": metrics, "folds": fold_spread}}."""
    cv = cross_validate(spec, s, list(methods) if methods else None, quota_table)
    return _comparison(spec, s, cv, quota_table)[0]


def _comparison(
    spec: Any, s: Survey, cv: CrossValidation, quota_table: Mapping[str, float] | None
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    table: dict[str, dict[str, Any]] = {}
    per_fold: dict[str, list[dict[str, Any]]] = {}
    for m, pred in cv.oof.items():
        notes: dict[str, str] = {}
        block = metrics(s, pred, spec, cv.quota, quota_table=quota_table, notes=notes)
        per_fold[m] = metrics_by_fold(s, pred, spec, cv.fold, cv.quota, quota_table=quota_table)
        table[m] = {"cv": block, "folds": fold_spread(per_fold[m]), "notes": notes}
    return table, per_fold


def calibrate(spec: Spec, s: Survey, quota_table: Mapping[str, float] | None = None) -> Calibration:
    """Compare the spec's methods on the same folds, select one, fit it on every row."""
    n = len(s.y)
    if n < MIN_ROWS_ERROR:
        p = Problems()
        p.error("survey", "too_few_rows", f"hanya {n} baris terpakai; minimal {MIN_ROWS_ERROR} / "
                f"only {n} usable rows; at least {MIN_ROWS_ERROR} needed")  # fmt: skip
        p.raise_if_errors()
    warnings: list[dict[str, Any]] = [dict(w) for w in getattr(s, "warnings", []) or []]
    min_rows = int(getattr(spec, "min_rows", 200) or 0)
    if n < min_rows:
        warnings.append(
            _warning(
                "survey", "tiny_sample",
                f"hanya {n} baris terpakai (< min_rows {min_rows}): angka kinerja tidak stabil / "
                f"only {n} usable rows (< min_rows {min_rows}): the figures are unstable",
                n,
            )
        )  # fmt: skip
    cv = cross_validate(spec, s, None, quota_table)
    warnings.extend(cv.warnings)
    comparison, per_fold = _comparison(spec, s, cv, quota_table)
    cv_metrics = {m: c["cv"] for m, c in comparison.items()}
    selection = select_method(spec, cv_metrics, per_fold)
    chosen = selection["chosen"]
    _, base = _fitted_methods(spec)
    model = _fit_full(spec, s, chosen, base, warnings)
    pred_train = model.predict(s.proxies, s.area)
    train = metrics(s, pred_train, spec, cv.quota, quota_table=quota_table)
    chosen_cv = comparison[chosen]["cv"]
    warnings.extend(dict(w) for w in model.design.warnings)
    warnings.extend(_fit_warnings(chosen, chosen_cv, train))
    warnings = _without_repeats(warnings)
    summary = training_summary(spec, s)
    summary["target"] = target_summary(spec, s, quota_table)
    table = model.coefficient_table()
    importance = {} if table else model.importance(s.proxies, s.area, s.weight)
    if model.area_effect:
        summary["area_effects"] = {"mode": "random", "areas_with_effect": len(model.area_effect),
                                   **model.area_info}  # fmt: skip
    return Calibration(
        model=model,
        cv=chosen_cv,
        train=train,
        summary=summary,
        comparison=comparison,
        selection=selection,
        oof=cv.oof[chosen],
        fold=cv.fold,
        folds={
            "k": int(spec.folds),
            "grouped": bool(cv.grouped),
            "groups": cv.groups,
            "column": getattr(spec, "cv_group", "") or getattr(spec, "area", ""),
            "seed": int(spec.seed),
        },
        warnings=warnings,
        coefficient_table=table,
        importance=importance,
    )


def _without_repeats(warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One warning per fact: the design's note on how a proxy's missing values were filled
    supersedes the survey reader's count of them, and calibration's `tiny_sample` supersedes the
    survey reader's `few_rows` (the card lists the rows set aside separately)."""
    filled = {
        w["field"] for w in warnings if w.get("code") in {"missing_filled", "missing_indicator"}
    }
    tiny = any(w.get("code") == "tiny_sample" for w in warnings)
    return [
        w
        for w in warnings
        if not (w.get("code") == "missing_values" and w.get("field") in filled)
        and not (tiny and w.get("code") == "few_rows")
    ]


def _fit_warnings(
    method: str, cv: Mapping[str, Any], train: Mapping[str, Any]
) -> list[dict[str, Any]]:
    out = []
    r2_cv, r2_train = cv.get("r2"), train.get("r2")
    if r2_cv is not None and r2_cv < 0:
        out.append(
            _warning(
                "model", "negative_cv_r2",
                f"R² validasi silang {r2_cv:.3f} negatif: model lebih buruk dari rata-rata / "
                f"cross-validated R² {r2_cv:.3f} is negative: the model predicts worse than the "
                "mean",
            )
        )  # fmt: skip
    gap_m = None
    if cv.get("mistargeting") is not None and train.get("mistargeting") is not None:
        gap_m = float(cv["mistargeting"]) - float(train["mistargeting"])
    gap_r2 = None if r2_cv is None or r2_train is None else float(r2_train) - float(r2_cv)
    if (gap_m is not None and gap_m > OVERFIT_MISTARGETING_GAP) or (
        gap_r2 is not None and gap_r2 > OVERFIT_R2_GAP
    ):
        parts = []
        if gap_m is not None:
            parts.append(f"mistargeting +{gap_m:.3f}")
        if gap_r2 is not None:
            parts.append(f"R² -{gap_r2:.3f}")
        text = ", ".join(parts)
        out.append(
            _warning(
                "model", "overfit",
                f"{method} jauh lebih baik di data latih daripada di validasi silang ({text}; "
                f"ambang {OVERFIT_MISTARGETING_GAP} / {OVERFIT_R2_GAP}): kemungkinan overfit / "
                f"{method} does much better on the training rows than out of fold ({text}; "
                f"thresholds {OVERFIT_MISTARGETING_GAP} mistargeting, {OVERFIT_R2_GAP} R²): "
                "likely overfitted",
            )
        )  # fmt: skip
    return out


def target_summary(
    spec: Any, s: Survey, quota_table: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """Who is poor and who is selected, as the card states it."""
    poor = np.asarray(s.poor, dtype=bool)
    return {
        "outcome_kind": getattr(spec, "outcome_kind", "continuous"),
        "outcome": getattr(spec, "outcome", "") or getattr(spec, "consumption", ""),
        "poverty_line": getattr(s, "poverty_line", None),  # the amount defining `poor`
        "poverty_line_spec": getattr(spec, "poverty_line", None),  # as the spec gave it
        "poor_share_spec": getattr(spec, "poor_share", None),
        "poor_classes": list(getattr(spec, "poor_classes", []) or []),
        "poor_share": round(float(np.average(poor, weights=s.weight)), 4) if len(poor) else None,
        "quota": float(getattr(spec, "quota", getattr(spec, "coverage", TARGET_SHARE))),
        "quota_scope": getattr(spec, "quota_scope", "national"),
        "quota_area": getattr(spec, "quota_area", "") or getattr(spec, "area", ""),
        "quota_column": getattr(spec, "quota_column", ""),
        "quota_file": bool(quota_table),
        "quota_areas_in_file": len(quota_table) if quota_table else 0,
    }


def training_summary(spec: Spec, s: Survey) -> dict[str, Any]:
    proxies: dict[str, Any] = {}
    for x in spec.proxies:
        v = s.proxies[x.name]
        if x.kind == "numeric":
            v = np.asarray(v, dtype=np.float64)
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
            uniq, inv = np.unique(np.asarray(v).astype(str), return_inverse=True)
            share = np.bincount(inv, weights=s.weight) / s.weight.sum()
            proxies[x.name] = {
                "column": x.column,
                "kind": "categorical",
                "levels": {
                    str(u) or "(kosong)": round(float(sh), 4)
                    for u, sh in zip(uniq, share, strict=True)
                },
            }
    out: dict[str, Any] = {
        "file": s.file_name,
        "sha256": s.sha256,
        "rows_read": s.rows_read,
        "rows_used": len(s.y),
        "rows_dropped": s.dropped_count,
        "dropped_rows_first": s.dropped,
        "areas": len(np.unique(s.area)) if getattr(spec, "area", "") else 0,
        "proxies": proxies,
    }
    cons = getattr(s, "consumption", None)
    if cons is None and getattr(spec, "outcome_kind", "continuous") == "continuous":
        cons = np.exp(s.y)
    if cons is not None:
        cons = np.asarray(cons, dtype=np.float64)
        out["consumption_pc"] = {
            "p10": round(weighted_quantile(cons, s.weight, 0.1)),
            "p40": round(weighted_quantile(cons, s.weight, 0.4)),
            "median": round(weighted_quantile(cons, s.weight, 0.5)),
            "p90": round(weighted_quantile(cons, s.weight, 0.9)),
        }
    else:
        classes = list(getattr(spec, "classes", []) or [])
        counts = np.bincount(np.asarray(s.y, dtype=np.int64), weights=s.weight)
        out["classes"] = {
            (classes[i] if i < len(classes) else str(i)): round(float(c / s.weight.sum()), 4)
            for i, c in enumerate(counts)
        }
    return out


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
