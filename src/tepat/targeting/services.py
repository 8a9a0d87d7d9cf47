"""Targeting writes: calibrate a PMT, score the registry, save rules and scenarios, evaluate.

Keyword-only arguments, one transaction each, an acting user (None = a system job started from
the command line), an audit event. Heavy numeric work happens before the transaction opens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from tqdm import tqdm

from tepat.accounts.models import Role
from tepat.accounts.scoping import region_q
from tepat.core import bulk, crypto
from tepat.core.audit import audit_record
from tepat.core.errors import PermissionDenied, Problems, TepatError
from tepat.targeting import compat, disclosure, engine, pmt, selectors
from tepat.targeting.features import household_features, household_id_ranges
from tepat.targeting.models import (
    EvaluationRun,
    HouseholdScore,
    PmtModel,
    Rule,
    Scenario,
    ScoringRun,
    TruthConsumption,
)
from tepat.targeting.rules import Rule as ParsedRule
from tepat.targeting.rules import rule_parse
from tepat.targeting.spec import spec_load, spec_parse
from tepat.targeting.survey import survey_read

if TYPE_CHECKING:
    from tepat.accounts.models import User


BATCH = 5000
REGION_LEVELS = (2, 4, 6, 10)


def can_manage_targeting(user: Any) -> bool:
    """Who may calibrate, score and save rules and scenarios: admins and supervisors."""
    if user is None:
        return True  # the command line, run by an administrator on the server
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.role in {Role.ADMIN, Role.SUPERVISOR})


def _require(user: Any) -> None:
    if not can_manage_targeting(user):
        raise PermissionDenied()


def is_national(user: Any) -> bool:
    """Whether the user's scope is the whole nation, as tepat.accounts.scoping defines it (its
    region filter is empty: admins, auditors, superusers). None is the command line."""
    if user is None:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return not region_q(user, "village__code")


def _require_national(user: Any) -> None:
    if not is_national(user):
        raise PermissionDenied(
            "Hanya peran nasional yang dapat menghitung seluruh negeri / only national roles may "
            "compute national figures"
        )


def can_check_rules(user: Any) -> bool:
    """Who may count a rule over the registry: the roles that work on targeting or audit it.
    Field agents record handovers; they have no use for population counts."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(
        user.is_superuser or user.role in {Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR, Role.AUDITOR}
    )


def _label(user: Any) -> str:
    return getattr(user, "username", "") or "system"


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _json_safe(value: Any) -> Any:
    """JSON as the database stores it: a non-finite float (NaN, inf) is undefined, i.e. None.
    (A NaN used to fail the JSON CHECK constraint and lose the whole calibration.)"""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def pmt_calibrate(
    *,
    acting_user: User,
    survey_path: Path,
    spec_path: Path | None = None,
    spec_text: str | None = None,
    overrides: dict[str, Any] | None = None,
    name: str = "",
    survey_name: str = "",
    quota_path: Path | None = None,
    quota_name: str = "",
) -> PmtModel:
    """Calibrate on a survey CSV with a spec (a file, or its text as uploaded) and save it as the
    next model version.

    Every method of the spec is cross-validated on the same folds and measured at the
    programme's quota; the chosen one (`pmt.calibrate`) is saved with the comparison, the reason
    for the choice, the fold split as it really was (`folds.grouped`), every warning (survey,
    design, registry compatibility, fit) and its out-of-fold predictions.

    Quotas per area: `quota_path` is a CSV `area,quota[,households]` (the page's upload written to
    a temporary file), else the spec's `target.quota_file` (a spec file or `--quota-file` only:
    a server path from a web request is never opened). The API takes no quota file.
    """
    from tepat.targeting.evaluation import quota_table_read

    _require(acting_user)
    if spec_text is None:
        if spec_path is None:
            raise TepatError("spesifikasi wajib / a spec is required", field="spec")
        spec, text = spec_load(spec_path, overrides=overrides)
    else:
        spec, text = spec_parse(spec_text, overrides=overrides), spec_text
    quota_file = getattr(spec, "quota_file", "")
    if quota_path is None and quota_file:
        # Only a spec file may name one (spec.py refuses it in text from the page or the API),
        # resolved against the spec's folder or, from --quota-file, where the command ran.
        quota_path = Path(quota_file)
        quota_name = quota_name or quota_path.name
    survey = survey_read(survey_path, spec)
    survey.file_name = survey_name or survey.file_name
    # Spec against the registry (bugs 4-6): errors refuse, warnings go on the card.
    compat_warnings = compat.require_compatible(spec, survey)
    quota_table = quota_table_read(quota_path) if quota_path is not None else None
    cal = pmt.calibrate(spec, survey, quota_table)
    warnings = [*compat_warnings, *cal.warnings]
    chosen = cal.method
    metrics = _json_safe(
        {
            "cv": cal.cv,
            "train": cal.train,
            "comparison": cal.comparison,
            "methods": list(cal.comparison),  # their order (PostgreSQL's jsonb sorts keys)
            "selection": cal.selection,
            "folds": cal.folds,
            "warnings": warnings,
            "coefficients": cal.coefficient_table,
            "importance": cal.importance,
            "quota": float(spec.quota),
            "coverage": float(spec.quota),  # the old name
            "quota_file": quota_name or (quota_path.name if quota_path else ""),
            "grouped_by_area": bool(cal.folds.get("grouped")),  # the old name: the real split
        }
    )
    with transaction.atomic():
        version = (PmtModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        model = PmtModel.objects.create(
            version=version,
            name=name or f"PMT {chosen} {survey.file_name}",
            method=chosen,
            quantile=spec.quantile if chosen == "quantile" else None,
            area_effects=cal.model.area_mode != "none",
            spec=_json_safe(spec.as_dict()),
            spec_text=text,
            parameters=_json_safe(cal.model.as_dict()),
            coefficients=_json_safe(cal.model.coefficients()),
            metrics=metrics,
            training_summary=_json_safe(cal.summary),
            predictions=_json_safe(cal.predictions(survey)),
            created_by=_user(acting_user),
            created_by_label=_label(acting_user),
        )
        audit_record(
            actor=acting_user, action="targeting.pmt_calibrate", target_type="pmt_model",
            target_id=str(version),
            detail={"survey": survey.file_name, "sha256": survey.sha256, "method": chosen,
                    "methods": list(cal.comparison), "cv": metrics["cv"],
                    "grouped": metrics["folds"].get("grouped"), "warnings": len(warnings)},
        )  # fmt: skip
    return model


SCORE_CHUNK = 200_000  # households read and scored at a time: memory stays bounded


def scoring_run(
    *,
    acting_user: User,
    model: PmtModel,
    rank_by: str = "households",
    regional_level: int = 4,
    progress: bool = False,
    chunk: int = SCORE_CHUNK,
) -> ScoringRun:
    """Score every household with `model`, rank into national and regional desil, keep the scores.

    The registry is read and scored `chunk` households at a time (any model format: a
    `pmt.Pmt`, or an old LinearPmt), so memory holds the features of one chunk plus a few numbers
    per household, not a matrix of millions of rows. What the model could not score as it scored
    the survey (codes it never saw, missing numbers, households whose area has no effect) is
    counted in `summary` and shown on the runs page, never dropped silently."""
    _require(acting_user)
    if rank_by not in ScoringRun.RankBy.values:
        raise TepatError(f"rank_by harus {ScoringRun.RankBy.values}", field="rank_by")
    if regional_level not in REGION_LEVELS:
        raise TepatError(f"regional_level harus {REGION_LEVELS}", field="regional_level")
    if chunk < 1:
        raise TepatError("chunk >= 1", field="chunk")
    started = timezone.now()
    try:
        fitted = engine.model_load(model.parameters)
    except (KeyError, TypeError, ValueError) as exc:
        raise TepatError(
            f"parameter model v{model.version} tidak terbaca / model v{model.version}'s "
            f"parameters cannot be read: {exc!r}",
            code="model_unreadable",
            field="model",
        ) from exc
    # Refuse before reading millions of rows: unknown proxies, kinds that differ, survey-only.
    compat.raise_errors(compat.check_model_against_registry(fitted))
    needed = {x.name for x in fitted.design.proxies} | {"household_size"}
    counts = engine.ScoreCounts()
    parts: list[tuple[Any, ...]] = []
    on = timezone.localdate()
    with tqdm(unit="hh", desc="pmt score", disable=not progress) as bar:
        for id_range in household_id_ranges(chunk=chunk):
            frame = household_features(id_range=id_range, on=on, needed=needed)
            score = engine.score_frame(fitted, frame, counts)
            region = engine.region_key(frame.village_code, regional_level)
            parts.append((frame.household_id, score, engine.rank_weights(frame, rank_by), region))
            bar.update(len(frame))
    n_chunks = len(parts)
    ids, score, weight, region = _concat(parts)
    del parts
    dn, dr = engine.rank_in_regions(score, weight, region)
    scored = timezone.now()
    with transaction.atomic():
        run = ScoringRun.objects.create(
            model=model, rank_by=rank_by, regional_level=regional_level,
            created_by=_user(acting_user), created_by_label=_label(acting_user),
        )  # fmt: skip
        _insert_scores(run.pk, ids, score, dn, dr, progress=progress)
        desil_counts = np.bincount(dn, minlength=11)[1:].tolist() if len(dn) else [0] * 10
        run.households = len(ids)
        run.status = ScoringRun.Status.DONE
        run.finished_at = timezone.now()
        run.summary = {
            "households_per_desil": desil_counts,
            "seconds": round((run.finished_at - started).total_seconds(), 2),
            "seconds_scoring": round((scored - started).total_seconds(), 2),
            "score_mean": round(float(score.mean()), 4) if len(score) else None,
            "chunk_size": chunk,
            "chunks": n_chunks,
            **counts.summary(),
            "warnings": counts.warnings(),
        }
        run.save()
        audit_record(
            actor=acting_user, action="targeting.score", target_type="scoring_run",
            target_id=run.public_id,
            detail={"model_version": model.version, "households": len(ids),
                    "warnings": [w["code"] for w in run.summary["warnings"]]},
        )  # fmt: skip
    return run


def _concat(parts: list[tuple[Any, ...]]) -> tuple[Any, Any, Any, Any]:
    if not parts:
        return (np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
    regions = [p[3] for p in parts]
    if len({r.dtype.kind for r in regions}) > 1:  # some chunks had non-numeric village codes
        regions = [r.astype(str) for r in regions]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        np.concatenate(regions),
    )


def _insert_scores(
    run_id: int, ids: Any, score: Any, dn: Any, dr: Any, *, progress: bool, batch: int = 50_000
) -> None:
    """Bulk insert below the ORM (`core.bulk.insert_rows`: COPY on PostgreSQL): model instances
    for millions of rows cost minutes. In batches, for the progress bar and bounded memory."""
    names = ("run_id", "household_id", "score", "desil_national", "desil_regional")
    n = len(ids)
    with tqdm(total=n, unit="hh", desc="pmt save", disable=not progress) as bar:
        for start in range(0, n, batch):
            sl = slice(start, start + batch)
            rows = list(
                zip(
                    [run_id] * len(ids[sl]), ids[sl].tolist(), score[sl].tolist(),
                    dn[sl].tolist(), dr[sl].tolist(), strict=True,
                )
            )  # fmt: skip
            bulk.insert_rows(HouseholdScore, names, rows)
            bar.update(len(rows))


def rule_save(*, acting_user: User, name: str, expression: str, description: str = "") -> Rule:
    _require(acting_user)
    parsed = rule_parse(expression)
    p = Problems()
    if not name.strip():
        p.error("name", "required", "nama wajib / name required")
    p.raise_if_errors()
    with transaction.atomic():
        rule, created = Rule.objects.update_or_create(
            name=name.strip(),
            defaults={"expression": parsed.expression, "description": description},
            create_defaults={"expression": parsed.expression, "description": description,
                             "created_by": _user(acting_user)},
        )  # fmt: skip
        audit_record(
            actor=acting_user, action="targeting.rule_save", target_type="rule",
            target_id=rule.public_id, detail={"expression": parsed.expression, "created": created},
        )  # fmt: skip
    return rule


def scenario_save(
    *,
    acting_user: User,
    name: str,
    rule: Rule,
    quota_method: str = "none",
    quota_total: int | None = None,
    budget_rupiah: int | None = None,
    benefit_rupiah: int | None = None,
    region_level: int = 4,
    fixed_quotas: dict[str, int] | None = None,
) -> Scenario:
    _require(acting_user)
    p = Problems()
    if not name.strip():
        p.error("name", "required", "nama wajib / name required")
    if quota_method not in Scenario.QuotaMethod.values:
        p.error(
            "quota_method",
            "choice",
            f"harus salah satu / must be one of {Scenario.QuotaMethod.values}",
        )
    if region_level not in REGION_LEVELS:
        p.error("region_level", "choice", f"harus / must be one of {REGION_LEVELS}")
    if quota_method == "proportional":
        if budget_rupiah is not None and not benefit_rupiah:
            p.error(
                "benefit_rupiah",
                "required",
                "anggaran perlu nilai manfaat per KK / a budget needs a benefit per household",
            )
        if budget_rupiah and benefit_rupiah:
            quota_total = int(budget_rupiah // benefit_rupiah)
        if not quota_total or quota_total <= 0:
            p.error(
                "quota_total",
                "required",
                "kuota nasional (jumlah KK) atau anggaran wajib / a national count or budget is required",
            )
    if quota_method == "fixed":
        fixed_quotas = fixed_quotas or {}
        if not fixed_quotas:
            p.error(
                "fixed_quotas", "required", "kuota per wilayah wajib / quotas per region required"
            )
        for code, count in fixed_quotas.items():
            if not str(code).isdigit() or len(str(code)) != region_level:
                p.error(
                    "fixed_quotas",
                    "region",
                    f"kode wilayah {code!r} bukan tingkat {region_level} digit / not a {region_level}-digit region code",
                )
            if not isinstance(count, int) or count < 0:
                p.error(
                    "fixed_quotas",
                    "count",
                    f"kuota {code}: bilangan bulat >= 0 / a whole number >= 0",
                )
    p.raise_if_errors()
    with transaction.atomic():
        scenario, _ = Scenario.objects.update_or_create(
            name=name.strip(),
            defaults={
                "rule": rule, "quota_method": quota_method, "quota_total": quota_total,
                "budget_rupiah": budget_rupiah, "benefit_rupiah": benefit_rupiah,
                "region_level": region_level, "fixed_quotas": fixed_quotas or {},
            },
            create_defaults={
                "rule": rule, "quota_method": quota_method, "quota_total": quota_total,
                "budget_rupiah": budget_rupiah, "benefit_rupiah": benefit_rupiah,
                "region_level": region_level, "fixed_quotas": fixed_quotas or {},
                "created_by": _user(acting_user),
            },
        )  # fmt: skip
        audit_record(
            actor=acting_user, action="targeting.scenario_save", target_type="scenario",
            target_id=scenario.public_id, detail={"rule": rule.name, "quota_method": quota_method},
        )  # fmt: skip
    return scenario


def simulate(scenario: Scenario, pop: selectors.Population) -> dict[str, Any]:
    """Apply the scenario's rule and quotas to a population and measure the result."""
    rule = rule_parse(scenario.rule.expression)
    n = len(pop.frame)
    eligible = engine.run_rule(rule, pop.columns, n)
    region = engine.region_key(pop.frame.village_code, scenario.region_level)
    quotas = engine.quotas_for(
        method=scenario.quota_method,
        total=scenario.quota_total,
        fixed=scenario.fixed_quotas,
        region=region,
        poor_weight=pop.weight * (pop.desil_national <= 4),
    )
    selected = engine.select(eligible=eligible, score=pop.score, region=region, quotas=quotas)
    groups = {
        "by_region": region,
        "by_head_sex": np.where(
            pop.frame.columns["head_sex"] == "", "?", pop.frame.columns["head_sex"]
        ),
        "by_household_size": engine.size_band(pop.frame.columns["household_size"]),
    }
    results = engine.evaluate(
        selected=selected,
        eligible=eligible,
        truth_pc=pop.truth_pc,
        weight=pop.weight,
        groups=groups,
    )
    results["quotas"] = quotas
    results["rule"] = rule.expression
    return results


def scenario_evaluate(
    *, acting_user: User, scenario: Scenario, run: ScoringRun | None = None
) -> EvaluationRun:
    """Simulate a scenario over the whole nation; only national roles may (quotas are national)."""
    _require(acting_user)
    _require_national(acting_user)
    run = run or selectors.run_get()
    pop = selectors.population(run=run)
    results = simulate(scenario, pop)
    results["model_version"] = run.model.version
    with transaction.atomic():
        ev = EvaluationRun.objects.create(
            scenario=scenario, scoring_run=run, rule_expression=scenario.rule.expression,
            results=results, created_by=_user(acting_user), created_by_label=_label(acting_user),
        )  # fmt: skip
        audit_record(
            actor=acting_user, action="targeting.evaluate", target_type="scenario",
            target_id=scenario.public_id,
            detail={"evaluation": ev.public_id, "run": run.public_id, "overall": results["overall"]},
        )  # fmt: skip
    return ev


@dataclass(frozen=True)
class RuleCount:
    """A rule check's count over the caller's scope, as shown (hidden values are None)."""

    expression: str
    scope: list[str]  # region codes, or ["nasional"]
    run_public_id: str
    eligible: int | None
    households: int | None
    eligible_text: str
    households_text: str
    threshold: int

    @property
    def hidden(self) -> bool:
        return self.eligible is None


def rule_count(*, acting_user: User, rule: ParsedRule, request: Any = None) -> RuleCount | None:
    """Count the households `rule` admits in the latest scoring run, only among those in the
    caller's regions (tepat.accounts.scoping), with small counts hidden
    (tepat.targeting.disclosure); audited with the rule text, the scope and what was shown.
    None when no scoring run has finished."""
    if not can_check_rules(acting_user):
        raise PermissionDenied()
    run = selectors.runs_list().filter(status=ScoringRun.Status.DONE).first()
    if run is None:
        return None
    pop = selectors.population(run=run)
    mask = engine.run_rule(rule, pop.columns, len(pop.frame))
    if is_national(acting_user):
        scope = ["nasional"]
        in_scope = np.ones(len(pop.frame), dtype=bool)
    else:
        scope = sorted(getattr(acting_user, "region_codes", []) or [])
        visible = HouseholdScore.objects.filter(run=run).filter(
            region_q(acting_user, "household__village__code")
        )
        ids = np.fromiter(visible.values_list("household_id", flat=True), dtype=np.int64)
        in_scope = np.isin(pop.frame.household_id, ids)
    total = int(in_scope.sum())
    eligible = int((mask & in_scope).sum())
    threshold = disclosure.min_cell()
    shown = disclosure.count_shown(eligible, total, threshold)
    shown_total = disclosure.total_shown(total, threshold)
    audit_record(
        actor=acting_user, action="targeting.rule_check", target_type="scoring_run",
        target_id=run.public_id, region_code=scope[0] if len(scope) == 1 and scope[0].isdigit() else "", request=request,
        detail={"expression": rule.expression, "scope": scope, "eligible_shown": shown.text,
                "households_shown": shown_total.text, "hidden": shown.hidden,
                "threshold": threshold},
    )  # fmt: skip
    return RuleCount(
        expression=rule.expression,
        scope=scope,
        run_public_id=run.public_id,
        eligible=shown.value,
        households=shown_total.value,
        eligible_text=shown.text,
        households_text=shown_total.text,
        threshold=threshold,
    )


def truth_load(*, acting_user: User, path: Path, source: str = "") -> dict[str, int]:
    """Load known per-capita consumption keyed by No. KK (e.g. `tepat synth`'s truth/households.csv)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from tepat.registry.models import Household

    _require(acting_user)
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            include_columns=["kk", "consumption_pc"],
            column_types={"kk": pa.string(), "consumption_pc": pa.float64()},
        ),
    )
    kks = table["kk"].to_pylist()
    cons = table["consumption_pc"].to_numpy(zero_copy_only=False)
    by_index = dict(Household.objects.values_list("kk_index", "id"))
    pairs: dict[int, int] = {}
    unmatched = 0
    for kk, c in zip(kks, cons, strict=True):
        hid = by_index.get(crypto.blind_index(str(kk or ""), purpose="kk"))
        if hid is None or not np.isfinite(c):
            unmatched += 1
            continue
        pairs[hid] = int(c)
    label = source or f"file:{path.name}"
    with transaction.atomic():
        TruthConsumption.objects.filter(household_id__in=list(pairs)).delete()
        items = [
            TruthConsumption(household_id=h, consumption_pc=c, source=label)
            for h, c in pairs.items()
        ]
        TruthConsumption.objects.bulk_create(items, batch_size=BATCH)
        audit_record(
            actor=acting_user, action="targeting.truth_load", target_type="truth",
            target_id=label, detail={"matched": len(pairs), "unmatched": unmatched},
        )  # fmt: skip
    return {"matched": len(pairs), "unmatched": unmatched}
