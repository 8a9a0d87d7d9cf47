"""The citizen portal's sections of the data subject's copy (tepat.privacy.export): the
subject's SMS notification choices and the sign-in codes sent for their NIK."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from tepat.core.subject_export import (
    BOOL,
    DATETIME,
    NUMBER,
    ExportSection,
    SubjectContext,
    col,
    iso,
    section,
)


def _notifications_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.portal.citizen import preferences_peek

    pref = preferences_peek(person_ref=ctx.person.public_id)
    row = {
        "sms_payment": pref.sms_payment,
        "sms_schedule": pref.sms_schedule,
        "sms_grievance": pref.sms_grievance,
        "updated_at": iso(pref.updated_at) if pref.pk else None,
    }
    return section(
        _("Pilihan pemberitahuan SMS"),
        _("Pemberitahuan apa saja yang Anda pilih untuk diterima lewat SMS."),
        [
            col("sms_payment", _("Bantuan sudah dibayar"), BOOL),
            col("sms_schedule", _("Jadwal dan tempat pengambilan"), BOOL),
            col("sms_grievance", _("Perkembangan pengaduan"), BOOL),
            col("updated_at", _("Terakhir diubah"), DATETIME),
        ],
        [row],
        layout="record",
    )


def _sign_ins_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.portal.citizen import sign_in_codes

    rows = [
        {
            "requested_at": iso(otp.created_at),
            "sent_at": iso(otp.sent_at),
            "expires_at": iso(otp.expires_at),
            "used_at": iso(otp.used_at),
            "attempts": otp.attempts,
        }
        for otp in sign_in_codes(person=ctx.person)
    ]
    return section(
        _("Kode masuk yang dikirim ke HP Anda"),
        _(
            "Setiap permintaan kode sekali pakai untuk masuk ke akun warga dengan NIK Anda: "
            "kapan diminta, dikirim dan dipakai. Kodenya sendiri tidak disimpan."
        ),
        [
            col("requested_at", _("Diminta"), DATETIME),
            col("sent_at", _("Dikirim"), DATETIME),
            col("expires_at", _("Kedaluwarsa"), DATETIME),
            col("used_at", _("Dipakai untuk masuk"), DATETIME),
            col("attempts", _("Percobaan salah"), NUMBER),
        ],
        rows,
    )


SECTIONS = (
    ExportSection("notifications", 200, _notifications_section),
    ExportSection("sign_ins", 220, _sign_ins_section),
)
