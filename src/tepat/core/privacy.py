"""What the shared kernel holds: the audit trail and the subjects' own keys."""

from __future__ import annotations

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
from tepat.core.subject_export import SECTIONS

# Sign-in events, of staff (login.*) and of citizens (citizen.sign_in).
_SIGN_IN = r"^(login\.|citizen\.sign_in$)"

_ARCHIVE = _(
    "Jejak audit hanya bisa ditambah: basis data menolak perubahan dan penghapusan oleh "
    "aplikasi. Baris yang melewati masa simpan dihitung pada setiap pembersihan dan "
    "dipindahkan ke arsip oleh administrator basis data menurut prosedur operasi."
)

CATEGORIES = (
    DataCategory(
        key="core.audit",
        label=_(
            "Jejak audit: siapa melihat atau mengubah apa, kapan, dari alamat IP mana, dengan "
            "keperluan yang dinyatakan"
        ),
        fields=(
            "core.AuditEvent.actor",
            "core.AuditEvent.actor_label",
            "core.AuditEvent.action",
            "core.AuditEvent.target_id",
            "core.AuditEvent.region_code",
            "core.AuditEvent.ip_address",
            "core.AuditEvent.detail",
        ),
        note=_("Memuat nomor acak orang yang datanya dibaca, tidak memuat NIK atau nama."),
    ),
    DataCategory(
        key="core.subject_keys",
        label=_("Kunci data milik setiap subjek (terbungkus), untuk penghapusan kriptografis"),
        fields=("core.SubjectKey.subject", "core.SubjectKey.key_wrapped"),
    ),
)

ACTIVITIES = (
    Activity(
        key="core.audit_trail",
        name=_("Jejak audit dan keamanan"),
        purpose=_(
            "Merekam setiap masuk, setiap pembacaan data pribadi dan setiap perubahan, untuk "
            "pertanggungjawaban, deteksi penyalahgunaan dan penanganan kegagalan pelindungan "
            "data."
        ),
        basis=LegalBasis.LEGAL_OBLIGATION,
        basis_detail=_(
            "UU 27/2022 Pasal 31 (perekaman kegiatan pemrosesan), Pasal 35 dan 39 (keamanan "
            "dan pencegahan akses tidak sah), Pasal 46 (pemberitahuan kegagalan pelindungan)"
        ),
        subjects=(Subject.STAFF, Subject.HOUSEHOLD_MEMBER),
        categories=("core.audit", "core.subject_keys"),
        models=("core.AuditEvent", "core.SubjectKey"),
    ),
)

RETENTION = (
    Retention(
        key="core.audit_sign_in",
        model="core.AuditEvent",
        label=_("Catatan audit masuk dan gagal masuk (staf dan warga)"),
        timestamp="at",
        keep=years(1),
        action=Action.MANUAL,
        reason=_ARCHIVE,
        where={"action__regex": _SIGN_IN},
    ),
    Retention(
        key="core.audit",
        model="core.AuditEvent",
        label=_("Catatan audit lainnya: pembacaan dan perubahan data"),
        timestamp="at",
        keep=years(5),
        action=Action.MANUAL,
        reason=_ARCHIVE,
        exclude={"action__regex": _SIGN_IN},
    ),
    Retention(
        key="core.subject_keys",
        model="core.SubjectKey",
        label=_("Kunci data subjek"),
        timestamp="created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan selama data subjek disimpan; dimusnahkan saat data subjek dihapus, "
            "sehingga nilai yang dienkripsi dengannya tidak terbaca lagi."
        ),
    ),
)

DECLARATION = AppDeclaration(
    app="core",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
    export_sections=SECTIONS,
)
