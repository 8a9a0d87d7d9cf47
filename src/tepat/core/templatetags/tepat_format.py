"""Formatting filters every page shares: `{% load tepat_format %}`.

- `{{ amount|rupiah }}`: integer rupiah as people read it (``Rp5.831.325``), never raw digits.
- `{{ code|label:"import_status" }}`: a stored code that is no model choice, in words
  (core.labels); model choices use `get_FOO_display`.
- `{{ action|audit_domain }}`: what an audit action touched, in words.
- `{{ value|svg_number }}`: a number for an SVG attribute or script data, always with a decimal
  point (Indonesian formats write ``12,5``, which SVG reads as two numbers or none). Django's
  own `{% load l10n %}{{ value|unlocalize }}` does the same for plain values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from tepat.core import labels
from tepat.core.money import format_rupiah

register = template.Library()


@register.filter
def rupiah(value: Any) -> str:
    """``5831325`` -> ``Rp5.831.325``; an empty value stays empty (a dash is the template's job)."""
    if value is None or value == "" or isinstance(value, bool):
        return "" if value in (None, "") else str(value)
    try:
        # An estimate (a float or a Decimal) rounds to the nearest rupiah; text must be digits.
        amount = round(value) if isinstance(value, (float, Decimal)) else int(value)
        return format_rupiah(amount)
    except (TypeError, ValueError, ArithmeticError):
        return str(value)


@register.filter
def label(value: Any, kind: str) -> str:
    """The words for a stored code (core.labels); the code itself when it has none."""
    return labels.label(kind, value)


@register.filter
def audit_domain(value: Any) -> str:
    return labels.audit_domain(str(value or ""))


@register.filter
def svg_number(value: Any) -> str:
    """``12.5`` -> ``"12.5"`` in every language; integers stay integers; not a number -> "0"."""
    if isinstance(value, bool) or value is None or value == "":
        return "0"
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return "0"
    if not number.is_finite():
        return "0"
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")
