from django.contrib import admin

from tepat.monitoring.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "metric", "threshold", "region_code", "active")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("rule", "cycle", "region_code", "value", "state", "opened_at")
