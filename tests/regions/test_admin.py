"""Regions in the admin: visible for reading, never edited by hand."""

from __future__ import annotations

from django.contrib import admin
from django.test import RequestFactory

from tepat.regions.models import Region, RegionBoundary


def test_regions_and_boundaries_are_read_only_in_the_admin():
    request = RequestFactory().get("/admin/")
    for model in (Region, RegionBoundary):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
