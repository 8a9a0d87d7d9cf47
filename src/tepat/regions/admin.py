from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from tepat.regions.models import Region, RegionBoundary


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Regions come from `tepat regions load` and boundaries from `load-boundaries`, not by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["dotted_code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "dotted_code", "name"]
    list_select_related = ["parent"]
    show_full_result_count = False  # counting 91k rows on every page is wasted work


@admin.register(RegionBoundary)
class RegionBoundaryAdmin(ReadOnlyAdmin):
    list_display = ["region", "source", "loaded_at"]
    search_fields = ["region__code", "region__name"]
    list_select_related = ["region"]
    exclude = ["geometry"]  # megabytes of coordinates help nobody in a form
