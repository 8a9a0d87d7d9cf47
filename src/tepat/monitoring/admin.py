"""Alert rules and alerts are written through the monitoring services (scope checks, audit),
never by hand in the admin."""

from django.contrib import admin

from tepat.core.admin import ReadOnlyModelAdmin
from tepat.monitoring.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "metric", "threshold", "region_code", "active")


@admin.register(Alert)
class AlertAdmin(ReadOnlyModelAdmin):
    list_display = ("rule", "cycle", "region_code", "subject", "value", "state", "opened_at")
