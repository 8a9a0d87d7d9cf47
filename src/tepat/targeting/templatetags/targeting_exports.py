"""Who sees the export links: the same checks the export views and services apply."""

from __future__ import annotations

from typing import Any

from django import template

from tepat.targeting import exports

register = template.Library()


@register.simple_tag
def can_export_predictions(user: Any) -> bool:
    return exports.can_export_predictions(user) if user is not None else False


@register.simple_tag
def can_export_scores(user: Any) -> bool:
    return exports.can_export_scores(user) if user is not None else False
