"""Read-only views of the log for staff: the log is append-only, so nothing here writes."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tepat.ledger.models import Checkpoint, LogEntry, WitnessCosignature


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LogEntry)
class LogEntryAdmin(_ReadOnly):
    list_display = ("index", "kind", "ref", "sequenced_at")
    list_filter = ("kind",)
    search_fields = ("ref",)


@admin.register(Checkpoint)
class CheckpointAdmin(_ReadOnly):
    list_display = ("size", "created_at")


@admin.register(WitnessCosignature)
class WitnessCosignatureAdmin(_ReadOnly):
    list_display = ("witness", "checkpoint", "created_at")
