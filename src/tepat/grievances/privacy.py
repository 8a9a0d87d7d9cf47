"""What complaints and community reports (usul, sanggah) hold, and for how long."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from tepat.core.declarations import (
    Action,
    Activity,
    AppDeclaration,
    DataCategory,
    LegalBasis,
    Retention,
    Subject,
    days,
    years,
)
from tepat.grievances.subject_export import SECTIONS

_DECIDED_COMPLAINT = ("upheld", "rejected", "referred")  # models.DECISIONS
_DECIDED_REPORT = ("upheld", "rejected", "lapsed")  # every TaskStatus but open

CATEGORIES = (
    DataCategory(
        key="grievances.complaint",
        label=_("Pengaduan: uraian, nomor telepon kontak (terenkripsi), keputusan, banding"),
        fields=(
            "grievances.Complaint.description",
            "grievances.Complaint.contact_phone_enc",
            "grievances.Complaint.filed_by_ref",
            "grievances.Complaint.subject_person_ref",
            "grievances.Complaint.decision_note",
            "grievances.Complaint.appeal_reason",
            "grievances.ComplaintEvent.note",
        ),
    ),
    DataCategory(
        key="grievances.report",
        label=_(
            "Usul dan sanggah: nama dan alamat orang yang dilaporkan, alasan, lokasi, foto rumah"
        ),
        fields=(
            "grievances.CommunityReport.subject_name",
            "grievances.CommunityReport.subject_person_ref",
            "grievances.CommunityReport.address",
            "grievances.CommunityReport.reason",
            "grievances.CommunityReport.latitude",
            "grievances.CommunityReport.longitude",
            "grievances.CommunityReport.photo_path",
            "grievances.CommunityReport.decision_note",
        ),
        note=_("Foto disimpan tanpa metadata (lokasi GPS, waktu, perangkat dihapus)."),
    ),
)

ACTIVITIES = (
    Activity(
        key="grievances.handling",
        name=_("Pengaduan, usul dan sanggah"),
        purpose=_(
            "Menerima dan menangani pengaduan warga dalam tenggat, serta usul keluarga yang "
            "membutuhkan dan sanggahan atas penerima, yang menjadi tugas verifikasi petugas desa."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_(
            "UU 25/2009 tentang Pelayanan Publik (pengelolaan pengaduan); UU 13/2011 tentang "
            "Penanganan Fakir Miskin (usul dan sanggah masyarakat)"
        ),
        subjects=(Subject.COMPLAINANT, Subject.REPORTED_PERSON),
        categories=("grievances.complaint", "grievances.report"),
        models=(
            "grievances.Complaint",
            "grievances.ComplaintEvent",
            "grievances.CommunityReport",
        ),
    ),
)

RETENTION = (
    Retention(
        key="grievances.complaint",
        model="grievances.Complaint",
        label=_("Pengaduan yang sudah diputus"),
        timestamp="decided_at",
        keep=years(2),
        action=Action.ANONYMISE,
        reason=_(
            "Dua tahun setelah keputusan, uraian, kontak dan catatan dihapus; kategori, desa, "
            "tanggal dan hasil tetap untuk statistik penanganan pengaduan."
        ),
        where={"status__in": _DECIDED_COMPLAINT},
        anonymise={
            "description": "",
            "contact_phone_enc": "",
            "filed_by_ref": "",
            "subject_person_ref": "",
            "decision_note": "",
            "appeal_reason": "",
        },
    ),
    Retention(
        key="grievances.complaint_history",
        model="grievances.ComplaintEvent",
        label=_("Catatan riwayat pengaduan yang sudah diputus"),
        timestamp="complaint__decided_at",
        keep=years(2),
        action=Action.ANONYMISE,
        reason=_("Bersama pengaduannya: catatan dihapus, urutan status tetap."),
        where={"complaint__status__in": _DECIDED_COMPLAINT},
        anonymise={"note": ""},
    ),
    Retention(
        key="grievances.complaint_open",
        model="grievances.Complaint",
        label=_("Pengaduan yang masih ditangani"),
        timestamp="created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Disimpan sampai diputus."),
        exclude={"status__in": _DECIDED_COMPLAINT},
    ),
    Retention(
        key="grievances.report_photo",
        model="grievances.CommunityReport",
        label=_("Foto rumah pada usul dan sanggah yang sudah diputus"),
        timestamp="decided_at",
        keep=years(1),
        action=Action.ANONYMISE,
        reason=_(
            "Foto hanya diperlukan untuk verifikasi dan keberatan atas putusannya; setahun "
            "setelah putusan berkasnya dihapus."
        ),
        where={"status__in": _DECIDED_REPORT},
        anonymise={"photo_path": "", "photo_sha256": ""},
        file_field="photo_path",
        file_root="tepat.grievances.services.evidence_dir",
    ),
    Retention(
        key="grievances.report",
        model="grievances.CommunityReport",
        label=_("Usul dan sanggah yang sudah diputus"),
        timestamp="decided_at",
        keep=years(2),
        action=Action.ANONYMISE,
        reason=_(
            "Dua tahun setelah putusan, nama, alamat, alasan dan lokasi dihapus; jenis, desa, "
            "tanggal dan hasil tetap untuk statistik."
        ),
        where={"status__in": _DECIDED_REPORT},
        anonymise={
            "subject_name": "",
            "subject_person_ref": "",
            "address": "",
            "reason": "",
            "latitude": Decimal("0"),
            "longitude": Decimal("0"),
            "decision_note": "",
            "photo_path": "",
            "photo_sha256": "",
        },
        file_field="photo_path",
        file_root="tepat.grievances.services.evidence_dir",
    ),
    Retention(
        key="grievances.report_open",
        model="grievances.CommunityReport",
        label=_("Usul dan sanggah yang menunggu verifikasi"),
        timestamp="created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Disimpan sampai diverifikasi atau gugur."),
        where={"status": "open"},
    ),
    Retention(
        key="grievances.rate_limits",
        model="",
        label=_("Penghitung batas pengiriman formulir dan pencarian nomor pengaduan"),
        timestamp="",
        keep=days(1),
        action=Action.EXPIRES,
        reason=_("Disimpan di cache dengan masa berlaku paling lama satu hari."),
    ),
)

DECLARATION = AppDeclaration(
    app="grievances",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
    export_sections=SECTIONS,
)
