"""Targeting error by model, on two synthetic surveys, against a plain OLS baseline (issue 19).

    TEPAT_VAR_DIR=/tmp/bench .venv/bin/python benchmarks/bench_targeting_models.py \
        --synth OUT                  # a `tepat synth` output (OUT/sources/survey.csv)
        [--survey2 DIR]              # the second survey (survey.csv + spec.toml + truth.csv as
                                     # `python -m tepat.synth.survey_dgp2 --out DIR` writes;
                                     # generated here, 6,000 households, seed 1, when left out)
        [--survey2-households 6000] [--quota 0.3] [--methods ols quantile enet gbm ensemble]
        [--only synth|survey2] [--no-hybrid]

Per survey: every model of `[model] methods`, cross-validated by `tepat.targeting.pmt.calibrate`
on its grouped folds, at a `--quota` share selected within each quota area (district), against
the survey's own target (its poverty line; the synthetic survey's spec has none, so there the
target is the poorest `--quota` share of weighted households). Mistargeting (share of households
misclassified), inclusion error (share of the non-poor selected) and exclusion error (share of the
poor missed), pooled over the out-of-fold predictions, and their mean and sd over the folds.

The baseline is OUTSIDE the code under test: scikit-learn's LinearRegression on the same proxies
(numeric as read, log1p where the spec says log, missing values filled with the training fold's
median; categoricals one-hot with pandas.get_dummies), fitted on the same folds
(`evaluation.folds_for` with the spec's groups and seed), and scored by this script's own
selection and error code (pandas), not tepat.targeting.evaluation. The same evaluator is also run
on the chosen model's out-of-fold predictions, as a cross-check of the library's numbers.

On the second survey, two ceilings from its truth file, through the same evaluator: the
data-generating process's own function of the proxies (which also uses the urban flag the
registry lacks), and that plus the true area effects. No model fitted on the proxies should beat
the first by more than noise; the gap between them is what area effects could add at best.

Hybrid targeting (tepat.targeting.hybrid.hybrid_compare): the chosen model's out-of-fold score
combined with a community ranking of the survey households drawn by the synthetic generator's
deliberation model (tepat.synth.sources.community.deliberate: noisy local view, elite capture,
villages without a meeting), from true consumption on the second survey and measured consumption
on the synthetic one; the PMT alone, the community alone and two hybrid rules, each at the quota
within every village (the unit a deliberation ranks), against the survey's poor share.

Prints the machine line, one markdown table per survey (ready for docs/benchmarks.md), what
`select = "auto"` chose and why.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
os.environ.setdefault("TEPAT_DEV", "true")

ROOT = Path(__file__).resolve().parents[1]
SYNTH_SPEC = ROOT / "src/tepat/targeting/specs/synth_survey.toml"
METHODS = ("ols", "quantile", "enet", "gbm", "ensemble")
ERRORS = ("mistargeting", "inclusion_error", "exclusion_error")


def machine() -> str:
    mem = ""
    try:
        text = Path("/proc/meminfo").read_text()
        kb = int(next(x for x in text.splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024**2:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


# --- the spec ---------------------------------------------------------------------------------


def spec_for(path: Path, *, methods: list[str], quota: float) -> tuple[Any, str]:
    """The spec at `path` with every method compared, select = auto, and `quota` within areas.
    Returns (spec, how the target is defined)."""
    from tepat.targeting.spec import spec_from_dict

    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    model = raw.setdefault("model", {})
    for legacy in ("method", "coverage"):
        model.pop(legacy, None)
    model["methods"] = list(methods)
    model["select"] = "auto"
    target = raw.setdefault("target", {})
    target["quota"] = quota
    target["quota_scope"] = "area"
    if "poverty_line" in target:
        how = f"poverty line {target['poverty_line']:,} (spec)"
    elif "poor_share" in target:
        how = f"poorest {target['poor_share']:.0%} (spec)"
    else:
        target["poor_share"] = quota
        how = f"poorest {quota:.0%} of weighted households (set here: the spec has no target)"
    return spec_from_dict(raw), how


# --- the outside baseline and evaluator -------------------------------------------------------


def baseline_ols(spec: Any, s: Any, fold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions of plain scikit-learn OLS with one-hot categoricals, and the
    design matrix (missing values filled with the overall median)."""
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    num: dict[str, np.ndarray] = {}
    cat: dict[str, np.ndarray] = {}
    for p in spec.proxies:
        v = s.proxies[p.name]
        if p.kind == "numeric":
            x = np.asarray(v, dtype=np.float64)
            num[p.name] = np.log1p(np.clip(x, 0, None)) if p.log else x
        else:
            cat[p.name] = np.asarray(v).astype(str)
    numeric = pd.DataFrame(num)
    dummies = pd.get_dummies(pd.DataFrame(cat), drop_first=True, dtype=float)
    y, w = np.asarray(s.y, dtype=np.float64), np.asarray(s.weight, dtype=np.float64)
    pred = np.full(len(y), np.nan)
    for k in np.unique(fold):
        tr, te = fold != k, fold == k
        fill = numeric[tr].median()
        X = pd.concat([numeric.fillna(fill), dummies], axis=1).to_numpy(dtype=np.float64)
        model = LinearRegression().fit(X[tr], y[tr], sample_weight=w[tr])
        pred[te] = model.predict(X[te])
    full = pd.concat([numeric.fillna(numeric.median()), dummies], axis=1)
    return pred, full.to_numpy(dtype=np.float64)


def own_select(score: np.ndarray, w: np.ndarray, share: float, group: np.ndarray) -> np.ndarray:
    """The lowest scores up to `share` of each group's weight: a household is in when the
    midpoint of its weight lies inside the quota (pandas, independent of tepat's code)."""
    import pandas as pd

    df = pd.DataFrame({"g": group, "s": score, "w": w, "i": np.arange(len(score))})
    df = df.sort_values(["g", "s", "i"], kind="mergesort")
    cum = df.groupby("g", sort=False)["w"].cumsum()
    total = df.groupby("g", sort=False)["w"].transform("sum")
    chosen = (cum - df["w"] / 2) < share * total
    out = np.zeros(len(score), dtype=bool)
    out[df["i"].to_numpy()] = chosen.to_numpy()
    return out


def own_errors(sel: np.ndarray, poor: np.ndarray, w: np.ndarray) -> dict[str, float]:
    return {
        "mistargeting": float(w[sel != poor].sum() / w.sum()),
        "inclusion_error": float(w[sel & ~poor].sum() / w[~poor].sum()),
        "exclusion_error": float(w[~sel & poor].sum() / w[poor].sum()),
    }


def own_evaluate(
    score: np.ndarray, s: Any, quota: float, group: np.ndarray, fold: np.ndarray
) -> dict[str, Any]:
    """Pooled errors and, per fold (quota within the fold's rows of each group), mean and sd."""
    poor, w = np.asarray(s.poor, dtype=bool), np.asarray(s.weight, dtype=np.float64)
    pooled = own_errors(own_select(score, w, quota, group), poor, w)
    per = []
    for k in np.unique(fold):
        te = fold == k
        per.append(own_errors(own_select(score[te], w[te], quota, group[te]), poor[te], w[te]))
    spread = {
        m: (float(np.mean([p[m] for p in per])), float(np.std([p[m] for p in per], ddof=1)))
        for m in ERRORS
    }
    yw = np.average(s.y, weights=w)
    r2 = 1 - np.sum(w * (s.y - score) ** 2) / np.sum(w * (s.y - yw) ** 2)
    return {"pooled": pooled, "folds": spread, "r2": float(r2)}


# --- hybrid -----------------------------------------------------------------------------------


def community_ranking(
    consumption: np.ndarray, village: np.ndarray, x: np.ndarray, seed: int
) -> tuple[np.ndarray, str]:
    """A synthetic community rank per survey household (1 = poorest in its village, NaN where
    the village held no deliberation), from the synthetic generator's deliberation model
    (tepat.synth.sources.community: noisy local view, elite capture, villages without a
    meeting), applied to the survey's sampled households of each village."""
    from tepat.synth.sources import community

    codes, vid = np.unique(village, return_inverse=True)
    d = community.deliberate(np.random.default_rng(seed), vid.astype(np.int64), consumption, x)
    rank = np.where(d.rank > 0, d.rank, np.nan).astype(np.float64)
    m = community.CommunityModel()
    return rank, (
        f"tepat.synth.sources.community.deliberate with its defaults ({m.as_dict()}); "
        f"{int(d.held.sum())} of {len(codes)} villages deliberated, "
        f"{int(d.elite_captured.sum())} households elite-captured"
    )


# --- one survey -------------------------------------------------------------------------------


def run_survey(
    name: str,
    csv: Path,
    spec_path: Path,
    village_column: str,
    truth: dict[str, np.ndarray] | None,
    args: argparse.Namespace,
) -> list[str]:
    from tepat.targeting import evaluation, pmt
    from tepat.targeting.survey import survey_read

    spec, target_how = spec_for(spec_path, methods=args.methods, quota=args.quota)
    t0 = time.perf_counter()
    s = survey_read(csv, spec)
    t_read = time.perf_counter() - t0
    n = len(s.y)
    groups = np.asarray(s.cv_group) if np.any(np.asarray(s.cv_group) != "") else None
    fold, grouped = evaluation.folds_for(n, spec.folds, groups, spec.seed)
    qgroup = np.asarray(s.quota_group)
    if not np.any(qgroup != ""):
        qgroup = np.asarray(s.area)
    w = np.asarray(s.weight, dtype=np.float64)
    print(f"\n## {name}: {csv}")
    print(
        f"{n:,} households, {len(np.unique(qgroup))} quota areas, {spec.folds} folds "
        f"{'grouped by ' + (spec.cv_group or spec.area) if grouped else 'NOT grouped'} "
        f"({len(np.unique(groups)) if groups is not None else 0} groups); target: {target_how}, "
        f"poor share {np.average(s.poor, weights=w):.3f}; quota {args.quota:.0%} within each "
        f"{spec.quota_area or spec.area}; read {t_read:.2f} s; {load()}"
    )
    for wmsg in s.warnings:
        print(f"  survey warning: {wmsg.get('field')}: {wmsg.get('code')} x{wmsg.get('count')}")

    t0 = time.perf_counter()
    base_pred, design_x = baseline_ols(spec, s, fold)
    t_base = time.perf_counter() - t0
    base = own_evaluate(base_pred, s, args.quota, qgroup, fold)

    t0 = time.perf_counter()
    cal = pmt.calibrate(spec, s)
    t_cal = time.perf_counter() - t0
    print(f"calibrate ({', '.join(spec.methods)}; CV + final fit): {t_cal:.1f} s; {load()}")

    rows = [
        "| survey | model | mistargeting | fold mean ± sd | inclusion | exclusion | AUC | R² | Δ mistargeting vs baseline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def fmt(v: Any) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"

    b = base["pooled"]
    rows.append(
        f"| {name} | baseline: scikit-learn OLS, one-hot | {fmt(b['mistargeting'])} | "
        f"{base['folds']['mistargeting'][0]:.3f} ± {base['folds']['mistargeting'][1]:.3f} | "
        f"{fmt(b['inclusion_error'])} | {fmt(b['exclusion_error'])} | "
        f"{fmt(evaluation.auc(base_pred, s.poor, w))} | {fmt(base['r2'])} | 0 |"
    )
    sel = cal.selection if isinstance(cal.selection, dict) else {}
    chosen = sel.get("chosen") or sel.get("method") or getattr(cal, "method", None)
    for method, res in cal.comparison.items():
        cv, folds = res["cv"], res.get("folds", {})
        mt = folds.get("mistargeting", {})
        spread = (
            f"{mt['mean']:.3f} ± {mt['sd']:.3f}"
            if mt.get("mean") is not None and mt.get("sd") is not None
            else "-"
        )
        delta = (
            cv["mistargeting"] - b["mistargeting"] if cv.get("mistargeting") is not None else None
        )
        label = f"**{method}** (chosen)" if method == chosen else method
        rows.append(
            f"| {name} | {label} | {fmt(cv.get('mistargeting'))} | {spread} | "
            f"{fmt(cv.get('inclusion_error'))} | {fmt(cv.get('exclusion_error'))} | "
            f"{fmt(cv.get('auc'))} | {fmt(cv.get('r2'))} | "
            f"{'-' if delta is None else f'{delta:+.3f}'} |"
        )

    # Cross-check: this script's evaluator on the chosen model's out-of-fold predictions.
    oof = getattr(cal, "oof", None)
    score = None
    if oof is not None:
        score = np.asarray(oof["score"] if isinstance(oof, dict) else oof, dtype=np.float64)
        if len(score) != n or not np.all(np.isfinite(score)):
            print(f"cross-check skipped: {len(score)} out-of-fold scores for {n} rows, "
                  f"{int(np.sum(~np.isfinite(score)))} not finite")  # fmt: skip
            score = None
        else:
            mine = own_evaluate(score, s, args.quota, qgroup, fold)["pooled"]
            lib = cal.cv
            diff = max(abs(mine[m] - lib[m]) for m in ERRORS if lib.get(m) is not None)
            print(
                f"cross-check, chosen model's out-of-fold scores: own evaluator "
                f"{[round(mine[m], 4) for m in ERRORS]}, library {[lib.get(m) for m in ERRORS]}, "
                f"max |difference| {diff:.4f}"
            )

    # Hybrid: the chosen model's out-of-fold score with a community ranking, within villages.
    # The rows survey_read kept (1-based data rows), to align the truth and the village codes.
    kept = np.asarray(getattr(s, "rows", np.zeros(0)), dtype=np.int64) - 1
    if len(kept) != n:
        dropped = sum(getattr(s, "dropped_count", {}).values())
        kept = np.arange(n) if not dropped else np.zeros(0, dtype=np.int64)
    import pyarrow.csv as pacsv

    villages_all = (
        pacsv.read_csv(
            csv, convert_options=pacsv.ConvertOptions(column_types={village_column: "string"})
        )
        .column(village_column)
        .to_numpy(zero_copy_only=False)
    )
    basis = None
    village = None
    if len(kept) == n and s.consumption is not None:
        village = np.asarray(villages_all, dtype=object)[kept].astype(str)
        # The community sees true consumption where the truth file has it, else measured.
        basis = np.asarray(
            s.consumption if truth is None else truth["consumption_true"][kept], dtype=np.float64
        )
        if truth is not None:
            # Ceilings: the data-generating process's own function of the proxies (it uses the
            # urban flag, which the registry lacks), then with the true area effects too.
            sysp = np.asarray(truth["systematic"], dtype=np.float64)[kept]
            area_fx = sum(
                np.asarray(truth[c], dtype=np.float64)[kept]
                for c in ("effect_regency", "effect_district", "effect_village")
            )
            for label, oracle in (
                ("ceiling: the true function of the proxies (+ urban flag)", sysp),
                ("ceiling: the true function + true area effects", sysp + area_fx),
            ):
                o = own_evaluate(oracle, s, args.quota, qgroup, fold)
                op, of = o["pooled"], o["folds"]["mistargeting"]
                rows.append(
                    f"| {name} | {label} | {op['mistargeting']:.3f} | {of[0]:.3f} ± {of[1]:.3f} | "
                    f"{op['inclusion_error']:.3f} | {op['exclusion_error']:.3f} | "
                    f"{fmt(evaluation.auc(oracle, s.poor, w))} | - | "
                    f"{op['mistargeting'] - b['mistargeting']:+.3f} |"
                )
    else:
        print("hybrid skipped: the survey rows kept cannot be aligned with the file")
    if not args.no_hybrid and score is not None and basis is not None:
        try:
            from tepat.targeting import hybrid
        except ImportError as exc:
            print(f"hybrid: not available ({exc})")
        else:
            assert village is not None
            community, source = community_ranking(basis, village, design_x, seed=spec.seed)
            target_share = float(np.average(s.poor, weights=w))
            for rule in (
                hybrid.HybridRule("shortlist", k=1.5),
                hybrid.HybridRule("weighted", weight=0.5),
            ):
                res = hybrid.hybrid_compare(
                    score, community, village, args.quota, rule,
                    truth=np.asarray(s.consumption), weight=w, target_share=target_share,
                )  # fmt: skip
                pmt_mt = res["lists"]["pmt"]["all"].get("mistargeting")
                for lst in ("pmt", "community", "hybrid"):
                    if lst != "hybrid" and rule.kind != "shortlist":
                        continue  # the PMT and community rows are the same for every rule
                    e = res["lists"][lst]["all"]
                    label = {"pmt": f"{chosen or 'PMT'} alone, quota within villages",
                             "community": "community ranking alone, within villages",
                             "hybrid": f"hybrid: {res['rule_label']}, within villages"}[lst]  # fmt: skip
                    mt = e.get("mistargeting")
                    if mt is None:
                        delta = "-"
                    elif lst == "pmt":
                        delta = f"{mt - b['mistargeting']:+.3f}"
                    else:
                        delta = f"{mt - pmt_mt:+.3f} vs PMT within villages"
                    rows.append(
                        f"| {name} | {label} | {fmt(mt)} | - | {fmt(e.get('inclusion_error'))} | "
                        f"{fmt(e.get('exclusion_error'))} | - | - | {delta} |"
                    )
            print(
                f"hybrid community ranking: {source}, from {'true' if truth is not None else 'measured'} "
                f"consumption; errors against measured consumption, poorest "
                f"{target_share:.1%} (weighted), quota {args.quota:.0%} within each village"
            )

    print(f"baseline (scikit-learn OLS, own evaluator): {t_base:.2f} s")
    print(f"select = auto chose: {chosen!r}; why: {cal.selection}")
    print()
    print("\n".join(rows))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synth", type=Path, required=True)
    ap.add_argument("--survey2", type=Path)
    ap.add_argument("--quota", type=float, default=0.3)
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--no-hybrid", action="store_true")
    ap.add_argument("--only", choices=["synth", "survey2"])
    ap.add_argument("--survey2-households", type=int, default=6000, help="without --survey2")
    args = ap.parse_args()

    import django

    django.setup()
    import pyarrow.csv as pacsv

    from tepat.synth import survey_dgp2

    print(f"machine: {machine()}; {load()}")
    s2 = args.survey2
    if s2 is None:
        s2 = Path(tempfile.mkdtemp(prefix="bench_survey2_"))
        n2 = args.survey2_households
        survey_dgp2.write(
            s2 / "survey.csv", s2 / "truth.csv", s2 / "spec.toml", households=n2, seed=1
        )
        print(f"second survey generated: {s2} ({n2:,} households, seed 1)")
    synth_csv = args.synth / "sources" / "survey.csv"
    t2 = pacsv.read_csv(s2 / "truth.csv")
    truth2 = {
        c: t2.column(c).to_numpy() for c in t2.column_names if c not in ("id_rt", "kode_desa")
    }
    # The community sees true consumption where the survey has it (the second survey's truth
    # file, row-aligned); the synthetic survey's truth is not row-aligned, so its measured
    # consumption stands in there.
    all_rows: list[str] = []
    if args.only in (None, "synth"):
        all_rows += run_survey(
            "synthetic (tepat synth)", synth_csv, SYNTH_SPEC, "KODE_DESA", None, args
        )
    if args.only in (None, "survey2"):
        rows2 = run_survey(
            "second survey (survey_dgp2)", s2 / "survey.csv", s2 / "spec.toml", "kode_desa",
            truth2, args,
        )  # fmt: skip
        all_rows += rows2[2:] if all_rows else rows2
    print("\n# all rows\n" + "\n".join(all_rows))


if __name__ == "__main__":
    main()
