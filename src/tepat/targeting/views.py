"""Targeting pages: PMT model cards, scoring runs, the rule editor, scenario comparison and
per-household explanations. Views parse input, call a service or selector, and render."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tepat.core.errors import NotFound, TepatError
from tepat.targeting import disclosure, engine, selectors, services
from tepat.targeting.models import Scenario
from tepat.targeting.rules import rule_parse

CHART_METRICS = ("coverage", "inclusion_error", "exclusion_error")


DEFAULT_SPEC = Path(__file__).parent / "specs" / "synth_survey.toml"


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """Model list, and a calibration form (survey upload + spec) for those who may calibrate."""
    error = ""
    spec_text = DEFAULT_SPEC.read_text(encoding="utf-8")
    if request.method == "POST":
        spec_text = request.POST.get("spec", "")
        upload = request.FILES.get("survey")
        try:
            if upload is None:
                raise TepatError(
                    "pilih berkas survei CSV / choose a survey CSV file", field="survey"
                )
            with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
                for chunk in upload.chunks():
                    tmp.write(chunk)
                tmp.flush()
                model = services.pmt_calibrate(
                    acting_user=request.user, survey_path=Path(tmp.name), spec_text=spec_text,
                    name=request.POST.get("name", ""), survey_name=upload.name or "survey.csv",
                )  # fmt: skip
            return redirect("targeting:model", version=model.version)
        except TepatError as exc:
            error = "; ".join(str(p) for p in exc.problems) or exc.message
    return render(
        request,
        "targeting/index.html",
        {
            "models": selectors.models_list()[:50],
            "runs": selectors.runs_list()[:20],
            "can_manage": services.can_manage_targeting(request.user),
            "spec_text": spec_text,
            "error": error,
        },
    )


@login_required
def model_card(request: HttpRequest, version: int) -> HttpResponse:
    try:
        model = selectors.model_get(version=version)
    except NotFound as exc:
        return render(request, "targeting/error.html", {"error": exc.message}, status=404)
    coefs = sorted(
        ((k, v) for k, v in model.coefficients.items() if k != "intercept"),
        key=lambda kv: -abs(kv[1]),
    )
    return render(
        request,
        "targeting/model_card.html",
        {
            "model": model,
            "coefficients": coefs,
            "cv": model.metrics["cv"],
            "train": model.metrics["train"],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def runs(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            model = selectors.model_get(version=int(request.POST.get("model_version", "0") or 0))
            services.scoring_run(
                acting_user=request.user,
                model=model,
                rank_by=request.POST.get("rank_by", "households"),
                regional_level=int(request.POST.get("regional_level", "4") or 4),
            )
            return redirect("targeting:runs")
        except (TepatError, ValueError) as exc:
            error = getattr(exc, "message", str(exc))
    return render(
        request,
        "targeting/runs.html",
        {
            "runs": selectors.runs_list()[:100],
            "models": selectors.models_list(),
            "can_manage": services.can_manage_targeting(request.user),
            "error": error,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    expression = data.get("expression", "").strip()
    household = data.get("household", "").strip()
    ctx: dict[str, Any] = {
        "expression": expression,
        "household": household,
        "name": data.get("name", ""),
        "rules": selectors.rules_list(),
        "can_manage": services.can_manage_targeting(request.user),
        "known": sorted(engine_names()),
    }
    if expression:
        try:
            rule = rule_parse(expression)
            ctx["valid"] = True
            counted = services.rule_count(acting_user=request.user, rule=rule, request=request)
            if counted is not None:
                ctx["counted"] = counted
            if household:
                ctx["explanation"] = selectors.household_explain(
                    user=request.user, public_id=household, rule=rule
                )
            if request.method == "POST" and ctx["name"]:
                services.rule_save(
                    acting_user=request.user, name=ctx["name"], expression=expression
                )
                ctx["saved"] = True
        except TepatError as exc:
            ctx["error"] = exc.message
    return render(request, "targeting/rules.html", ctx)


def engine_names() -> list[str]:
    from tepat.targeting.features import FLAG_NAMES
    from tepat.targeting.rules import KNOWN

    return [*KNOWN, *(f"flags.{f}" for f in FLAG_NAMES)]


def _bars(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inline SVG bar geometry: one group per metric, one bar per scenario (0..1 scale)."""
    out = []
    for metric in CHART_METRICS:
        bars = []
        for i, r in enumerate(rows):
            value = r["overall"].get(metric)
            if value is None:
                continue
            bars.append(
                {"label": r["name"], "value": value, "width": round(value * 300, 1), "y": i * 22}
            )
        out.append({"metric": metric, "bars": bars, "height": max(len(bars), 1) * 22})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def scenarios(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "create":
                _scenario_create(request)
            else:
                scenario = selectors.scenario_get(public_id=request.POST.get("scenario", ""))
                services.scenario_evaluate(acting_user=request.user, scenario=scenario)
            return redirect("targeting:scenarios")
        except TepatError as exc:
            error = "; ".join(str(p) for p in exc.problems) or exc.message
    items = list(selectors.scenarios_list())
    # Evaluations are national figures: only national roles see them, with small counts hidden.
    national = services.is_national(request.user)
    latest = selectors.evaluations_latest(items) if national else {}
    shown = {pk: selectors.evaluation_results(ev) for pk, ev in latest.items()}
    chosen = set(request.GET.getlist("compare")) or {s.public_id for s in items}
    rows = []
    for s in items:
        ev = latest.get(s.pk)
        if ev is not None and s.public_id in chosen:
            results = shown[s.pk]
            rows.append({"name": s.name, "scenario": s, "evaluation": ev, "overall": results["overall"],
                         "by_head_sex": results.get("by_head_sex", {}),
                         "by_household_size": results.get("by_household_size", {})})  # fmt: skip
    return render(
        request,
        "targeting/scenarios.html",
        {
            "scenarios": items,
            "listing": [
                {"s": s, "ev": latest.get(s.pk), "results": shown.get(s.pk)} for s in items
            ],
            "national": national,
            "min_cell": disclosure.min_cell(),
            "rows": rows,
            "charts": _bars(rows),
            "can_manage": services.can_manage_targeting(request.user),
            "can_evaluate": services.can_manage_targeting(request.user) and national,
            "rules": selectors.rules_list(),
            "quota_methods": Scenario.QuotaMethod.choices,
            "error": error,
        },
    )


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").replace(".", "").replace(",", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise TepatError(f"bukan bilangan bulat / not a whole number: {value}")
    return int(value)


def _scenario_create(request: HttpRequest) -> None:
    rule = selectors.rule_get(name=request.POST.get("rule", ""))
    services.scenario_save(
        acting_user=request.user,
        name=request.POST.get("name", ""),
        rule=rule,
        quota_method=request.POST.get("quota_method", "none"),
        quota_total=_int_or_none(request.POST.get("quota_total")),
        budget_rupiah=_int_or_none(request.POST.get("budget_rupiah")),
        benefit_rupiah=_int_or_none(request.POST.get("benefit_rupiah")),
        region_level=_int_or_none(request.POST.get("region_level")) or 4,
    )


@login_required
def household(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        ex = selectors.household_explain(user=request.user, public_id=public_id)
    except NotFound as exc:
        return render(request, "targeting/error.html", {"error": exc.message}, status=404)
    return render(request, "targeting/household.html", {"ex": ex, "levels": engine.LEVEL_NAMES})
