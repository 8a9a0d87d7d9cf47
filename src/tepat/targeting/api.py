"""Targeting API: PMT models, scoring runs, household explanations, rule checks, scenarios."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.params import functions as param
from ninja.responses import Status

from tepat.accounts.selectors import staff_user
from tepat.core.apischema import ErrorOut
from tepat.core.errors import PermissionDenied
from tepat.core.paging import MAX_INT32, MAX_OFFSET
from tepat.targeting import exports, selectors, services
from tepat.targeting.rules import rule_explain, rule_parse

router = Router(tags=["targeting"])

VERSION_PATH = param.Path(..., ge=1, le=MAX_INT32, description="a PMT model's version")


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


class ScoringRunOut(Schema):
    public_id: str
    model_version: int
    rank_by: str
    regional_level: int
    status: str
    households: int
    summary: dict[str, Any]
    started_at: dt.datetime
    created_by_label: str


class ScoringRunIn(Schema):
    model_version: int = Field(ge=1, le=MAX_INT32)
    rank_by: Literal["households", "persons"] = "households"  # ScoringRun.RankBy
    regional_level: Literal[2, 4, 6, 10] = 4  # services.REGION_LEVELS


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


def _run_out(r: Any) -> ScoringRunOut:
    return ScoringRunOut(
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
def model_detail(request: HttpRequest, version: int = VERSION_PATH) -> Any:
    _staff(request)
    return selectors.model_get(version=version)


class CalibrateIn(Schema):
    spec: str = Field(min_length=1)  # a form sends an empty value as none at all
    name: str = ""
    methods: str | None = None  # comma-separated, e.g. "ols,enet,gbm,ensemble"
    method: str | None = None
    select: str | None = None  # auto | one of the methods
    quantile: float | None = None
    quota: float | None = None
    coverage: float | None = None  # the old name of quota
    folds: int | None = None
    area_effects: str | None = None  # none | fixed | random (true = fixed, false = none)


@router.post("/models", response={201: ModelDetailOut})
def model_calibrate(
    request: HttpRequest, body: Form[CalibrateIn], survey: File[UploadedFile]
) -> Any:
    """Calibrate a PMT from an uploaded survey CSV and a spec (TOML text); saves the next version.

    Every method in the spec (or `methods`) is compared on the same folds; `metrics` holds the
    comparison, the selection and its reason, the fold split, the warnings and the coefficients
    with standard errors. Admins and supervisors only. No quota file here: give quotas as a
    spec `quota_column` (or use the page's upload or `tepat pmt calibrate --quota-file`)."""
    user = _staff(request)
    if not services.can_manage_targeting(user):
        raise PermissionDenied()
    overrides = body.dict(exclude={"spec", "name", "methods", "area_effects"})
    if body.methods:
        overrides["methods"] = [m.strip() for m in body.methods.split(",") if m.strip()]
    if body.area_effects is not None:
        legacy = {"true": "fixed", "false": "none"}
        overrides["area_effects"] = legacy.get(body.area_effects.lower(), body.area_effects)
    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        for chunk in survey.chunks():
            tmp.write(chunk)
        tmp.flush()
        model = services.pmt_calibrate(
            acting_user=user, survey_path=Path(tmp.name), spec_text=body.spec,
            overrides=overrides, name=body.name, survey_name=survey.name or "survey.csv",
        )  # fmt: skip
    return Status(201, model)


@router.get("/scoring-runs", response=list[ScoringRunOut])
def runs_list(request: HttpRequest) -> Any:
    _staff(request)
    return [_run_out(r) for r in selectors.runs_list()[:100]]


@router.post("/scoring-runs", response={201: ScoringRunOut})
def run_create(request: HttpRequest, body: ScoringRunIn) -> Any:
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


# --- exports: out-of-fold predictions and registry scores (tepat.targeting.exports) -----------


EXPORT_ERRORS: dict[int, type[Schema]] = {
    403: ErrorOut, 404: ErrorOut, 422: ErrorOut,
}  # fmt: skip


class ExportPageIn(Schema):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class ScoresPageIn(ExportPageIn):
    region: str = Field("", description="a region code (2, 4, 6 or 10 digits) inside your scope")


class PmtPredictionRowOut(Schema):
    row: int = Field(description="1-based data row of the survey file")
    fold: int | None = None
    outcome: float | None = Field(None, description="the modelled outcome of the row")
    poor: int | None = Field(None, description="1 when the row is poor (the target), else 0")
    score: float | None = Field(None, description="welfare index from a model that never saw it")
    weight: float | None = None


class PmtPredictionPageOut(Schema):
    model_version: int
    count: int
    limit: int
    offset: int
    items: list[PmtPredictionRowOut]


class HouseholdScoreRowOut(Schema):
    household_public_id: str
    village_code: str
    score: float = Field(description="welfare index, lower = poorer")
    desil_national: int
    desil_regional: int


class HouseholdScorePageOut(Schema):
    run_public_id: str
    model_version: int
    scope: list[str] = Field(description='your region codes, or ["nasional"]')
    region: str
    count: int = Field(description="households of the run in scope")
    limit: int
    offset: int
    items: list[HouseholdScoreRowOut]


@router.get(
    "/models/{version}/predictions",
    response={200: PmtPredictionPageOut, **EXPORT_ERRORS},
    summary="Prediksi out-of-fold / a model's out-of-fold predictions",
)
def model_predictions(
    request: HttpRequest, page: Query[ExportPageIn], version: int = VERSION_PATH
) -> Any:
    """Per usable survey row: its fold, outcome, whether poor, the score of the model fitted
    without that row's fold, and its weight, for recomputing the model card independently.
    Admins, supervisors and auditors; audited."""
    model = selectors.model_get(version=version)
    count, rows = exports.predictions_page(
        acting_user=staff_user(request), model=model, limit=page.limit, offset=page.offset,
        request=request,
    )  # fmt: skip
    return {
        "model_version": model.version, "count": count, "limit": page.limit,
        "offset": page.offset, "items": rows,
    }  # fmt: skip


@router.get(
    "/scoring-runs/{public_id}/scores",
    response={200: HouseholdScorePageOut, **EXPORT_ERRORS},
    summary="Skor per rumah tangga / a scoring run's household scores in your regions",
)
def run_scores(request: HttpRequest, public_id: str, page: Query[ScoresPageIn]) -> Any:
    """Household public id, village code, score and both desil, in household order, only for
    households in your regions (a region outside them: 404). No names, NIK or No. KK (data
    minimisation). Admins, supervisors, operators and auditors; every page audited."""
    run = exports.scoring_run_get(public_id)
    scope, count, rows = exports.scores_page(
        acting_user=staff_user(request), run=run, limit=page.limit, offset=page.offset,
        region=page.region, request=request,
    )  # fmt: skip
    return {
        "run_public_id": run.public_id, "model_version": run.model.version,
        "scope": scope.codes, "region": scope.region, "count": count, "limit": page.limit,
        "offset": page.offset, "items": rows,
    }  # fmt: skip


__all__ = ["router", "rule_explain"]


# --- community rankings (musyawarah desa) and hybrid targeting ---------------------------------


class CommunityImportFormIn(Schema):
    """Which columns hold what (tepat.targeting.community.ImportColumns): one household key
    (`kk_column`, default no_kk, or `household_column`, the household's public id) and one
    result (`rank_column`, 1 = poorest, default peringkat, or `selected_column`, ya/tidak)."""

    label: str = ""
    village_column: str = "kode_desa"
    kk_column: str = ""
    household_column: str = ""
    rank_column: str = ""
    selected_column: str = ""
    delimiter: str = ","  # , ; | or tab


class CommunityProblemOut(Schema):
    code: str  # e.g. kk_unknown, village_mismatch, rank_repeated, village_partial
    field: str
    severity: str  # error: rows set aside; warning: kept, but worth knowing
    message: str
    count: int
    rows: list[int]  # the first data rows (1 = first row after the header)


class CommunityImportOut(Schema):
    public_id: str
    label: str
    file_name: str
    sha256: str
    kind: str  # rank | selected
    columns: dict[str, str]
    rows_read: int
    rows_used: int
    villages: list[str]
    region_code: str
    problems: list[CommunityProblemOut]
    created_at: dt.datetime
    created_by_label: str


class CommunityCoverageOut(Schema):
    village_code: str
    village_name: str
    households: int  # in the registry
    ranked: int  # listed by the village's current import
    selected: int | None  # chosen (yes/no lists only)
    kind: str
    import_public_id: str
    imported_at: dt.datetime


class CommunityHouseholdOut(Schema):
    household_public_id: str
    rank: int | None
    selected: bool | None
    row: int


class CommunityCompareIn(Schema):
    run: str | None = None  # scoring run id; default the latest finished
    rule: Literal["shortlist", "weighted", "community_veto", "community_only", "pmt_only"] = (
        "shortlist"  # hybrid.RULES
    )
    k: float = Field(1.5, ge=1, le=1000)  # shortlist / community_veto: k x quota
    weight: float = Field(0.5, ge=0, le=1)  # weighted: the community's weight
    quota: float = Field(0.3, gt=0, le=1)  # share selected in each village
    target_share: float | None = Field(None, gt=0, le=1)  # poorest share by truth; default quota


class CommunityCompareOut(Schema):
    """PMT only, community only and the hybrid rule side by side (tepat.targeting.hybrid):
    `lists` {pmt, community, hybrid} each {selected, coverage, all, ranked_villages} where the
    error blocks hold mistargeting, inclusion_error, exclusion_error, leakage and coverage (null
    without truth); `agreement` the overlap of each pair of lists."""

    run: str
    model_version: int
    rank_by: str
    scope: list[str]
    rule: dict[str, Any]
    rule_label: str
    quota: float | str
    target_share: float | None
    villages: dict[str, int]
    households: dict[str, int]
    lists: dict[str, dict[str, Any]]
    agreement: dict[str, float | None]
    rank_correlation: dict[str, float | None] | None


@router.get("/community/imports", response=list[CommunityImportOut])
def community_imports(request: HttpRequest) -> Any:
    """Imports with a village in the caller's regions (admins, supervisors, operators, auditors)."""
    from tepat.targeting import community

    return community.imports_visible(_staff(request))


@router.post("/community/imports", response={201: CommunityImportOut})
def community_import(
    request: HttpRequest, body: Form[CommunityImportFormIn], ranking: File[UploadedFile]
) -> Any:
    """Import a village deliberation's result (CSV). Admins and supervisors; a supervisor's rows
    of villages outside their regions are set aside. Rows set aside and warnings come back in
    `problems`; a file with no usable row is refused (422) with every reason."""
    from tepat.targeting import community

    user = _staff(request)
    cols = community.ImportColumns(
        village=body.village_column, kk=body.kk_column, household=body.household_column,
        rank=body.rank_column, selected=body.selected_column, delimiter=body.delimiter,
    )  # fmt: skip
    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        for chunk in ranking.chunks():
            tmp.write(chunk)
        tmp.flush()
        imp = community.community_import(
            acting_user=user, path=Path(tmp.name), columns=cols, label=body.label,
            file_name=ranking.name or "ranking.csv", request=request,
        )  # fmt: skip
    return Status(201, imp)


@router.get("/community/imports/{public_id}", response=CommunityImportOut)
def community_import_detail(request: HttpRequest, public_id: str) -> Any:
    from tepat.targeting import community

    user = _staff(request)
    if not services.can_check_rules(user):
        raise PermissionDenied()
    return community.import_get(user=user, public_id=public_id)


@router.get("/community/coverage", response=list[CommunityCoverageOut])
def community_coverage(request: HttpRequest) -> Any:
    """Per village in the caller's regions: registry households and how many the current
    deliberation result lists (counts only)."""
    from tepat.targeting import community

    return community.coverage(user=_staff(request))


@router.get("/community/villages/{village_code}", response=list[CommunityHouseholdOut])
def community_village(request: HttpRequest, village_code: str) -> Any:
    """One village's current deliberation result, household by household (region-scoped; a read
    of personal data, audited)."""
    from tepat.targeting import community

    user = _staff(request)
    return community.village_list(user=user, village_code=village_code, request=request)


@router.post("/community/compare", response=CommunityCompareOut)
def community_compare(request: HttpRequest, body: CommunityCompareIn) -> Any:
    """PMT, community and hybrid side by side at the same quota per village, over the caller's
    regions, with errors where truth is loaded. Audited."""
    from tepat.targeting import community, hybrid

    user = _staff(request)
    rule = hybrid.HybridRule(kind=body.rule, k=body.k, weight=body.weight)
    run = selectors.run_get(public_id=body.run) if body.run else None
    return community.community_compare(
        acting_user=user, rule=rule, quota=body.quota, run=run, target_share=body.target_share,
        request=request,
    )  # fmt: skip
