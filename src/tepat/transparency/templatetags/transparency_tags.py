from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tepat.core.money import format_rupiah

register = template.Library()


def _hidden() -> SafeString:
    return format_html(
        '<span class="tepat-hidden" title="{}">{}</span>',
        _("Disembunyikan: sel kecil atau dapat dihitung dari sel kecil"),
        "•",
    )


@register.filter
def count_or_hidden(value: int | None) -> str:
    if value is None:
        return _hidden()
    return f"{value:,}".replace(",", ".")


@register.filter
def rupiah_or_hidden(value: int | None) -> str:
    if value is None:
        return _hidden()
    return format_rupiah(value)


@register.filter
def percent_or_hidden(value: int | None) -> str:
    if value is None:
        return _hidden()
    return f"{value}%"
