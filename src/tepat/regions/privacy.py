"""Regions are public reference data (Kemendagri codes, names, boundaries)."""

from __future__ import annotations

from tepat.core.declarations import AppDeclaration

DECLARATION = AppDeclaration(
    app="regions",
    no_personal_data=("regions.Region", "regions.RegionBoundary"),
)
