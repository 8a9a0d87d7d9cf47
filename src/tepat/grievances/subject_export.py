"""Grievances' sections of the data subject's copy (tepat.privacy.export): the complaints filed
by or about the household, their history, and the community reports about its members."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from tepat.core.subject_export import (
    DATETIME,
    ExportSection,
    SubjectContext,
    choice,
    col,
    iso,
    section,
)


def complaints_of(ctx: SubjectContext) -> list[Any]:
    """The complaints filed by or about the household's members (read once)."""
    from tepat.grievances.selectors import complaints_of_persons

    return ctx.shared(
        "grievances.complaints",
        lambda: list(complaints_of_persons(person_refs=ctx.member_refs)),
    )


def _complaint_visible(ctx: SubjectContext, c: Any) -> bool:
    """Whether the subject sees a complaint's text: filed by them, or about them."""
    return ctx.person.public_id in (c.filed_by_ref, c.subject_person_ref)


def _complaints_section(ctx: SubjectContext) -> dict[str, Any]:
    rows = []
    for c in complaints_of(ctx):
        visible = _complaint_visible(ctx, c)
        rows.append(
            {
                "tracking_code": c.tracking_code if visible else "",
                "category": choice(c, "category"),
                "filed_by": ctx.who(c.filed_by_ref),
                "about": ctx.who(c.subject_person_ref),
                "status": choice(c, "status"),
                "created_at": iso(c.created_at),
                "due_at": iso(c.due_at),
                "decided_at": iso(c.decided_at),
                "description": c.description if visible else "",
                "decision_note": c.decision_note if visible else "",
                "appeal_reason": c.appeal_reason if visible else "",
            }
        )
    return section(
        _("Pengaduan"),
        _(
            "Pengaduan yang Anda ajukan atau yang menyangkut Anda dan keluarga. Isi pengaduan "
            "anggota keluarga lain tidak ditampilkan."
        ),
        [
            col("tracking_code", _("Nomor pelacakan")),
            col("category", _("Kategori")),
            col("filed_by", _("Diajukan oleh")),
            col("about", _("Tentang")),
            col("status", _("Status")),
            col("created_at", _("Diajukan"), DATETIME),
            col("due_at", _("Batas waktu"), DATETIME),
            col("decided_at", _("Diputuskan"), DATETIME),
            col("description", _("Uraian")),
            col("decision_note", _("Keputusan")),
            col("appeal_reason", _("Alasan banding")),
        ],
        rows,
    )


def _complaint_events_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.grievances.models import ComplaintStatus

    status = dict(ComplaintStatus.choices)
    rows = []
    for c in complaints_of(ctx):
        if not _complaint_visible(ctx, c):
            continue
        for ev in c.events.all():
            rows.append(
                {
                    "tracking_code": c.tracking_code,
                    "at": iso(ev.at),
                    "action": ev.action,
                    "from_status": str(status.get(ev.from_status, ev.from_status)),
                    "to_status": str(status.get(ev.to_status, ev.to_status)),
                    "note": ev.note,
                }
            )
    return section(
        _("Riwayat pengaduan"),
        _("Perjalanan setiap pengaduan Anda, tanpa nama petugas."),
        [
            col("tracking_code", _("Nomor pelacakan")),
            col("at", _("Waktu"), DATETIME),
            col("action", _("Tindakan")),
            col("from_status", _("Dari status")),
            col("to_status", _("Ke status")),
            col("note", _("Catatan")),
        ],
        rows,
    )


def _reports_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.grievances.selectors import reports_about_persons

    rows = []
    for r in reports_about_persons(person_refs=ctx.member_refs):
        # The evidence photo and its coordinates stay out: they locate the reporter.
        mine = r.subject_person_ref == ctx.person.public_id
        rows.append(
            {
                "tracking_code": r.tracking_code,
                "kind": choice(r, "kind"),
                "about": ctx.who(r.subject_person_ref),
                "status": choice(r, "status"),
                "created_at": iso(r.created_at),
                "due_at": iso(r.due_at),
                "decided_at": iso(r.decided_at),
                "reason": r.reason if mine else "",
                "decision_note": r.decision_note if mine else "",
            }
        )
    return section(
        _("Usul dan sanggah tentang keluarga Anda"),
        _(
            "Laporan warga (usul atau sanggah) yang menyangkut anggota keluarga Anda, dengan "
            "hasil verifikasinya. Identitas, foto dan lokasi pelapor tidak ditampilkan."
        ),
        [
            col("tracking_code", _("Nomor pelacakan")),
            col("kind", _("Jenis")),
            col("about", _("Tentang")),
            col("status", _("Status")),
            col("created_at", _("Diajukan"), DATETIME),
            col("due_at", _("Batas verifikasi"), DATETIME),
            col("decided_at", _("Diputuskan"), DATETIME),
            col("reason", _("Alasan laporan")),
            col("decision_note", _("Hasil verifikasi")),
        ],
        rows,
    )


SECTIONS = (
    ExportSection("complaints", 130, _complaints_section),
    ExportSection("complaint_events", 140, _complaint_events_section),
    ExportSection("community_reports", 150, _reports_section),
)
