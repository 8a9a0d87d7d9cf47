"""Targeting benchmarks: scoring + ranking 1M households, calibration on a 50k survey, and OLS vs
quantile vs gradient-boosting PMT on the synthetic survey.

    TEPAT_VAR_DIR=var/bench .venv/bin/python benchmarks/bench_targeting.py \
        --synth OUT            # a `tepat synth` output folder (uses OUT/sources/survey.csv)
        [--households 1000000] [--survey-rows 50000] [--real]

Without --synth a survey with the same columns is generated here. --real also times the real
path (`tepat pmt score`: ORM read of features, scoring, desil, bulk insert) on whatever registry
the configured database holds. Baselines are measured in the same run: a row-by-row Python
scoring loop (what a per-household ORM path does, without the database) and reading the CSV.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP

SPEC = Path(__file__).resolve().parents[1] / "src/tepat/targeting/specs/synth_survey.toml"


def generated_survey(path: Path, n: int, seed: int = 1) -> None:
    """A survey with the synth column names and a log-linear consumption model."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    pick = lambda values, p=None: np.array(values)[rng.choice(len(values), n, p=p)]  # noqa: E731
    cols = {
        "KODE_KEC": pick([f"3273{d:02d}" for d in range(1, 31)] + [f"3201{d:02d}" for d in range(1, 41)]),
        "WEIGHT": rng.uniform(5, 30, n).round(2),
        "LANTAI": pick(["ceramic", "tile", "cement", "wood", "bamboo", "earth"], [0.4, 0.1, 0.25, 0.1, 0.05, 0.1]),
        "DINDING": pick(["brick", "plaster_bamboo", "wood", "bamboo", "other"], [0.7, 0.05, 0.1, 0.1, 0.05]),
        "ATAP": pick(["concrete", "roof_tile", "zinc", "asbestos", "wood", "thatch"]),
        "LUAS_LANTAI": rng.integers(12, 200, n),
        "AIR_MINUM": pick(["bottled", "piped", "protected_well", "unprotected", "surface"]),
        "JAMBAN": pick(["private", "shared", "public", "none"], [0.7, 0.15, 0.1, 0.05]),
        "PENERANGAN": pick(["pln_meter", "pln_no_meter", "non_pln", "none"], [0.8, 0.15, 0.04, 0.01]),
        "DAYA_VA": pick([0, 450, 900, 1300, 2200]),
        "BAHAN_BAKAR": pick(["electric", "lpg_large", "lpg_3kg", "kerosene", "wood"], [0.05, 0.1, 0.65, 0.05, 0.15]),
        "MOTOR": rng.integers(0, 2, n), "KULKAS": rng.integers(0, 2, n), "MOBIL": (rng.random(n) < 0.08).astype(int),
        "LAHAN": rng.integers(0, 2, n), "LUAS_LAHAN": rng.integers(0, 5000, n), "TERNAK": rng.integers(0, 6, n),
        "JML_ART": rng.integers(1, 9, n), "KRT_UMUR": rng.integers(20, 85, n), "KRT_JK": pick(["M", "F"], [0.85, 0.15]),
        "KRT_PENDIDIKAN": pick(["none", "sd", "smp", "sma", "diploma", "university"]),
        "KRT_LAPANGAN_USAHA": pick(["agriculture", "trade", "services", "construction", "not_working"]),
        "JML_BALITA": rng.integers(0, 3, n), "JML_LANSIA": rng.integers(0, 3, n),
        "JML_BEKERJA": rng.integers(0, 4, n), "JML_SEKOLAH": rng.integers(0, 4, n),
    }  # fmt: skip
    floor = {
        "ceramic": 0.3,
        "tile": 0.15,
        "cement": 0.0,
        "wood": -0.1,
        "bamboo": -0.2,
        "earth": -0.3,
    }
    logc = (
        13.6 + np.vectorize(floor.get)(cols["LANTAI"]) + 0.12 * np.log1p(cols["LUAS_LANTAI"])
        + 0.15 * cols["MOTOR"] + 0.2 * cols["KULKAS"] + 0.4 * cols["MOBIL"]
        - 0.3 * np.log1p(cols["JML_ART"]) + rng.normal(0, 0.35, n)
    )  # fmt: skip
    cols["KAPITA"] = np.round(np.exp(logc), -2).astype(np.int64)
    pacsv.write_csv(pa.table({k: pa.array(v) for k, v in cols.items()}), str(path))


def resampled_survey(src: Path, dst: Path, n: int, seed: int = 2) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    t = pacsv.read_csv(src)
    idx = np.random.default_rng(seed).integers(0, t.num_rows, n)
    pacsv.write_csv(t.take(pa.array(idx)), str(dst))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synth", type=Path)
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--survey-rows", type=int, default=50_000)
    ap.add_argument("--real", action="store_true")
    args = ap.parse_args()

    import django

    django.setup()
    from tepat.targeting import engine, pmt
    from tepat.targeting.evaluation import metrics
    from tepat.targeting.features import FeatureFrame
    from tepat.targeting.spec import spec_load
    from tepat.targeting.survey import survey_read

    tmp = Path(tempfile.mkdtemp(prefix="bench_targeting_"))
    base = args.synth / "sources" / "survey.csv" if args.synth else tmp / "generated.csv"
    if not args.synth:
        generated_survey(base, 8000)
    print(f"survey source: {base}")

    # 1. Calibration on a 50k-household survey (OLS and quantile, 5-fold CV grouped by district).
    big = tmp / "survey50k.csv"
    resampled_survey(base, big, args.survey_rows)
    spec, _ = spec_load(SPEC)
    t = time.perf_counter()
    import pyarrow.csv as pacsv

    pacsv.read_csv(big)
    t_read = time.perf_counter() - t
    print(f"\n[calibration] {args.survey_rows} rows; baseline (read the CSV only): {t_read:.2f} s")
    models = {}
    for method in ("ols", "quantile"):
        spec, _ = spec_load(SPEC, overrides={"method": method})
        t = time.perf_counter()
        survey = survey_read(big, spec)
        cal = pmt.calibrate(spec, survey)
        dt = time.perf_counter() - t
        models[method] = cal.model
        print(
            f"  {method:8s} read + 5-fold CV + final fit: {dt:6.2f} s ({dt / t_read:.0f}x read)  cv AUC {cal.cv.get('auc')}"
        )

    # 2. Scoring + ranking 1M households (features bootstrapped from the survey's proxies).
    n = args.households
    rng = np.random.default_rng(3)
    idx = rng.integers(0, len(survey.y), n)
    villages = np.array(
        [
            f"32{r:02d}{d:02d}{v:04d}"
            for r in range(1, 28)
            for d in range(1, 21)
            for v in range(1001, 1011)
        ]
    )
    frame = FeatureFrame(
        np.arange(n, dtype=np.int64), villages[rng.integers(0, len(villages), n)],
        {k: v[idx] for k, v in survey.proxies.items()},
    )  # fmt: skip
    model = models["ols"]
    t = time.perf_counter()
    score = engine.score_frame(model, frame)
    t_score = time.perf_counter() - t
    weight = engine.rank_weights(frame, "persons")
    t = time.perf_counter()
    dn, dr = engine.rank(score, weight, frame.village_code, 4)
    t_rank = time.perf_counter() - t
    # Baseline: the same model applied row by row in Python, on a sample, scaled to n.
    sample = 20_000
    coef = model.coefficients()
    rows = [{k: v[i] for k, v in frame.columns.items()} for i in range(sample)]
    t = time.perf_counter()
    for r in rows:
        s = coef["intercept"]
        for x in model.design.proxies:
            v = r[x.name]
            if x.kind == "numeric":
                fv = float(v)
                fv = (
                    model.design.fill[x.name]
                    if fv != fv
                    else (float(np.log1p(max(fv, 0))) if x.log else fv)
                )
                s += coef[x.name] * fv
            else:
                s += coef.get(f"{x.name}={v}", 0.0)
    t_loop = (time.perf_counter() - t) * n / sample
    total = t_score + t_rank
    print(
        f"\n[scoring] {n:,} households: score {t_score:.2f} s + national/regional desil {t_rank:.2f} s = {total:.2f} s"
    )
    print(
        f"  baseline row-by-row Python scoring (measured on {sample:,}, scaled): {t_loop:.1f} s -> {t_loop / t_score:.0f}x slower than vectorised scoring"
    )
    print(f"  desil counts by persons (households): {np.bincount(dn, minlength=11)[1:].tolist()}")

    # 2b. A programme scenario on the same 1M: rule, proportional quotas by regency, evaluation
    # against the bootstrapped survey consumption as truth, by region, head's sex and size.
    from tepat.targeting.features import household_flags
    from tepat.targeting.rules import rule_parse

    t = time.perf_counter()
    cols = engine.rule_columns(
        frame, score=score, desil_national=dn, desil_regional=dr,
        flags=household_flags(frame.household_id),
    )  # fmt: skip
    rule = rule_parse("desil <= 4 and children_in_school >= 0 and not flags.civil_servant")
    eligible = engine.run_rule(rule, cols, n)
    region = engine.region_key(frame.village_code, 4)
    quotas = engine.quotas_for(
        method="proportional", total=n * 3 // 10, fixed={}, region=region,
        poor_weight=weight * (dn <= 4),
    )  # fmt: skip
    chosen = engine.select(eligible=eligible, score=score, region=region, quotas=quotas)
    result = engine.evaluate(
        selected=chosen, eligible=eligible, truth_pc=np.exp(survey.y[idx]), weight=weight,
        groups={"by_region": region, "by_household_size": engine.size_band(frame.columns["household_size"]),
                "by_head_sex": frame.columns["head_sex"]},
    )  # fmt: skip
    o = result["overall"]
    print(
        f"  scenario (rule + quotas for {len(quotas or {})} regencies + evaluation by group): "
        f"{time.perf_counter() - t:.2f} s; coverage {o['coverage']}, inclusion {o['inclusion_error']}, "
        f"exclusion {o['exclusion_error']}"
    )

    # 3. OLS vs quantile vs gradient boosting on the survey itself (5-fold CV, 40 % coverage).
    spec, _ = spec_load(SPEC)
    s = survey_read(base, spec)
    print(
        f"\n[comparison] {base.name}: {len(s.y)} households, 5-fold CV grouped by district, coverage 40 % within district"
    )
    print(
        f"  {'method':10s} {'R2':>6s} {'AUC':>6s} {'inclusion':>9s} {'exclusion':>9s} {'seconds':>8s}"
    )
    for method in ("ols", "quantile", "gbm"):
        t = time.perf_counter()
        pred = pmt.cross_validated(spec, s, method=method)
        m = metrics(s.y, pred, s.weight, s.area, 0.4)
        print(
            f"  {method:10s} {m['r2']:6.3f} {m['auc_bottom40']:6.3f} {m['inclusion_error']:9.3f} {m['exclusion_error']:9.3f} {time.perf_counter() - t:8.2f}"
        )
    print("  published: AUC ~0.82 (ANCHORS); Alatas et al. 2012 PMT inclusion 0.18, exclusion 0.52")

    if args.real:
        from tepat.registry.models import Household
        from tepat.targeting import services
        from tepat.targeting.models import PmtModel

        if not Household.objects.exists():
            print("\n[real path] no households in the configured database; skipped")
            return
        spec_model = PmtModel.objects.order_by("-version").first()
        if spec_model is None:
            spec_model = services.pmt_calibrate(acting_user=None, survey_path=base, spec_path=SPEC)
        t = time.perf_counter()
        run = services.scoring_run(acting_user=None, model=spec_model)
        dt = time.perf_counter() - t
        print(
            f"\n[real path] `pmt score` through the database: {run.households:,} households in {dt:.2f} s ({run.households / dt:,.0f}/s)"
        )


if __name__ == "__main__":
    main()
