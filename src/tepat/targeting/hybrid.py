"""Hybrid targeting: a proxy-means test combined with a village deliberation's ranking.

Pure numpy: arrays in, arrays and plain dicts out, no database (benchmarks call it directly).

Inputs, one element per household:
- `pmt`: the PMT welfare index, LOWER = POORER (the score of a scoring run). Must be finite.
- `community`: the deliberation's (musyawarah desa) order, LOWER = POORER: a full rank (1 = the
  poorest) or a yes/no list coded 0 = chosen by the meeting, 1 = not chosen. NaN = no
  information: the village held no deliberation, or the household is missing from its
  village's list (it then ranks after every listed household of that village).
- `village`: the group quotas apply within (a village code).
- `quota`: the share of each village's households (weighted) to select: a number, or one per
  household (the share of its village).
- `weight`: households (1, the default) or persons (household size).

Within a village, orders are compared as mid-rank percentiles in (0, 1) (ties share their
average; the PMT breaks every tie of the community order). Rules (`HybridRule.kind`):
- `pmt_only`: the PMT order.
- `community_only`: the community order.
- `shortlist` (k): the PMT shortlists the poorest k x quota of each village; the community
  re-ranks inside the shortlist and the quota is filled from it (the programme's verification
  practice: the meeting checks a longer PMT list). k >= 1; k = 1 is the PMT, a large k the
  community.
- `weighted` (weight): the average weight x community percentile + (1 - weight) x PMT percentile.
  weight = 0 is the PMT, 1 the community.
- `community_veto` (k): the PMT order, but a household the community does not place among its
  poorest k x quota is vetoed (moved after every household not vetoed).
In a village without any community information every rule falls back to the PMT order; such
villages are counted (`villages.fallback`), never dropped.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.core.errors import Problems
from tepat.targeting import evaluation

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

RULES = ("shortlist", "weighted", "community_veto", "community_only", "pmt_only")
LISTS = ("pmt", "community", "hybrid")  # the three lists `hybrid_compare` reports side by side
DEFAULT_K = 1.5
DEFAULT_WEIGHT = 0.5


@dataclass(frozen=True)
class HybridRule:
    """A combination rule as data (stored with a comparison, given on the CLI, page and API)."""

    kind: str = "shortlist"
    k: float = DEFAULT_K  # shortlist and community_veto: the PMT list / veto line, x quota
    weight: float = DEFAULT_WEIGHT  # weighted: the community's weight, 0..1

    def __post_init__(self) -> None:
        p = Problems()
        if self.kind not in RULES:
            p.error("rule", "choice", f"aturan harus salah satu / rule must be one of {RULES}")
        if not (isinstance(self.k, (int, float)) and math.isfinite(self.k) and self.k >= 1):
            p.error("k", "range", f"k harus >= 1 / k must be at least 1: {self.k}")
        w = self.weight
        if not (isinstance(w, (int, float)) and math.isfinite(w) and 0 <= w <= 1):
            p.error("weight", "range", f"bobot harus 0..1 / weight must be within 0..1: {w}")
        p.raise_if_errors()

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items()}

    @property
    def label(self) -> str:
        if self.kind in ("shortlist", "community_veto"):
            return f"{self.kind} (k={self.k:g})"
        if self.kind == "weighted":
            return f"weighted (community weight={self.weight:g})"
        return self.kind


def rule_from_dict(raw: dict[str, Any]) -> HybridRule:
    """A rule from a dict (JSON, a form): unknown keys are refused, naming the allowed ones."""
    allowed = ("kind", "k", "weight")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        p = Problems()
        for key in unknown:
            p.error(key, "unknown", f"kunci tidak dikenal / unknown key; allowed: {allowed}")
        p.raise_if_errors()
    return HybridRule(**{k: raw[k] for k in allowed if k in raw and raw[k] is not None})


def _groups(village: npt.NDArray[Any]) -> tuple[npt.NDArray[np.intp], int]:
    _, inv = np.unique(np.asarray(village), return_inverse=True)
    inv = inv.reshape(-1)
    return inv, int(inv.max()) + 1 if len(inv) else 0


def _weights(weight: F64 | None, n: int) -> F64:
    if weight is None:
        return np.ones(n)
    w = np.asarray(weight, dtype=np.float64)
    if len(w) != n or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("weight: one finite positive number per household")
    return w


def village_percentile(values: F64, village: npt.NDArray[Any], weight: F64 | None = None) -> F64:
    """Mid-rank percentile of each value within its village, in (0, 1), lower = poorer. Tied
    values share their average; NaN values rank after every number (tied among themselves)."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n == 0:
        return np.zeros(0)
    w = _weights(weight, n)
    g, k = _groups(village)
    key = np.where(np.isnan(v), np.inf, v)
    order = np.lexsort((key, g))
    gs, ks, ws = g[order], key[order], w[order]
    # A tie block is a run of equal (village, value); its members share its mid-point.
    new_block = np.r_[True, (gs[1:] != gs[:-1]) | (ks[1:] != ks[:-1])]
    block = np.cumsum(new_block) - 1
    block_w = np.bincount(block, weights=ws)
    totals = np.bincount(gs, weights=ws, minlength=k)
    cum = np.cumsum(ws)
    starts = np.r_[0.0, np.cumsum(totals)[:-1]]
    first = np.flatnonzero(new_block)
    before_block = cum[first] - ws[first] - starts[gs[first]]
    mid = (before_block + block_w / 2) / totals[gs[first]]
    out = np.empty(n)
    out[order] = mid[block]
    return out


def select_within(
    keys: tuple[F64, ...],
    village: npt.NDArray[Any],
    share: float | F64,
    weight: F64 | None = None,
) -> BOOL:
    """The households first in the order `keys` (the first key sorts first; the later ones break
    its ties; then row order) up to `share` of each village's weight. A household is chosen when
    most of its weight lies inside the quota (as `evaluation.select_lowest` rounds)."""
    n = len(village)
    if n == 0:
        return np.zeros(0, dtype=bool)
    w = _weights(weight, n)
    g, k = _groups(village)
    order = np.lexsort((np.arange(n), *reversed(keys), g))
    gs, ws = g[order], w[order]
    cum = np.cumsum(ws)
    totals = np.bincount(gs, weights=ws, minlength=k)
    starts = np.r_[0.0, np.cumsum(totals)[:-1]]
    before = cum - ws - starts[gs]
    q = np.broadcast_to(np.asarray(share, dtype=np.float64), (n,))[order]
    chosen = np.zeros(n, dtype=bool)
    chosen[order] = before + ws / 2 < q * totals[gs]
    return chosen


def _check(pmt: F64, community: F64, village: npt.NDArray[Any], quota: float | F64) -> None:
    p = Problems()
    n = len(pmt)
    if len(community) != n or len(village) != n:
        p.error("community", "length", "satu nilai per rumah tangga / one value per household")
    if not np.all(np.isfinite(pmt)):
        p.error("pmt", "finite", "skor PMT harus berupa angka / every PMT score must be finite")
    if np.any(np.isinf(community)):
        p.error("community", "finite", "peringkat tak hingga / an infinite community rank")
    q = np.asarray(quota, dtype=np.float64)
    if q.ndim and len(q) != n:
        p.error("quota", "length", "satu kuota per rumah tangga / one quota per household")
    if not np.all(np.isfinite(q)) or np.any(q <= 0) or np.any(q > 1):
        p.error("quota", "range", "kuota harus dalam (0, 1] / quota must be within (0, 1]")
    p.raise_if_errors()


@dataclass
class HybridOrder:
    """What a rule decided: the selection and how it came about."""

    selected: BOOL
    fallback: BOOL  # households of villages without a community ranking (PMT order used)
    community_pct: F64  # within-village community percentile (the PMT's in fallback villages)
    pmt_pct: F64


def hybrid_select(
    pmt: F64,
    community: F64,
    village: npt.NDArray[Any],
    quota: float | F64,
    rule: HybridRule,
    weight: F64 | None = None,
) -> HybridOrder:
    """Select `quota` of each village by `rule` (see the module docstring)."""
    pmt = np.asarray(pmt, dtype=np.float64)
    community = np.asarray(community, dtype=np.float64)
    _check(pmt, community, village, quota)
    g, k = _groups(village)
    known = ~np.isnan(community)
    village_known = np.bincount(g, weights=known, minlength=k) > 0
    fallback = ~village_known[g] if len(g) else np.zeros(0, dtype=bool)
    pmt_pct = village_percentile(pmt, village, weight)
    com_pct = np.where(fallback, pmt_pct, village_percentile(community, village, weight))
    q = np.asarray(quota, dtype=np.float64)
    # Rounded so that 1.5 x 0.3 is 0.45, not 0.44999999999999996 (a boundary household's fate
    # must not hang on binary floating point).
    line = np.minimum(np.round(rule.k * q, 9), 1.0)
    if rule.kind == "pmt_only":
        keys: tuple[F64, ...] = (pmt,)
    elif rule.kind == "community_only":
        keys = (com_pct, pmt)
    elif rule.kind == "weighted":
        keys = (rule.weight * com_pct + (1 - rule.weight) * pmt_pct, pmt)
    elif rule.kind == "shortlist":
        listed = select_within((pmt,), village, line, weight)
        keys = ((~listed).astype(np.float64), com_pct, pmt)
    else:  # community_veto
        vetoed = (com_pct > line) & ~fallback
        keys = (vetoed.astype(np.float64), pmt)
    selected = select_within(keys, village, q, weight)
    return HybridOrder(selected, fallback, com_pct, pmt_pct)


def overlap(a: BOOL, b: BOOL, weight: F64 | None = None) -> float | None:
    """Agreement of two lists: the weight in both over the weight of the larger list (1 = the
    same households; with equal quotas, the share of one list also on the other). None when
    both are empty."""
    w = _weights(weight, len(a))
    larger = max(float(w[a].sum()), float(w[b].sum()))
    return round(float(w[a & b].sum()) / larger, 4) if larger else None


def _errors(selected: BOOL, target: BOOL, w: F64) -> dict[str, float | None]:
    out: dict[str, Any] = dict(evaluation.targeting_errors(selected, target, w))
    if "mistargeting" not in out:
        out["mistargeting"] = float(w[selected != target].sum() / max(w.sum(), 1e-12))
    return {k: None if v is None else round(float(v), 4) for k, v in out.items()}


def _rank_corr(a: F64, b: F64, w: F64) -> float | None:
    if len(a) < 3:
        return None
    ma, mb = np.average(a, weights=w), np.average(b, weights=w)
    va = np.average((a - ma) ** 2, weights=w)
    vb = np.average((b - mb) ** 2, weights=w)
    if va <= 0 or vb <= 0:
        return None
    return round(float(np.average((a - ma) * (b - mb), weights=w) / math.sqrt(va * vb)), 4)


def hybrid_compare(
    pmt: F64,
    community: F64,
    village: npt.NDArray[Any],
    quota: float | F64,
    rule: HybridRule,
    *,
    truth: F64 | None = None,
    weight: F64 | None = None,
    target_share: float | None = None,
) -> dict[str, Any]:
    """The PMT alone, the community alone and the hybrid `rule`, side by side at the same quota
    per village: selections, agreement between the lists and, where `truth` (per-capita
    consumption, NaN where unknown) exists, the errors against the poorest `target_share`
    (weighted, over all households with truth; default: the quota, or its weighted mean).

    Returns a JSON-safe dict (no NaN): `lists` {pmt, community, hybrid} each with `selected`
    (households), `coverage` and, with truth, `all` and `ranked_villages` error blocks
    (mistargeting, inclusion_error, exclusion_error, leakage, coverage); `agreement` (overlap
    of each pair); `villages` {total, with_community, fallback}; `households` {total, ranked,
    in_fallback_villages, with_truth}; with truth, `rank_correlation` of each order with true
    consumption within villages that have a community ranking."""
    pmt = np.asarray(pmt, dtype=np.float64)
    community = np.asarray(community, dtype=np.float64)
    n = len(pmt)
    w = _weights(weight, n)
    orders = {
        "pmt": hybrid_select(pmt, community, village, quota, HybridRule("pmt_only"), w),
        "community": hybrid_select(pmt, community, village, quota, HybridRule("community_only"), w),
        "hybrid": hybrid_select(pmt, community, village, quota, rule, w),
    }
    fallback = orders["pmt"].fallback
    g, k = _groups(village)
    fallback_villages = len(np.unique(g[fallback])) if n else 0
    q = np.asarray(quota, dtype=np.float64)
    quota_out: float | str = round(float(q), 4) if not q.ndim else "per_village"
    if target_share is None:
        target_share = float(q) if not q.ndim else float(np.average(q, weights=w))
    if not (0 < target_share <= 1):
        p = Problems()
        p.error("target_share", "range", "harus dalam (0, 1] / must be within (0, 1]")
        p.raise_if_errors()
    lists: dict[str, dict[str, Any]] = {}
    for name, o in orders.items():
        lists[name] = {
            "selected": int(o.selected.sum()),
            "coverage": round(float(w[o.selected].sum() / max(w.sum(), 1e-12)), 4),
        }
    has_truth = np.zeros(n, dtype=bool) if truth is None else np.isfinite(truth)
    out: dict[str, Any] = {
        "rule": rule.as_dict(),
        "rule_label": rule.label,
        "quota": quota_out,
        "villages": {"total": k, "with_community": k - fallback_villages,
                     "fallback": fallback_villages},
        "households": {"total": n, "ranked": int((~np.isnan(community)).sum()),
                       "in_fallback_villages": int(fallback.sum()),
                       "with_truth": int(has_truth.sum())},
        "lists": lists,
        "agreement": {
            "pmt_community": overlap(orders["pmt"].selected, orders["community"].selected, w),
            "pmt_hybrid": overlap(orders["pmt"].selected, orders["hybrid"].selected, w),
            "community_hybrid": overlap(
                orders["community"].selected, orders["hybrid"].selected, w
            ),
        },
        "target_share": None,
        "rank_correlation": None,
    }  # fmt: skip
    if truth is not None and has_truth.any():
        t = np.asarray(truth, dtype=np.float64)
        cut = evaluation.weighted_quantile(t[has_truth], w[has_truth], target_share)
        target = has_truth & (t <= cut)
        ranked = has_truth & ~fallback
        for name, o in orders.items():
            lists[name]["all"] = _errors(o.selected[has_truth], target[has_truth], w[has_truth])
            lists[name]["ranked_villages"] = (
                _errors(o.selected[ranked], target[ranked], w[ranked]) if ranked.any() else None
            )
        out["target_share"] = round(target_share, 4)
        if ranked.any():
            # Pooled within-village rank correlation with true consumption, over the households
            # of ranked villages whose truth is known (percentiles recomputed among them).
            v, wr = np.asarray(village)[ranked], w[ranked]
            truth_pct = village_percentile(t[ranked], v, wr)
            out["rank_correlation"] = {
                "pmt": _rank_corr(village_percentile(pmt[ranked], v, wr), truth_pct, wr),
                "community": _rank_corr(
                    village_percentile(community[ranked], v, wr), truth_pct, wr
                ),
            }
    return out
