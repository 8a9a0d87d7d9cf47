"""Targeting metrics: who is poor, who is selected at a quota, the errors, and CV folds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
TARGET_SHARE = 0.4  # bansos targets the bottom 40 %, not the poverty line (ANCHORS)


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
