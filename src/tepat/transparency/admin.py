"""Refreshes and open-data releases are written by `tepat transparency`, never by hand: a release
row names the folder its files are served from."""

from django.contrib import admin

from tepat.core.admin import ReadOnlyModelAdmin
from tepat.transparency.models import OpenDataRelease, RefreshRun


@admin.register(RefreshRun)
class RefreshRunAdmin(ReadOnlyModelAdmin):
    list_display = ("finished_at", "cells", "hidden", "threshold")


@admin.register(OpenDataRelease)
class OpenDataReleaseAdmin(ReadOnlyModelAdmin):
    list_display = ("release_date", "public_id", "directory", "threshold")
