from django.contrib import admin

from tepat.transparency.models import OpenDataRelease, RefreshRun


@admin.register(RefreshRun)
class RefreshRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("finished_at", "cells", "hidden", "threshold")


@admin.register(OpenDataRelease)
class OpenDataReleaseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("release_date", "public_id", "directory", "threshold")
