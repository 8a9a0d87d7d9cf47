"""Verification's sections of the data subject's copy (tepat.privacy.export): the vouchers
issued for the household's payments, their handovers, the registered proxies and whether a face
template is held."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from tepat.core.subject_export import (
    BOOL,
    DATETIME,
    ExportSection,
    SubjectContext,
    choice,
    col,
    iso,
    section,
)
from tepat.payments.subject_export import payments_of


def vouchers_of(ctx: SubjectContext) -> list[Any]:
    """The vouchers of the household's payments (read once)."""
    from tepat.verification.selectors import vouchers_of_payments

    return ctx.shared(
        "verification.vouchers",
        lambda: list(vouchers_of_payments(payment_ids=[p.pk for p in payments_of(ctx)])),
    )


def _vouchers_section(ctx: SubjectContext) -> dict[str, Any]:
    rows = [
        {
            "voucher": v.public_id,
            "payment": v.payment.public_id,
            "issued_at": iso(v.issued_at),
            "valid_from": iso(v.valid_from),
            "valid_until": iso(v.valid_until),
            "revoked_at": iso(v.revoked_at),
            "revoke_reason": v.revoke_reason,
        }
        for v in vouchers_of(ctx)
    ]
    return section(
        _("Voucher bantuan"),
        _("Voucher (kode QR) yang diterbitkan untuk pengambilan bantuan tunai atau e-Warung."),
        [
            col("voucher", _("Nomor voucher")),
            col("payment", _("Nomor pembayaran")),
            col("issued_at", _("Diterbitkan"), DATETIME),
            col("valid_from", _("Berlaku mulai"), DATETIME),
            col("valid_until", _("Berlaku sampai"), DATETIME),
            col("revoked_at", _("Dicabut"), DATETIME),
            col("revoke_reason", _("Alasan pencabutan")),
        ],
        rows,
    )


def _handovers_section(ctx: SubjectContext) -> dict[str, Any]:
    rows = []
    for v in vouchers_of(ctx):
        for h in v.handovers.all():
            rows.append(
                {
                    "voucher": v.public_id,
                    "received_at": iso(h.received_at),
                    "method": choice(h, "method"),
                    "by_proxy": h.by_proxy,
                    "status": choice(h, "status"),
                    "flagged": h.flagged,
                    "decision": choice(h, "decision"),
                    "decision_note": h.decision_note,
                }
            )
    return section(
        _("Verifikasi dan serah terima bantuan"),
        _(
            "Setiap serah terima bantuan di titik penyaluran: kapan, dengan cara verifikasi apa, "
            "dan apakah diambil oleh kuasa."
        ),
        [
            col("voucher", _("Nomor voucher")),
            col("received_at", _("Waktu"), DATETIME),
            col("method", _("Cara verifikasi")),
            col("by_proxy", _("Oleh kuasa"), BOOL),
            col("status", _("Status")),
            col("flagged", _("Ditandai untuk diperiksa"), BOOL),
            col("decision", _("Hasil pemeriksaan")),
            col("decision_note", _("Catatan pemeriksaan")),
        ],
        rows,
    )


def _proxies_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.verification.selectors import proxies_of_persons

    rows = [
        {
            "for": ctx.who(px.person_ref),
            "name": px.name,
            "reason": choice(px, "reason"),
            "registered_at": iso(px.registered_at),
            "revoked_at": iso(px.revoked_at),
            "revoke_reason": px.revoke_reason,
        }
        for px in proxies_of_persons(person_refs=ctx.member_refs)
    ]
    return section(
        _("Kuasa pengambil bantuan"),
        _(
            "Orang yang didaftarkan untuk mengambil bantuan atas nama anggota keluarga lanjut "
            "usia atau penyandang disabilitas. Nomor identitas kuasa tidak ditampilkan."
        ),
        [
            col("for", _("Untuk")),
            col("name", _("Nama kuasa")),
            col("reason", _("Alasan")),
            col("registered_at", _("Didaftarkan"), DATETIME),
            col("revoked_at", _("Dicabut"), DATETIME),
            col("revoke_reason", _("Alasan pencabutan")),
        ],
        rows,
    )


def _biometrics_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.verification.selectors import face_enrolled

    template = face_enrolled(person_ref=ctx.person.public_id)
    row = {
        "face_enrolled": template is not None,
        "enrolled_at": iso(template.enrolled_at) if template else None,
    }
    return section(
        _("Data biometrik"),
        _(
            "Apakah templat wajah Anda tersimpan untuk verifikasi saat pengambilan bantuan. "
            "Templat itu sendiri (angka terenkripsi, bukan foto) tidak dapat dibaca manusia dan "
            "tidak disertakan."
        ),
        [
            col("face_enrolled", _("Templat wajah tersimpan"), BOOL),
            col("enrolled_at", _("Didaftarkan"), DATETIME),
        ],
        [row],
        layout="record",
    )


SECTIONS = (
    ExportSection("vouchers", 160, _vouchers_section),
    ExportSection("handovers", 170, _handovers_section),
    ExportSection("proxies", 180, _proxies_section),
    ExportSection("biometrics", 190, _biometrics_section),
)
