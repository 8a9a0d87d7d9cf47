"""Formatting filters every page shares: `{% load tepat_format %}`.

- `{{ amount|rupiah }}`: integer rupiah as people read it (``Rp5.831.325``), never raw digits.
- Numbers inside SVG attributes or data for scripts must never carry a decimal comma: use
  Django's own `{% load l10n %}{{ value|unlocalize }}` there.
"""

from __future__ import annotations

from typing import Any

from django import template

from tepat.core.money import format_rupiah

register = template.Library()


@register.filter
def rupiah(value: Any) -> str:
    """``5831325`` -> ``Rp5.831.325``; an empty value stays empty (a dash is the template's job)."""
    if value is None or value == "":
        return ""
    try:
        return format_rupiah(int(value))
    except (TypeError, ValueError):
        return str(value)
