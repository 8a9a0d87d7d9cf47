"""Targeting pages: PMT model cards, scoring runs, the rule editor, scenario comparison and
per-household explanations. Views parse input, call a service or selector, and render."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from tepat.accounts.selectors import staff_user
from tepat.core import labels
from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.registry.choices import Sex
from tepat.targeting import disclosure, engine, exports, selectors, services
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
        quota_upload = request.FILES.get("quota_file")  # optional: area,quota[,households]
        try:
            if upload is None:
                raise TepatError(
                    "pilih berkas survei CSV / choose a survey CSV file", field="survey"
                )
            with (
                tempfile.NamedTemporaryFile(suffix=".csv") as tmp,
                tempfile.NamedTemporaryFile(suffix=".csv") as quota_tmp,
            ):
                for chunk in upload.chunks():
                    tmp.write(chunk)
                tmp.flush()
                if quota_upload is not None:
                    for chunk in quota_upload.chunks():
                        quota_tmp.write(chunk)
                    quota_tmp.flush()
                model = services.pmt_calibrate(
                    acting_user=staff_user(request), survey_path=Path(tmp.name), spec_text=spec_text,
                    name=request.POST.get("name", ""), survey_name=upload.name or "survey.csv",
                    quota_path=Path(quota_tmp.name) if quota_upload is not None else None,
                    quota_name=(quota_upload.name or "quota.csv") if quota_upload else "",
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
    return render(request, "targeting/model_card.html", _model_card_context(model))


def _method_label(method: str) -> str:
    """A PMT method in words ("OLS (kuadrat terkecil)"); an unknown one as stored."""
    from tepat.targeting.models import PmtModel

    known = dict(PmtModel.Method.choices)
    return str(known.get(method, method))


def _model_card_context(model: Any) -> dict[str, Any]:
    """What the card shows; models saved before issue 19 lack the comparison, the warnings and
    the standard errors, and show what they have."""
    m = model.metrics
    cv, train = m.get("cv", {}), m.get("train", {})
    folds = m.get("folds")
    if not isinstance(folds, dict):  # old models: the number of folds, and a flag
        folds = {"k": folds, "grouped": m.get("grouped_by_area"), "column": "", "groups": None}
    comparison = []
    table = m.get("comparison") or {model.method: {"cv": cv, "folds": {}}}
    for method in m.get("methods") or list(table):
        c = table[method]
        spread = c.get("folds") or {}
        comparison.append(
            {
                "method": method,
                "method_label": _method_label(method),
                "chosen": method == model.method,
                "cv": c["cv"],
                "auc": c["cv"].get("auc", c["cv"].get("auc_bottom40")),
                "sd": (spread.get("mistargeting") or {}).get("sd"),
                "r2_sd": (spread.get("r2") or {}).get("sd"),
            }
        )
    coefficients = m.get("coefficients")
    if coefficients is None:  # old models: the readable table without standard errors
        coefficients = [
            {"name": k, "coef": v, "se": None, "se_cluster": None}
            for k, v in model.coefficients.items()
        ]
    intercept = [c for c in coefficients if c["name"] == "intercept"]
    rest = sorted(
        (c for c in coefficients if c["name"] != "intercept"), key=lambda c: -abs(c["coef"])
    )
    importance = sorted((m.get("importance") or {}).items(), key=lambda kv: -kv[1])[:20]
    return {
        "model": model,
        "cv": cv,
        "train": train,
        "train_auc": train.get("auc", train.get("auc_bottom40")),
        "comparison": comparison,
        "selection": m.get("selection") or {},
        "coefficients": intercept + rest,
        "importance": importance,
        "warnings": m.get("warnings") or [],
        "target": model.training_summary.get("target") or {},
        "quota": m.get("quota", m.get("coverage")),
        "folds": folds,
    }


@login_required
@require_http_methods(["GET", "POST"])
def runs(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            model = selectors.model_get(version=int(request.POST.get("model_version", "0") or 0))
            services.scoring_run(
                acting_user=staff_user(request),
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
            "can_export": exports.can_export_scores(request.user),
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
            counted = services.rule_count(
                acting_user=staff_user(request), rule=rule, request=request
            )
            if counted is not None:
                ctx["counted"] = counted
            if household:
                ctx["explanation"] = selectors.household_explain(
                    user=request.user, public_id=household, rule=rule
                )
            if request.method == "POST" and ctx["name"]:
                services.rule_save(
                    acting_user=staff_user(request), name=ctx["name"], expression=expression
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
        bars: list[dict[str, Any]] = []
        for r in rows:
            value = r["overall"].get(metric)
            if value is None:  # hidden (a small count): no bar, and no gap in the chart
                continue
            width = round(value * 300, 1)
            bars.append(
                {"label": r["name"], "value": value, "width": width, "text_x": width + 205,
                 "y": len(bars) * 22}
            )  # fmt: skip
        out.append(
            {"metric": metric, "title": labels.label("targeting_metric", metric), "bars": bars,
             "height": max(len(bars), 1) * 22}
        )  # fmt: skip
    return out


def _by_head_sex(groups: dict[str, Any]) -> list[tuple[str, Any]]:
    """Evaluation groups keyed by the head's sex code (M, F, ? when unknown), in words."""
    named = {code: str(label) for code, label in Sex.choices}
    return [(named.get(code, gettext("tidak diketahui")), m) for code, m in groups.items()]


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
                services.scenario_evaluate(acting_user=staff_user(request), scenario=scenario)
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
                         "by_head_sex": _by_head_sex(results.get("by_head_sex", {})),
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
        acting_user=staff_user(request),
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


# --- community rankings (musyawarah desa) and hybrid targeting ---------------------------------


def _float_or(value: str | None, default: float, field: str) -> float:
    value = (value or "").replace(",", ".").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise TepatError(f"bukan angka / not a number: {value}", field=field) from None


def _community_import(request: HttpRequest) -> Any:
    from tepat.targeting import community as cm

    upload = request.FILES.get("ranking")
    if upload is None:
        raise TepatError("pilih berkas CSV / choose a CSV file", field="ranking")
    cols = cm.ImportColumns(
        village=request.POST.get("village_column", "") or "kode_desa",
        kk=request.POST.get("kk_column", ""), household=request.POST.get("household_column", ""),
        rank=request.POST.get("rank_column", ""), selected=request.POST.get("selected_column", ""),
        delimiter=request.POST.get("delimiter", ",") or ",",
    )  # fmt: skip
    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        return cm.community_import(
            acting_user=staff_user(request), path=Path(tmp.name), columns=cols,
            label=request.POST.get("label", ""), file_name=upload.name or "ranking.csv",
            request=request,
        )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def community(request: HttpRequest) -> HttpResponse:
    """Imports of village deliberation results, per-village coverage, one village's list and
    the PMT / community / hybrid comparison, all within the caller's regions."""
    from django.utils.translation import gettext as _

    from tepat.targeting import community as cm
    from tepat.targeting import hybrid

    if not services.can_check_rules(request.user):
        return render(request, "targeting/error.html", {"error": _("Akses ditolak")}, status=403)
    ctx: dict[str, Any] = {
        "can_import": services.can_manage_targeting(request.user),
        "hybrid_rules": hybrid.RULES,
        "runs": selectors.runs_list().filter(status="done")[:20],
        "form": request.GET,
    }
    if request.method == "POST":
        try:
            imp = _community_import(request)
            return redirect(f"{request.path}?import={imp.public_id}")
        except TepatError as exc:
            ctx["error"] = exc.message
            ctx["error_problems"] = [str(p) for p in exc.problems]
    try:
        if request.GET.get("import"):
            ctx["shown_import"] = cm.import_get(user=request.user, public_id=request.GET["import"])
            ctx["shown_problems"] = cm.problems_text(ctx["shown_import"].problems)
        if request.GET.get("village"):
            ctx["village_entries"] = cm.village_list(
                user=request.user, village_code=request.GET["village"], request=request
            )
            ctx["village"] = request.GET["village"]
        if request.GET.get("rule"):
            rule = hybrid.HybridRule(
                kind=request.GET["rule"],
                k=_float_or(request.GET.get("k"), hybrid.DEFAULT_K, "k"),
                weight=_float_or(request.GET.get("weight"), hybrid.DEFAULT_WEIGHT, "weight"),
            )
            run_id = request.GET.get("run") or None
            run = selectors.run_get(public_id=run_id) if run_id else None
            ctx["result"] = cm.community_compare(
                acting_user=staff_user(request), rule=rule, run=run, request=request,
                quota=_float_or(request.GET.get("quota"), 0.3, "quota"),
            )  # fmt: skip
            ctx["result_rows"] = _community_rows(ctx["result"])
    except TepatError as exc:
        ctx["error"] = exc.message
        ctx["error_problems"] = [str(p) for p in exc.problems]
    ctx["imports"] = cm.imports_visible(request.user)[:50]
    ctx["coverage"] = cm.coverage(user=request.user)
    return render(request, "targeting/community.html", ctx)


def _community_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparison as table rows: one per measure, one cell per list (PMT, community, hybrid)."""
    from django.utils.translation import gettext as _

    from tepat.targeting import hybrid

    lists = result["lists"]
    rows: list[dict[str, Any]] = [
        {"label": _("Terpilih (rumah tangga)"), "cells": [lists[k]["selected"] for k in hybrid.LISTS]},
        {"label": _("Cakupan"), "cells": [lists[k]["coverage"] for k in hybrid.LISTS]},
    ]  # fmt: skip
    names = {
        "mistargeting": _("Salah sasaran"),
        "inclusion_error": _("Kesalahan inklusi"),
        "exclusion_error": _("Kesalahan eksklusi"),
    }
    for block, where in (("all", _("semua desa")), ("ranked_villages", _("desa bermusyawarah"))):
        for metric, name in names.items():
            cells = [(lists[k].get(block) or {}).get(metric) for k in hybrid.LISTS]
            if any(c is not None for c in cells):
                rows.append({"label": f"{name} ({where})", "cells": cells})
    return rows


# --- exports (tepat.targeting.exports: who may, what is in them, why no names) ---------------


def _csv_response(chunks: Any, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET"])
def model_predictions_csv(request: HttpRequest, version: int) -> HttpResponseBase:
    """A model's out-of-fold predictions as CSV (admins, supervisors, auditors); audited."""
    try:
        model = selectors.model_get(version=version)
        chunks = exports.predictions_csv(
            acting_user=staff_user(request), model=model, request=request
        )
    except PermissionDenied as exc:
        return render(request, "targeting/error.html", {"error": exc.message}, status=403)
    except NotFound as exc:
        return render(request, "targeting/error.html", {"error": exc.message}, status=404)
    return _csv_response(chunks, f"pmt-v{version}-prediksi-oof.csv")


@login_required
@require_http_methods(["GET"])
def run_scores_csv(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """A scoring run's scores in the caller's regions (optionally one region), streamed as CSV;
    audited with the count and the scope before the first byte."""
    region = request.GET.get("region", "")
    try:
        run = exports.scoring_run_get(public_id)
        _, chunks = exports.scores_csv(
            acting_user=staff_user(request), run=run, region=region, request=request
        )
    except PermissionDenied as exc:
        return render(request, "targeting/error.html", {"error": exc.message}, status=403)
    except NotFound as exc:
        return render(request, "targeting/error.html", {"error": exc.message}, status=404)
    except TepatError as exc:
        return render(request, "targeting/error.html", {"error": exc.message}, status=400)
    suffix = f"-{region}" if region else ""
    return _csv_response(chunks, f"skor-{public_id}{suffix}.csv")
