"""Data-subject requests in the admin: read-only. They change only through the services, which
keep the deadline, the maker-checker rule, the history and the audit trail."""

from __future__ import annotations

from django.contrib import admin

from tepat.core.admin import ReadOnlyModelAdmin
from tepat.privacy.models import DataSubjectRequest, RequestEvent


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnlyModelAdmin):
    list_display = (
        "public_id",
        "kind",
        "status",
        "channel",
        "region_code",
        "received_at",
        "due_at",
    )
    list_filter = ("kind", "status", "channel")
    search_fields = ("public_id", "household_public_id")
    exclude = ("details", "requested_changes", "approved_changes")


@admin.register(RequestEvent)
class RequestEventAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "request", "action", "from_status", "to_status", "actor_label")
    list_filter = ("action",)
