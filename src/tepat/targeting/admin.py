"""Read-only admin views: models, runs and evaluations are written only through the services
(which record who ran them and audit it), never edited by hand."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tepat.targeting.models import EvaluationRun, PmtModel, Rule, Scenario, ScoringRun


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PmtModel)
class PmtModelAdmin(_ReadOnly):
    list_display = ("version", "name", "method", "created_at", "created_by_label")


@admin.register(ScoringRun)
class ScoringRunAdmin(_ReadOnly):
    list_display = ("public_id", "model", "rank_by", "households", "status", "started_at")


@admin.register(Rule)
class RuleAdmin(_ReadOnly):
    list_display = ("name", "expression", "created_at")


@admin.register(Scenario)
class ScenarioAdmin(_ReadOnly):
    list_display = ("name", "rule", "quota_method", "quota_total", "region_level")


@admin.register(EvaluationRun)
class EvaluationRunAdmin(_ReadOnly):
    list_display = ("public_id", "scenario", "scoring_run", "created_at", "created_by_label")
