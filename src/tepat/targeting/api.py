"""Targeting API: PMT models, scoring runs, household explanations, rule checks, scenarios."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from tepat.core.errors import PermissionDenied
from tepat.targeting import selectors, services
from tepat.targeting.rules import rule_explain, rule_parse

router = Router(tags=["targeting"])


class ModelOut(Schema):
    version: int
    public_id: str
    name: str
    method: str
    quantile: float | None
    area_effects: bool
    metrics: dict[str, Any]
    created_at: dt.datetime
    created_by_label: str


class ModelDetailOut(ModelOut):
    coefficients: dict[str, float]
    training_summary: dict[str, Any]
    spec: dict[str, Any]


class RunOut(Schema):
    public_id: str
    model_version: int
    rank_by: str
    regional_level: int
    status: str
    households: int
    summary: dict[str, Any]
    started_at: dt.datetime
    created_by_label: str


class RunIn(Schema):
    model_version: int
    rank_by: str = "households"
    regional_level: int = 4


class EffectOut(Schema):
    proxy: str
    value: str
    effect: float


class ExplainOut(Schema):
    household_public_id: str
    model_version: int
    run_public_id: str
    score: float
    consumption_estimate: int
    desil_national: int
    desil_regional: int
    effects: list[EffectOut]
    rule: dict[str, Any] | None


class RuleIn(Schema):
    expression: str
    household_public_id: str | None = None


class RuleOut(Schema):
    expression: str
    names: list[str]
    # Counted only among households in the caller's regions; a count under TEPAT_MIN_CELL (or
    # whose complement is) is hidden: null, with `eligible_text` such as "< 10".
    eligible_households: int | None = None
    households: int | None = None
    eligible_text: str | None = None
    households_text: str | None = None
    scope: list[str] | None = None
    hidden: bool = False
    explanation: dict[str, Any] | None = None


class EvaluationOut(Schema):
    public_id: str
    scenario: str
    run_public_id: str
    model_version: int
    results: dict[str, Any]
    created_at: dt.datetime
    created_by_label: str


def _run_out(r: Any) -> RunOut:
    return RunOut(
        public_id=r.public_id, model_version=r.model.version, rank_by=r.rank_by,
        regional_level=r.regional_level, status=r.status, households=r.households,
        summary=r.summary, started_at=r.started_at, created_by_label=r.created_by_label,
    )  # fmt: skip


def _staff(request: HttpRequest) -> Any:
    user = request.user
    signed_in = getattr(user, "is_authenticated", False)
    if not signed_in or not (getattr(user, "role", None) or getattr(user, "is_superuser", False)):
        raise PermissionDenied()
    return user


@router.get("/models", response=list[ModelOut])
def models_list(request: HttpRequest) -> Any:
    _staff(request)
    return list(selectors.models_list())


@router.get("/models/{version}", response=ModelDetailOut)
def model_detail(request: HttpRequest, version: int) -> Any:
    _staff(request)
    return selectors.model_get(version=version)


class CalibrateIn(Schema):
    spec: str
    name: str = ""
    method: str | None = None
    quantile: float | None = None
    coverage: float | None = None
    folds: int | None = None
    area_effects: bool | None = None


@router.post("/models", response={201: ModelDetailOut})
def model_calibrate(
    request: HttpRequest, body: Form[CalibrateIn], survey: File[UploadedFile]
) -> Any:
    """Calibrate a PMT from an uploaded survey CSV and a spec (TOML text); saves the next version."""
    user = _staff(request)
    overrides = body.dict(exclude={"spec", "name"})
    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        for chunk in survey.chunks():
            tmp.write(chunk)
        tmp.flush()
        model = services.pmt_calibrate(
            acting_user=user, survey_path=Path(tmp.name), spec_text=body.spec,
            overrides=overrides, name=body.name, survey_name=survey.name or "survey.csv",
        )  # fmt: skip
    return Status(201, model)


@router.get("/scoring-runs", response=list[RunOut])
def runs_list(request: HttpRequest) -> Any:
    _staff(request)
    return [_run_out(r) for r in selectors.runs_list()[:100]]


@router.post("/scoring-runs", response={201: RunOut})
def run_create(request: HttpRequest, body: RunIn) -> Any:
    user = _staff(request)
    model = selectors.model_get(version=body.model_version)
    run = services.scoring_run(
        acting_user=user, model=model, rank_by=body.rank_by, regional_level=body.regional_level
    )
    return Status(201, _run_out(run))


@router.get("/households/{public_id}/explain", response=ExplainOut)
def household_explain(request: HttpRequest, public_id: str, rule: str = "") -> Any:
    user = _staff(request)
    parsed = rule_parse(rule) if rule else None
    return selectors.household_explain(user=user, public_id=public_id, rule=parsed)


@router.post("/rules/check", response=RuleOut)
def rule_check(request: HttpRequest, body: RuleIn) -> Any:
    """Validate a rule; count eligible households of the latest scoring run in the caller's
    regions (small counts hidden, every check audited); explain one household."""
    user = _staff(request)
    rule = rule_parse(body.expression)
    out = RuleOut(expression=rule.expression, names=sorted(rule.names()))
    counted = services.rule_count(acting_user=user, rule=rule, request=request)
    if counted is not None:
        out.eligible_households, out.households = counted.eligible, counted.households
        out.eligible_text, out.households_text = counted.eligible_text, counted.households_text
        out.scope, out.hidden = counted.scope, counted.hidden
    if body.household_public_id:
        ex = selectors.household_explain(user=user, public_id=body.household_public_id, rule=rule)
        out.explanation = ex.rule
    return out


class RuleSaveIn(Schema):
    name: str
    expression: str
    description: str = ""


class RuleSavedOut(Schema):
    public_id: str
    name: str
    expression: str
    description: str


@router.get("/rules", response=list[RuleSavedOut])
def rules_list(request: HttpRequest) -> Any:
    _staff(request)
    return list(selectors.rules_list())


@router.post("/rules", response={201: RuleSavedOut})
def rule_save(request: HttpRequest, body: RuleSaveIn) -> Any:
    user = _staff(request)
    rule = services.rule_save(
        acting_user=user, name=body.name, expression=body.expression, description=body.description
    )
    return Status(201, rule)


class ScenarioIn(Schema):
    name: str
    rule: str  # the rule's name
    quota_method: str = "none"
    quota_total: int | None = None
    budget_rupiah: int | None = None
    benefit_rupiah: int | None = None
    region_level: int = 4
    fixed_quotas: dict[str, int] = {}


class ScenarioOut(Schema):
    public_id: str
    name: str
    rule: str
    expression: str
    quota_method: str
    quota_total: int | None
    region_level: int


def _scenario_out(s: Any) -> ScenarioOut:
    return ScenarioOut(
        public_id=s.public_id, name=s.name, rule=s.rule.name, expression=s.rule.expression,
        quota_method=s.quota_method, quota_total=s.quota_total, region_level=s.region_level,
    )  # fmt: skip


@router.get("/scenarios", response=list[ScenarioOut])
def scenarios_list(request: HttpRequest) -> Any:
    _staff(request)
    return [_scenario_out(s) for s in selectors.scenarios_list()]


@router.post("/scenarios", response={201: ScenarioOut})
def scenario_save(request: HttpRequest, body: ScenarioIn) -> Any:
    user = _staff(request)
    rule = selectors.rule_get(name=body.rule)
    s = services.scenario_save(
        acting_user=user, name=body.name, rule=rule, quota_method=body.quota_method,
        quota_total=body.quota_total, budget_rupiah=body.budget_rupiah,
        benefit_rupiah=body.benefit_rupiah, region_level=body.region_level,
        fixed_quotas=body.fixed_quotas,
    )  # fmt: skip
    return Status(201, _scenario_out(s))


@router.post("/scenarios/{public_id}/evaluate", response={201: EvaluationOut})
def scenario_evaluate(request: HttpRequest, public_id: str) -> Any:
    user = _staff(request)
    scenario = selectors.scenario_get(public_id=public_id)
    ev = services.scenario_evaluate(acting_user=user, scenario=scenario)
    return Status(
        201,
        EvaluationOut(
        public_id=ev.public_id, scenario=scenario.name, run_public_id=ev.scoring_run.public_id,
        model_version=ev.scoring_run.model.version, results=selectors.evaluation_results(ev),
        created_at=ev.created_at, created_by_label=ev.created_by_label,
        ),
    )  # fmt: skip


__all__ = ["router", "rule_explain"]
