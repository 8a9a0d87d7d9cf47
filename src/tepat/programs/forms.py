"""The form of the "start a cycle" page: it parses and bounds the input; the rules (dates inside
the programme, control totals, the region inside the maker's scopes, a unique code) are
`services.cycle_create`'s, whose problems the view puts back next to the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tepat.accounts import scoping
from tepat.core.errors import FieldProblem
from tepat.programs.models import Programme
from tepat.regions.selectors import dotted, region_children, region_names

# Field names the service's problems use that are not the form's own.
PROBLEM_FIELDS = {"control_totals": "control_amount"}
_MAX_AMOUNT = 10**15  # a quadrillion rupiah: beyond any budget, within a 64-bit column


class DateInput(forms.DateInput):
    input_type = "date"


def region_choices(user: Any) -> list[tuple[str, str]]:
    """The regions the user may start a cycle for: a national actor (admin) nationally or for a
    province; everyone else one of their own scopes."""
    if scoping.is_national_actor(user):
        return [("", str(_("Nasional")))] + [
            (r.code, f"{r.name} ({dotted(r.code)})") for r in region_children(None)
        ]
    codes = [str(c) for c in getattr(user, "region_codes", None) or []]
    names = region_names(codes)
    return [(c, f"{names.get(c, dotted(c))} ({dotted(c)})") for c in codes]


class CycleCreateForm(forms.Form):
    programme = forms.ModelChoiceField(
        label=_("Program"),
        queryset=Programme.objects.all(),
        to_field_name="public_id",
        empty_label=None,
    )
    code = forms.CharField(
        label=_("Kode tahap"),
        max_length=32,
        help_text=_("Misalnya 2026-T1; unik dalam program."),
    )
    instalment = forms.IntegerField(label=_("Tahap ke-"), min_value=1, max_value=32767, initial=1)
    period_start = forms.DateField(label=_("Periode mulai"), widget=DateInput)
    period_end = forms.DateField(label=_("Periode selesai"), widget=DateInput)
    region_code = forms.ChoiceField(label=_("Wilayah"), required=False)
    control_count = forms.IntegerField(
        label=_("Total kontrol: jumlah penerima"),
        min_value=0,
        max_value=2**31 - 1,
        help_text=_("Batas atas penerima; daftar yang melebihinya ditolak seluruhnya."),
    )
    control_amount = forms.IntegerField(
        label=_("Total kontrol: jumlah rupiah"),
        min_value=0,
        max_value=_MAX_AMOUNT,
        help_text=_("Batas atas dana tahap ini, dalam rupiah tanpa titik (misalnya 5000000000)."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = region_choices(user)
        region = self.fields["region_code"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = choices
        if len(choices) == 1:
            self.fields["region_code"].initial = choices[0][0]
        for name, field in self.fields.items():
            attrs = field.widget.attrs
            attrs["class"] = "usa-select" if name in ("programme", "region_code") else "usa-input"
            if field.help_text:
                attrs["aria-describedby"] = f"id_{name}_helptext"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("Periode selesai tidak boleh sebelum periode mulai."))
        return data

    def add_problems(self, problems: list[FieldProblem]) -> None:
        """Put a service's problems next to the fields they name (the rest above the form)."""
        for p in problems:
            name = PROBLEM_FIELDS.get(p.field, p.field)
            self.add_error(name if name in self.fields else None, p.message)
