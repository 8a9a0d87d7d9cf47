"""The audit trail in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tepat.core.models import AuditEvent


class ReadOnlyModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """For records written only by services (audit, alerts, releases): the admin may show them,
    never add, change or delete them, whoever is signed in."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "actor_label", "action", "target_type", "target_id", "ip_address")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_id")
