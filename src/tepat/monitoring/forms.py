"""Forms of the incident pages: they parse input; the services validate and decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tepat.monitoring.models import (
    DataCategory,
    IncidentStatus,
    NoticeAudience,
    NoticeChannel,
    Severity,
)


class _LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class IncidentForm(forms.Form):
    """Times are entered in local time (Asia/Jakarta) and stored in UTC."""

    title = forms.CharField(label=_("Judul"), max_length=200)
    severity = forms.ChoiceField(label=_("Tingkat keparahan"), choices=Severity.choices)
    detected_at = forms.DateTimeField(
        label=_("Terdeteksi (waktu setempat)"),
        widget=_LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        required=False,
        help_text=_("Kosong: sekarang. Batas pemberitahuan 3 x 24 jam dihitung dari waktu ini."),
    )
    region_code = forms.CharField(
        label=_("Kode wilayah"), max_length=13, required=False,
        help_text=_("Kosong: nasional."),
    )  # fmt: skip
    affected_estimate = forms.IntegerField(
        label=_("Perkiraan jumlah subjek data terdampak"), min_value=0, required=False
    )
    data_categories = forms.MultipleChoiceField(
        label=_("Kategori data"), choices=DataCategory.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    description = forms.CharField(
        label=_("Apa yang terjadi (kapan dan bagaimana)"), widget=forms.Textarea, required=False
    )
    consequences = forms.CharField(
        label=_("Akibat yang mungkin bagi subjek data"), widget=forms.Textarea, required=False
    )
    measures = forms.CharField(
        label=_("Upaya penanganan dan pemulihan"), widget=forms.Textarea, required=False
    )
    contact = forms.CharField(label=_("Narahubung"), max_length=255, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status baru"), choices=IncidentStatus.choices)
    note = forms.CharField(label=_("Catatan"), widget=forms.Textarea, required=False)


class NoticeForm(forms.Form):
    audience = forms.ChoiceField(label=_("Kepada"), choices=NoticeAudience.choices)
    language = forms.ChoiceField(
        label=_("Bahasa"), choices=[("id", "Bahasa Indonesia"), ("en", "English")]
    )
    channel = forms.ChoiceField(label=_("Saluran"), choices=NoticeChannel.choices)
    sent_at = forms.DateTimeField(
        label=_("Dikirim (waktu setempat)"), widget=_LocalDateTimeInput(), required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], help_text=_("Kosong: sekarang."),
    )  # fmt: skip
    recipients = forms.IntegerField(label=_("Jumlah penerima"), min_value=0, required=False)
    reference = forms.CharField(label=_("Nomor surat / rujukan"), max_length=120, required=False)
    body = forms.CharField(label=_("Isi yang dikirim"), widget=forms.Textarea)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Catatan"), widget=forms.Textarea)
