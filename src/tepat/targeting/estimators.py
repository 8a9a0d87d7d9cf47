"""The PMT model family: fit on a design matrix, predict a welfare index (lower = poorer).

Every estimator predicts on the *welfare* orientation, whatever the outcome:

- continuous outcome: log per-capita consumption;
- ordinal outcome: the class index (0 = poorest) or, for the cumulative logit, its latent index;
- binary outcome (1 = poor): the models are fitted on "not poor" (1 - y), so a linear or
  LightGBM regression predicts the probability of not being poor and the logit its log-odds.

Methods:

- ``ols``: weighted least squares, classical and cluster-robust (by CV group) standard errors.
- ``quantile``: weighted quantile regression by convolution smoothing (He et al. 2021).
- ``enet``: elastic net on standardised columns, penalty and mix chosen by an inner 5-fold CV on
  the training rows only (scikit-learn ``ElasticNetCV``), coefficients returned on the raw scale.
- ``logit``: weighted logistic regression of "not poor" (statsmodels-style Newton steps in numpy,
  a tiny ridge against separation); the score is the linear index.
- ``ordinal``: weighted cumulative logit, P(Y <= k) = F(theta_k - x'b) (scipy L-BFGS; statsmodels'
  OrderedModel takes no weights); the score is the latent index x'b.
- ``gbm``: LightGBM 4.7, weighted, one thread, deterministic; objective ``regression`` for a
  continuous outcome, ``binary`` (log-odds of not poor) for a binary one, and for an ordinal
  outcome a ``regression`` on the class index (the class ordering is kept; a multiclass model
  would throw it away). Saved as LightGBM's own text model, never a pickle.
- ``ensemble``: the average of its members' scores, each standardised by its mean and standard
  deviation on the training rows; the average is mapped back onto the outcome's scale by a
  weighted least-squares line fitted on the training rows (the ranking is the average's).

All of it is JSON: ``as_dict`` / ``estimator_from_dict``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tepat.targeting.evaluation import weighted_quantile

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

LINEAR_KINDS = ("ols", "quantile", "enet", "logit", "ordinal")
BASE_KINDS = (*LINEAR_KINDS, "gbm")
DEFAULT_MEMBERS = ("ols", "enet", "gbm")
ENET_L1_RATIOS = (0.1, 0.5, 0.9, 1.0)
ENET_ALPHAS = 40
ENET_INNER_FOLDS = 5
LOGIT_RIDGE = 1e-6  # per unit of weight, on standardised columns: keeps separated data finite
# LightGBM settings: shallow trees and a slow rate for a few thousand survey rows. Tests lower
# `num_boost_round` to keep the suite fast.
GBM_PARAMS: dict[str, Any] = {
    "num_boost_round": 300,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "lambda_l2": 1.0,
    "feature_fraction": 1.0,
}


class Estimator(Protocol):
    kind: str

    def predict(self, X: F64) -> F64: ...

    def as_dict(self) -> dict[str, Any]: ...


def welfare_target(y: F64, outcome_kind: str) -> F64:
    """The outcome oriented so that higher = richer (binary: 1 = not poor)."""
    return 1.0 - y if outcome_kind == "binary" else np.asarray(y, dtype=np.float64)


# --- linear estimators --------------------------------------------------------------------------


@dataclass
class LinearEstimator:
    """intercept + X @ coef. Standard errors (intercept first) when the method gives them."""

    kind: str
    intercept: float
    coef: F64
    se: F64 | None = None  # classical (model-based)
    se_cluster: F64 | None = None  # cluster-robust by CV group
    clusters: int = 0
    info: dict[str, Any] = field(default_factory=dict)  # alpha, l1_ratio, thresholds, ...

    on_outcome_scale = property(lambda self: self.kind in ("ols", "quantile", "enet"))

    def predict(self, X: F64) -> F64:
        return self.intercept + X @ self.coef

    def as_dict(self) -> dict[str, Any]:
        def floats(a: F64 | None) -> list[float | None] | None:
            if a is None:
                return None
            return [float(v) if math.isfinite(v) else None for v in a]

        return {
            "kind": self.kind,
            "intercept": float(self.intercept),
            "coef": [float(b) for b in self.coef],
            "se": floats(self.se),
            "se_cluster": floats(self.se_cluster),
            "clusters": self.clusters,
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LinearEstimator:
        def arr(v: Any) -> F64 | None:
            if v is None:
                return None
            return np.array([np.nan if x is None else x for x in v], dtype=np.float64)

        return cls(
            kind=str(d["kind"]),
            intercept=float(d["intercept"]),
            coef=np.asarray(d["coef"], dtype=np.float64),
            se=arr(d.get("se")),
            se_cluster=arr(d.get("se_cluster")),
            clusters=int(d.get("clusters", 0)),
            info=dict(d.get("info") or {}),
        )


def _with_intercept(X: F64) -> F64:
    return np.column_stack([np.ones(len(X)), X])


def _cluster_cov(
    bread: F64, scores: F64, groups: npt.NDArray[Any] | None, n: int
) -> tuple[F64 | None, int]:
    """Cluster-robust covariance: bread (sum_g s_g s_g') bread, with Stata's small-sample factor
    G/(G-1) (N-1)/(N-K). None with fewer than two groups."""
    if groups is None or not len(groups):
        return None, 0
    _, inv = np.unique(groups, return_inverse=True)
    g = int(inv.max()) + 1
    if g < 2:
        return None, g
    summed = np.zeros((g, scores.shape[1]))
    np.add.at(summed, inv, scores)
    k = scores.shape[1]
    factor = g / (g - 1) * (n - 1) / max(n - k, 1)
    return factor * bread @ (summed.T @ summed) @ bread, g


def _se(cov: F64 | None) -> F64 | None:
    return None if cov is None else np.sqrt(np.clip(np.diag(cov), 0, None))


def fit_linear(X: F64, y: F64, w: F64, *, method: str, quantile: float = 0.5) -> tuple[float, F64]:
    """(intercept, coefficients) of weighted OLS or weighted quantile regression."""
    from threadpoolctl import threadpool_limits

    # Tall, narrow matrices gain nothing from BLAS threads, and on a busy machine the threads
    # fight each other (measured: 4-10x slower); one thread per fit.
    with threadpool_limits(limits=1):
        A = _with_intercept(X)
        if method == "ols":
            sw = np.sqrt(w)
            beta, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
        elif method == "quantile":
            beta = _quantile_smoothed(A, y, w, quantile)
        else:
            raise ValueError(method)
    return float(beta[0]), np.asarray(beta[1:], dtype=np.float64)


def _ols(X: F64, y: F64, w: F64, groups: npt.NDArray[Any] | None) -> LinearEstimator:
    A = _with_intercept(X)
    sw = np.sqrt(w)
    solved, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
    beta = np.asarray(solved, dtype=np.float64)
    resid = y - A @ beta
    n, k = A.shape
    bread = np.asarray(np.linalg.pinv(A.T @ (A * w[:, None])), dtype=np.float64)
    sigma2 = float(np.sum(w * resid**2) / max(n - k, 1))
    cov_cluster, g = _cluster_cov(bread, A * (w * resid)[:, None], groups, n)
    return LinearEstimator(
        "ols", float(beta[0]), beta[1:].copy(), _se(bread * sigma2), _se(cov_cluster), g
    )


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


def _standardise(X: F64, w: F64) -> tuple[F64, F64, F64]:
    mean = np.average(X, axis=0, weights=w) if X.shape[1] else np.zeros(0)
    sd = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=w)) if X.shape[1] else np.zeros(0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return (X - mean) / sd, mean, sd


def _enet(X: F64, y: F64, w: F64, seed: int) -> LinearEstimator:
    from sklearn.linear_model import ElasticNetCV
    from sklearn.model_selection import KFold

    Z, mean, sd = _standardise(X, w)
    model = ElasticNetCV(
        l1_ratio=list(ENET_L1_RATIOS),
        alphas=ENET_ALPHAS,
        cv=KFold(min(ENET_INNER_FOLDS, len(y)), shuffle=True, random_state=seed % 2**32),
        max_iter=5000,
        random_state=seed % 2**32,
    )
    model.fit(Z, y, sample_weight=w)
    b = np.asarray(model.coef_, dtype=np.float64) / sd
    a = float(model.intercept_) - float(b @ mean)
    info = {
        "alpha": float(model.alpha_),
        "l1_ratio": float(model.l1_ratio_),
        "nonzero": int(np.count_nonzero(model.coef_)),
        "inner_folds": ENET_INNER_FOLDS,
    }
    return LinearEstimator("enet", a, b, info=info)


def _logit(X: F64, y01: F64, w: F64, groups: npt.NDArray[Any] | None) -> LinearEstimator:
    """Weighted logistic regression of y01 (1 = not poor) by Newton-Raphson on standardised
    columns, with a tiny ridge (not on the intercept) so that separated data stay finite."""
    from scipy.special import expit

    Z, mean, sd = _standardise(X, w)
    A = _with_intercept(Z)
    n, k = A.shape
    ridge = np.full(k, LOGIT_RIDGE * float(w.sum()))
    ridge[0] = 0.0
    p0 = float(np.clip(np.average(y01, weights=w), 1e-6, 1 - 1e-6))
    beta = np.zeros(k)
    beta[0] = math.log(p0 / (1 - p0))
    for _iteration in range(100):
        p = expit(A @ beta)
        grad = A.T @ (w * (y01 - p)) - ridge * beta
        hess = A.T @ (A * (w * p * (1 - p))[:, None]) + np.diag(ridge)
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        beta = beta + step
        if float(np.max(np.abs(step))) < 1e-9:
            break
    p = expit(A @ beta)
    bread = np.asarray(
        np.linalg.pinv(A.T @ (A * (w * p * (1 - p))[:, None]) + np.diag(ridge)), dtype=np.float64
    )
    cov_cluster, g = _cluster_cov(bread, A * (w * (y01 - p))[:, None], groups, n)
    # Back to raw columns: b = b_z / sd, a = a_z - sum(b mean); the delta method for the SEs.
    J = np.zeros((k, k))
    J[0, 0] = 1.0
    J[0, 1:] = -mean / sd
    J[1:, 1:] = np.diag(1 / sd)
    raw = J @ beta
    return LinearEstimator(
        "logit",
        float(raw[0]),
        raw[1:].copy(),
        _se(J @ bread @ J.T),
        None if cov_cluster is None else _se(J @ cov_cluster @ J.T),
        g,
    )


def _ordinal(
    X: F64, cls: F64, w: F64, groups: npt.NDArray[Any] | None, classes: int
) -> LinearEstimator:
    """Weighted cumulative logit: P(Y <= k) = F(theta_k - x'b), k = 0..K-2 (0 = poorest), so
    a higher x'b means richer. Thresholds parametrised as theta_0 + cumulative exp steps."""
    from scipy.optimize import minimize
    from scipy.special import expit

    Z, mean, sd = _standardise(X, w)
    n, p = Z.shape
    y = cls.astype(np.int64)
    K = max(classes, int(y.max()) + 1)
    m = K - 1
    if m < 1:
        raise ValueError("ordinal: one class only")
    cum = np.cumsum(np.bincount(y, weights=w, minlength=K))[:-1] / w.sum()
    cum = np.clip(cum, 1e-3, 1 - 1e-3)
    theta0 = np.log(cum / (1 - cum))
    theta0 = np.maximum.accumulate(theta0 + np.arange(m) * 1e-3)
    start = np.concatenate([[theta0[0]], np.log(np.maximum(np.diff(theta0), 1e-3)), np.zeros(p)])
    has_upper = y < m
    has_lower = y > 0

    def pieces(par: F64) -> tuple[F64, F64, F64, F64, F64]:
        theta = par[0] + np.concatenate([[0.0], np.cumsum(np.exp(par[1:m]))])
        eta = Z @ par[m:]
        up = np.where(has_upper, theta[np.minimum(y, m - 1)] - eta, np.inf)
        lo = np.where(has_lower, theta[np.maximum(y - 1, 0)] - eta, -np.inf)
        Fu, Fl = expit(up), expit(lo)
        prob = np.clip(Fu - Fl, 1e-300, None)
        return theta, Fu, Fl, prob, eta

    def scores(par: F64) -> tuple[float, F64]:
        """Negative log-likelihood and per-row gradient contributions (n x (m + p))."""
        _theta, Fu, Fl, prob, _eta = pieces(par)
        fu, fl = Fu * (1 - Fu), Fl * (1 - Fl)
        S = np.zeros((n, m + p))
        d_up = np.where(has_upper, fu / prob, 0.0)  # d log P / d theta_y
        d_lo = np.where(has_lower, -fl / prob, 0.0)  # d log P / d theta_{y-1}
        # d theta_k / d par_0 = 1; d theta_k / d par_j = exp(par_j) for k >= j (j = 1..m-1).
        dtheta = np.zeros((m, m))
        dtheta[:, 0] = 1.0
        for j in range(1, m):
            dtheta[j:, j] = math.exp(par[j])
        iu, il = np.minimum(y, m - 1), np.maximum(y - 1, 0)
        S[:, :m] = d_up[:, None] * dtheta[iu] + d_lo[:, None] * dtheta[il]
        S[:, m:] = -(d_up + d_lo)[:, None] * Z
        S *= w[:, None]
        return -float(np.sum(w * np.log(prob))), S

    def objective(par: F64) -> tuple[float, F64]:
        value, S = scores(par)
        return value, -S.sum(axis=0)

    res = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    par = np.asarray(res.x, dtype=np.float64)
    theta = par[0] + np.concatenate([[0.0], np.cumsum(np.exp(par[1:m]))])
    # Observed information by central differences of the analytic gradient; SEs of b only.
    k = m + p
    H = np.zeros((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(par[j]))
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (objective(par + e)[1] - objective(par - e)[1]) / (2 * h)
    bread = np.asarray(np.linalg.pinv((H + H.T) / 2), dtype=np.float64)
    _, S = scores(par)
    b = par[m:] / sd
    se = np.sqrt(np.clip(np.diag(bread)[m:], 0, None)) / sd
    cov_cluster, g = _cluster_cov(bread, S, groups, n)
    se_cluster = _se(cov_cluster)
    # The intercept absorbs the centring, so that x'b on raw columns equals the latent index.
    return LinearEstimator(
        "ordinal",
        -float(b @ mean),
        b,
        np.concatenate([[np.nan], se]),
        None if se_cluster is None else np.concatenate([[np.nan], se_cluster[m:] / sd]),
        g,
        info={
            "thresholds": [float(t) for t in theta],
            "classes": K,
            "converged": bool(res.success),
        },
    )


# --- LightGBM -----------------------------------------------------------------------------------


@dataclass
class GbmEstimator:
    kind: str
    model_text: str
    objective: str
    _booster: Any = field(default=None, repr=False, compare=False)

    on_outcome_scale = property(lambda self: self.objective == "regression")

    @property
    def booster(self) -> Any:
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.model_text)
        return self._booster

    def predict(self, X: F64) -> F64:
        out = self.booster.predict(X, raw_score=True, num_threads=1)
        return np.asarray(out, dtype=np.float64)

    def contributions(self, X: F64) -> F64:
        """SHAP values (TreeSHAP) per column plus the expected value in the last column."""
        out = self.booster.predict(X, pred_contrib=True, num_threads=1)
        return np.asarray(out, dtype=np.float64)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "gbm", "objective": self.objective, "model": self.model_text}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GbmEstimator:
        return cls("gbm", str(d["model"]), str(d["objective"]))


def _gbm(X: F64, y_w: F64, w: F64, *, outcome_kind: str, seed: int) -> GbmEstimator:
    import lightgbm as lgb

    params = {k: v for k, v in GBM_PARAMS.items() if k != "num_boost_round"}
    objective = "binary" if outcome_kind == "binary" else "regression"
    params.update(
        {
            "objective": objective,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "seed": seed % 2**31,
            "verbosity": -1,
            "min_data_in_leaf": min(int(params["min_data_in_leaf"]), max(len(y_w) // 10, 2)),
        }
    )
    data = lgb.Dataset(X, label=y_w, weight=w, free_raw_data=True, params={"verbosity": -1})
    booster = lgb.train(params, data, num_boost_round=int(GBM_PARAMS["num_boost_round"]))
    return GbmEstimator("gbm", booster.model_to_string(), objective, booster)


# --- ensemble -----------------------------------------------------------------------------------


@dataclass
class EnsembleEstimator:
    kind: str
    members: list[Any]  # estimators
    centre: list[float]  # each member's weighted mean score on the training rows
    scale: list[float]  # ... and standard deviation
    intercept: float  # the average standardised score, back on the outcome's scale
    slope: float

    on_outcome_scale = property(lambda self: True)

    @property
    def member_kinds(self) -> list[str]:
        return [m.kind for m in self.members]

    def standardised(self, X: F64) -> F64:
        z = np.zeros(len(X))
        for m, c, s in zip(self.members, self.centre, self.scale, strict=True):
            z += (m.predict(X) - c) / s
        return z / max(len(self.members), 1)

    def predict(self, X: F64) -> F64:
        return self.intercept + self.slope * self.standardised(X)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "ensemble",
            "members": [m.as_dict() for m in self.members],
            "centre": self.centre,
            "scale": self.scale,
            "intercept": self.intercept,
            "slope": self.slope,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EnsembleEstimator:
        return cls(
            "ensemble",
            [estimator_from_dict(m) for m in d["members"]],
            [float(v) for v in d["centre"]],
            [float(v) for v in d["scale"]],
            float(d["intercept"]),
            float(d["slope"]),
        )


def ensemble_from(members: list[Any], X: F64, y_w: F64, w: F64) -> EnsembleEstimator:
    """An ensemble of already fitted members, standardised on these (training) rows."""
    if not members:
        raise ValueError("ensemble: no members")
    centre, scale = [], []
    for m in members:
        p = m.predict(X)
        mu = float(np.average(p, weights=w))
        sd = float(np.sqrt(np.average((p - mu) ** 2, weights=w)))
        centre.append(mu)
        scale.append(sd if sd > 1e-12 else 1.0)
    ens = EnsembleEstimator("ensemble", list(members), centre, scale, 0.0, 1.0)
    z = ens.standardised(X)
    zc = z - np.average(z, weights=w)
    denom = float(np.sum(w * zc**2))
    slope = float(np.sum(w * zc * (y_w - np.average(y_w, weights=w))) / denom) if denom else 0.0
    if slope <= 0:  # degenerate (members uninformative): keep the ranking, unit scale
        slope = 1.0
    ens.slope = slope
    ens.intercept = float(np.average(y_w, weights=w) - slope * np.average(z, weights=w))
    return ens


# --- the one entry point ------------------------------------------------------------------------


def estimator_fit(
    kind: str,
    X: F64,
    y: F64,
    w: F64,
    *,
    outcome_kind: str,
    spec: Any,
    names: list[str] | None = None,
    groups: npt.NDArray[Any] | None = None,
    poor: BOOL | None = None,
    members: list[Any] | None = None,
) -> Any:
    """Fit one method on the design matrix `X` (training rows only).

    `y` follows the Survey convention for `outcome_kind` (continuous: log consumption; binary:
    1 = poor; ordinal: class index, 0 = poorest). `groups` gives cluster-robust standard errors.
    `poor` lets the logit model the target when the outcome is not binary. An ensemble fits its
    members (the other methods of `spec.methods`, or ols + enet + gbm) unless `members` are given.
    """
    from threadpoolctl import threadpool_limits

    seed = int(getattr(spec, "seed", 20261128))
    y_w = welfare_target(y, outcome_kind)
    with threadpool_limits(limits=1):
        if kind == "ols":
            return _ols(X, y_w, w, groups)
        if kind == "quantile":
            intercept, coef = fit_linear(X, y_w, w, method="quantile", quantile=spec.quantile)
            return LinearEstimator(
                "quantile", intercept, coef, info={"quantile": float(spec.quantile)}
            )
        if kind == "enet":
            return _enet(X, y_w, w, seed)
        if kind == "logit":
            if outcome_kind == "binary":
                target = y_w
            elif poor is not None:
                target = 1.0 - np.asarray(poor, dtype=np.float64)
            else:
                raise ValueError("logit needs a binary outcome or the poor target")
            return _logit(X, target, w, groups)
        if kind == "ordinal":
            if outcome_kind == "continuous":
                raise ValueError("ordinal needs class outcomes")
            classes = len(getattr(spec, "classes", []) or []) or 2
            return _ordinal(X, y_w, w, groups, classes)
        if kind == "gbm":
            return _gbm(X, y_w, w, outcome_kind=outcome_kind, seed=seed)
        if kind == "ensemble":
            if members is None:
                wanted = [m for m in getattr(spec, "methods", []) if m in BASE_KINDS]
                wanted = wanted or list(DEFAULT_MEMBERS)
                members = [
                    estimator_fit(
                        m,
                        X,
                        y,
                        w,
                        outcome_kind=outcome_kind,
                        spec=spec,
                        names=names,
                        groups=groups,
                        poor=poor,
                    )
                    for m in wanted
                    if not (m == "ordinal" and outcome_kind == "continuous")
                ]
            return ensemble_from(members, X, y_w, w)
    raise ValueError(f"unknown method {kind!r}")


def estimator_from_dict(d: Mapping[str, Any]) -> Any:
    kind = d.get("kind")
    if kind in LINEAR_KINDS:
        return LinearEstimator.from_dict(d)
    if kind == "gbm":
        return GbmEstimator.from_dict(d)
    if kind == "ensemble":
        return EnsembleEstimator.from_dict(d)
    raise ValueError(f"unknown estimator kind {kind!r}")
