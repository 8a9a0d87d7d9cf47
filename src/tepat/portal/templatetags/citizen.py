"""Template helpers for the citizen pages, which are the busiest pages of the site."""

from __future__ import annotations

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()

# URL names -> paths, per script prefix. Reversing is pure (same name, same prefix, same path),
# and the citizen layout reverses a dozen names on every page, the status check included.
_PATHS: dict[tuple[str, str], str] = {}


@register.simple_tag
def citizen_url(name: str) -> str:
    """`{% url name %}` for argument-free URL names, remembered after the first reverse."""
    key = (name, get_script_prefix())
    path = _PATHS.get(key)
    if path is None:
        path = _PATHS[key] = reverse(name)
    return path
