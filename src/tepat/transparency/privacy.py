"""Transparency publishes aggregates only: counts per region with small cells suppressed."""

from __future__ import annotations

from tepat.core.declarations import AppDeclaration

DECLARATION = AppDeclaration(
    app="transparency",
    no_personal_data=(
        "transparency.AggregateCell",
        "transparency.RefreshRun",
        "transparency.OpenDataRelease",
    ),
)
