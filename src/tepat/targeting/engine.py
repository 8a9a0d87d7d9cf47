"""Vectorised scoring, ranking, eligibility, quotas and evaluation over whole populations.

No database access here: callers pass numpy columns (from the registry through
`features.household_features`, or synthesised for benchmarks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.core.errors import Problems, TepatError
from tepat.targeting import pmt
from tepat.targeting.evaluation import TARGET_SHARE, weighted_quantile
from tepat.targeting.features import FeatureFrame
from tepat.targeting.rules import Rule, rule_evaluate

LEVEL_NAMES = {2: "province", 4: "regency", 6: "district", 10: "village"}
SIZE_BANDS = ("1", "2", "3", "4", "5", "6+")


def model_load(parameters: Mapping[str, Any]) -> Any:
    """The fitted model saved in `PmtModel.parameters`, any format (`pmt.Pmt.from_dict` reads the
    old LinearPmt dicts too; before it existed, `LinearPmt`)."""
    cls = getattr(pmt, "Pmt", None) or pmt.LinearPmt
    return cls.from_dict(parameters)


def model_area_prefix(model: Any) -> int:
    return int(getattr(model, "area_prefix", 0) or model.design.area_prefix or 0)


def _model_areas(model: Any) -> tuple[set[str], bool] | None:
    """(areas with an effect of their own, whether one more area is a fixed-effects reference
    that the model does not name), or None when the model has no area effects. Random effects:
    the areas with a non-zero shrunk effect (an area the survey never saw gets 0, and so does
    every area when the survey shows no variance between areas)."""
    random = dict(getattr(model, "area_effect", None) or {})
    fixed = list(model.design.areas or [])
    mode = getattr(model, "area_mode", None) or ("fixed" if fixed else "random" if random else "")
    if mode not in ("fixed", "random"):
        return None
    known = set(random) | set(fixed)
    reference = getattr(model.design, "area_reference", None) or getattr(
        model, "area_reference", None
    )
    if reference:
        known.add(str(reference))
    return known, mode == "fixed" and not reference


@dataclass
class ScoreCounts:
    """What scoring could not score as the survey would have, counted per household: registry
    values the model never saw (a categorical code without a coefficient: scored as the
    reference level), missing numbers (scored as the training median), and households whose
    area has no effect (random effects: 0, the honest value for an unseen area; fixed effects:
    the reference area's)."""

    households: int = 0
    unseen: dict[str, Counter[str]] = field(default_factory=dict)
    missing: Counter[str] = field(default_factory=Counter)
    area_effects: bool = False
    area_reference_unnamed: bool = False
    area_prefix_unknown: bool = False  # effects fitted, but no village-code prefix to match them
    areas_without_effect: Counter[str] = field(default_factory=Counter)

    def summary(self, top: int = 10) -> dict[str, Any]:
        out: dict[str, Any] = {
            "unseen_levels": {
                name: dict(c.most_common(top)) for name, c in sorted(self.unseen.items()) if c
            },
            "unseen_households": {
                name: int(sum(c.values())) for name, c in sorted(self.unseen.items()) if c
            },
            "missing_filled": {k: int(v) for k, v in sorted(self.missing.items()) if v},
        }
        if self.area_effects:
            out["areas_without_effect"] = {
                "households": int(sum(self.areas_without_effect.values())),
                "areas": len(self.areas_without_effect),
                "first": [a for a, _ in self.areas_without_effect.most_common(top)],
                "reference_unnamed": self.area_reference_unnamed,
                "prefix_unknown": self.area_prefix_unknown,
            }
        return out

    def warnings(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, c in sorted(self.unseen.items()):
            n = int(sum(c.values()))
            if not n:
                continue
            shown = ", ".join(f"{v or '(kosong)'!r} ({k})" for v, k in c.most_common(5))
            out.append({
                "field": name, "code": "unseen_levels", "count": n,
                "message": f"{n} rumah tangga dengan nilai {name} yang tidak dikenal model "
                f"(dinilai sebagai tingkat acuan): {shown} / {n} households have {name} values "
                f"the model never saw (scored as its reference level): {shown}",
            })  # fmt: skip
        for name, n in sorted(self.missing.items()):
            if n:
                out.append({
                    "field": name, "code": "missing_filled", "count": int(n),
                    "message": f"{n} rumah tangga tanpa nilai {name} (diisi median survei) / "
                    f"{n} households lack {name} (scored with the survey median)",
                })  # fmt: skip
        n = int(sum(self.areas_without_effect.values()))
        if self.area_prefix_unknown and n:
            out.append({
                "field": "area", "code": "area_prefix_unknown", "count": n,
                "message": f"efek wilayah model ini tidak dapat dicocokkan: panjang kode wilayahnya "
                f"tidak diketahui (kode survei beda panjang); {n} rumah tangga tanpa efek wilayah; "
                f"kalibrasi ulang dengan survey.area_level / the model's area effects cannot be "
                f"matched (its survey's area codes had different lengths, so their village-code "
                f"prefix is unknown): {n} households got no area effect; recalibrate with "
                "survey.area_level",
            })  # fmt: skip
        elif self.area_effects and n:
            note = (
                " (termasuk wilayah acuan / the reference area included)"
                if self.area_reference_unnamed
                else ""
            )
            out.append({
                "field": "area", "code": "areas_without_effect", "count": n,
                "message": f"{n} rumah tangga di {len(self.areas_without_effect)} wilayah tanpa "
                f"efek wilayah{note} / {n} households in {len(self.areas_without_effect)} areas "
                "the model has no effect for (random effects: 0; fixed effects: the reference "
                "area's)",
            })  # fmt: skip
        return out


def _count(model: Any, frame: FeatureFrame, area: npt.NDArray[Any] | None, c: ScoreCounts) -> None:
    design = model.design
    c.households += len(frame)
    for x in design.proxies:
        values = frame.columns[x.name]
        if x.kind == "numeric":
            c.missing[x.name] += int(np.isnan(np.asarray(values, dtype=np.float64)).sum())
            continue
        # Levels folded into the reference at training (too rare) were seen: not unseen.
        folded = list((getattr(design, "folded", None) or {}).get(x.name, {}))
        known = [*design.levels.get(x.name, []), design.reference.get(x.name, ""), *folded]
        seen = np.zeros(len(values), dtype=bool)
        for level in known:
            seen |= values == level
        if not seen.all():
            labels, counts = np.unique(values[~seen], return_counts=True)
            bucket = c.unseen.setdefault(x.name, Counter())
            for label, k in zip(labels, counts, strict=True):
                bucket[str(label)] += int(k)
    areas = _model_areas(model)
    if areas is None:
        return
    c.area_effects = True
    known_areas, c.area_reference_unnamed = areas
    if area is None:
        # Effects without a prefix (an old model fitted on area codes of mixed lengths): none
        # applies to any household. Counted as one unknown area ("").
        c.area_prefix_unknown = True
        c.areas_without_effect[""] += len(frame)
        return
    has = np.zeros(len(area), dtype=bool)
    for code in known_areas:
        has |= area == code
    if not has.all():
        labels, counts = np.unique(area[~has], return_counts=True)
        for label, k in zip(labels, counts, strict=True):
            c.areas_without_effect[str(label)] += int(k)


def score_frame(
    model: Any, frame: FeatureFrame, counts: ScoreCounts | None = None
) -> npt.NDArray[np.float64]:
    """Scores of `frame`'s households (lower = poorer). Refuses, naming each proxy, a model the
    registry cannot feed (compat.check_model_against_registry); counts into `counts` what it
    scored without the model having seen it."""
    from tepat.targeting import compat

    compat.raise_errors(compat.check_model_against_registry(model))
    missing = [x.name for x in model.design.proxies if x.name not in frame.columns]
    if missing:
        p = Problems()
        for name in missing:
            p.error(
                name,
                "unknown_proxy",
                "registri tidak punya proksi ini / the registry has no such proxy; the model cannot score it",
            )
        p.raise_if_errors()
    prefix = model_area_prefix(model)
    area = np.strings.slice(frame.village_code, 0, prefix) if prefix else None
    if counts is not None:
        _count(model, frame, area, counts)
    try:
        return np.asarray(model.predict(frame.columns, area), dtype=np.float64)
    except (ValueError, TypeError, KeyError) as exc:
        # A model saved before the spec-vs-registry checks may still not fit the registry's
        # columns; the analyst gets the reason, not a traceback.
        raise TepatError(
            f"model tidak dapat menskor registri / the model cannot score the registry: {exc}",
            code="model_incompatible",
            field="model",
        ) from exc


def rank_weights(frame: FeatureFrame, rank_by: str) -> npt.NDArray[np.float64]:
    if rank_by == "persons":
        return np.maximum(frame.columns["household_size"], 1.0)
    return np.ones(len(frame))


def rank(
    score: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    village_code: npt.NDArray[np.str_],
    regional_level: int,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """National and regional desil (1 = poorest tenth of households or persons)."""
    return pmt.desil(score, weight), pmt.desil(
        score, weight, region_key(village_code, regional_level)
    )


def rank_in_regions(
    score: npt.NDArray[np.float64], weight: npt.NDArray[np.float64], region: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """`rank` over region keys already computed (`region_key`), e.g. chunk by chunk."""
    return pmt.desil(score, weight), pmt.desil(score, weight, region)


def region_key(village_code: npt.NDArray[np.str_], level: int) -> npt.NDArray[Any]:
    """The region at `level` digits of each village code, as integers when every code is a
    10-digit number (grouping integers is far cheaper than grouping strings), else as strings."""
    if len(village_code) and np.all(np.strings.str_len(village_code) == 10):
        try:
            return village_code.astype(np.int64) // 10 ** (10 - level)
        except ValueError:
            pass
    return np.strings.slice(village_code, 0, level)


def rule_columns(
    frame: FeatureFrame,
    *,
    score: npt.NDArray[np.float64],
    desil_national: npt.NDArray[Any],
    desil_regional: npt.NDArray[Any],
    flags: Mapping[str, npt.NDArray[np.bool_]],
) -> dict[str, npt.NDArray[Any]]:
    cols: dict[str, npt.NDArray[Any]] = dict(frame.columns)
    cols["score"] = score
    cols["desil"] = np.asarray(desil_national, dtype=np.float64)
    cols["desil_regional"] = np.asarray(desil_regional, dtype=np.float64)
    for level, name in LEVEL_NAMES.items():
        cols[name] = np.strings.slice(frame.village_code, 0, level)
    for name, values in flags.items():
        cols[f"flags.{name}"] = values
    return cols


def allocate(total: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Split `total` over regions in proportion to `shares` (largest remainder, sums exactly)."""
    keys = sorted(shares)
    s = np.array([max(float(shares[k]), 0.0) for k in keys])
    if not keys or s.sum() <= 0 or total <= 0:
        return dict.fromkeys(keys, 0)
    exact = total * s / s.sum()
    base = np.floor(exact).astype(np.int64)
    left = int(total - base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:left]] += 1
    return {k: int(v) for k, v in zip(keys, base, strict=True)}


def select(
    *,
    eligible: npt.NDArray[np.bool_],
    score: npt.NDArray[np.float64],
    region: npt.NDArray[Any],
    quotas: Mapping[str, int] | None,
) -> npt.NDArray[np.bool_]:
    """Eligible households, capped per region by its quota, poorest (lowest score) first."""
    if quotas is None:
        return eligible.copy()
    idx = np.flatnonzero(eligible)
    uniq, inv = np.unique(region[idx], return_inverse=True)
    order = np.lexsort((score[idx], inv))
    inv_sorted = inv[order]
    starts = np.searchsorted(inv_sorted, np.arange(len(uniq)))
    rank_in_region = np.arange(len(order)) - starts[inv_sorted]
    cap = np.array([quotas.get(str(u), 0) for u in uniq], dtype=np.int64)
    chosen = np.zeros(len(eligible), dtype=bool)
    chosen[idx[order[rank_in_region < cap[inv_sorted]]]] = True
    return chosen


def factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp]]:
    """(labels, code of each row), like np.unique(return_inverse=True) but fast for text columns
    with few distinct values: np.unique sorts a million strings in seconds, while one vectorised
    comparison per level takes milliseconds. Levels missing from the sample fall back to np.unique."""
    if values.dtype.kind != "U" or len(values) < 50_000:
        labels, inv = np.unique(values, return_inverse=True)
        return labels, inv.astype(np.intp)
    sample = np.unique(values[:: max(len(values) // 20_000, 1)])
    if len(sample) > 64:
        labels, inv = np.unique(values, return_inverse=True)
        return labels, inv.astype(np.intp)
    codes = np.full(len(values), -1, dtype=np.intp)
    for k, level in enumerate(sample):
        codes[values == level] = k
    rest = codes < 0
    if not rest.any():
        return sample, codes
    extra, inv = np.unique(values[rest], return_inverse=True)
    codes[rest] = len(sample) + inv
    labels = np.concatenate([sample, extra])
    order = np.argsort(labels, kind="stable")
    return labels[order], np.argsort(order)[codes].astype(np.intp)


def size_band(size: npt.NDArray[np.float64]) -> npt.NDArray[np.str_]:
    s = np.clip(size, 1, 6).astype(np.int64)
    return np.array(SIZE_BANDS)[s - 1]


def evaluate(
    *,
    selected: npt.NDArray[np.bool_],
    eligible: npt.NDArray[np.bool_],
    truth_pc: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    groups: Mapping[str, npt.NDArray[Any]],
) -> dict[str, Any]:
    """Coverage and, where truth exists, inclusion and exclusion error against the bottom 40 %.

    The target group is the households whose true per-capita consumption lies in the bottom 40 %
    (of the same weight the ranking used), measured among households with known truth.
    """
    has_truth = ~np.isnan(truth_pc)
    target = np.zeros(len(selected), dtype=bool)
    if has_truth.any():
        cut = weighted_quantile(truth_pc[has_truth], weight[has_truth], TARGET_SHARE)
        target = has_truth & (truth_pc <= cut)

    def blocks(inv: npt.NDArray[np.intp], k: int) -> list[dict[str, Any]]:
        """Metrics of each of k groups at once (sums by np.bincount, no per-group scans)."""

        def total(mask: npt.NDArray[np.bool_] | None, w: bool = True) -> npt.NDArray[np.float64]:
            wts = (weight if w else np.ones(len(inv))) * (1.0 if mask is None else mask)
            return np.asarray(np.bincount(inv, weights=wts, minlength=k), dtype=np.float64)

        n, n_el, n_sel = total(None, False), total(eligible, False), total(selected, False)
        w_all, w_sel = total(None), total(selected)
        n_truth = total(has_truth, False)
        w_t, w_nt = total(target), total(has_truth & ~target)
        w_sel_nt, w_miss_t = total(selected & has_truth & ~target), total(~selected & target)
        w_sel_truth = total(selected & has_truth)
        out = []
        for g in range(k):
            row: dict[str, Any] = {
                "households": int(n[g]),
                "eligible": int(n_el[g]),
                "selected": int(n_sel[g]),
                "coverage": round(float(w_sel[g] / max(w_all[g], 1e-12)), 4),
            }
            if n_truth[g]:
                row["inclusion_error"] = round(float(w_sel_nt[g] / w_nt[g]), 4) if w_nt[g] else 0.0
                row["exclusion_error"] = round(float(w_miss_t[g] / w_t[g]), 4) if w_t[g] else 0.0
                row["leakage"] = round(float(w_sel_nt[g] / max(w_sel_truth[g], 1e-12)), 4)
                row["with_truth"] = int(n_truth[g])
            out.append(row)
        return out

    n = len(selected)
    result: dict[str, Any] = {
        "overall": blocks(np.zeros(n, dtype=np.intp), 1)[0],
        "truth_households": int(has_truth.sum()),
    }
    for name, values in groups.items():
        labels, inv = factorize(values)
        result[name] = dict(zip((str(x) for x in labels), blocks(inv, len(labels)), strict=True))
    return result


def quotas_for(
    *,
    method: str,
    total: int | None,
    fixed: Mapping[str, int],
    region: npt.NDArray[Any],
    poor_weight: npt.NDArray[np.float64],
) -> dict[str, int] | None:
    """Per-region quotas: none, fixed, or `total` split by the estimated poor population
    (the weight of households in national desil 1-4, by persons or households as ranked)."""
    if method == "none":
        return None
    if method == "fixed":
        return {str(k): int(v) for k, v in fixed.items()}
    uniq, inv = np.unique(region, return_inverse=True)
    est = np.bincount(inv, weights=poor_weight, minlength=len(uniq))
    return allocate(int(total or 0), {str(u): float(e) for u, e in zip(uniq, est, strict=True)})


def run_rule(rule: Rule, cols: Mapping[str, npt.NDArray[Any]], n: int) -> npt.NDArray[np.bool_]:
    return rule_evaluate(rule, cols, n)
