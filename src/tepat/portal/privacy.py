"""What the citizen portal holds (sign-in codes, sessions, preferences) and sends through the SMS
gateway, and for how long."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tepat.core.declarations import (
    Action,
    Activity,
    AppDeclaration,
    DataCategory,
    LegalBasis,
    ReceivedField,
    Recipient,
    Retention,
    Subject,
    days,
)
from tepat.portal.subject_export import SECTIONS

RECIPIENTS = (
    Recipient(
        key="sms_gateway",
        name=_("Penyedia gerbang SMS"),
        role="processor",
        purpose=_("Mengirim kode masuk portal warga"),
        channel=_("API HTTP gerbang SMS (TEPAT_SMS_GATEWAY) atau simulator"),
        receives=(
            ReceivedField("to", _("nomor telepon seluler yang terdaftar untuk NIK")),
            ReceivedField("text", _("kode masuk (6 angka)")),
            ReceivedField("id", _("kunci peristiwa acak")),
        ),
        code=("tepat.portal.citizen:otp_deliver",),
    ),
    Recipient(
        key="sms_gateway",
        name=_("Penyedia gerbang SMS"),
        role="processor",
        purpose=_("Menjawab perintah SMS dan USSD: CEK <NIK>, ADU <nomor>"),
        channel=_("Panggilan masuk dari gerbang yang ditandatangani (/sms/masuk/) dan balasannya"),
        receives=(
            ReceivedField("from", _("nomor telepon pengirim")),
            ReceivedField("text", _("pesan warga, termasuk NIK yang diketiknya")),
            ReceivedField(
                "reply",
                _(
                    "balasan: nama tersamar, desil, program, tahap, status dan jumlah bantuan, "
                    "tempat dan tanggal pengambilan; atau status pengaduan"
                ),
            ),
        ),
        code=("tepat.portal.sms:sms_reply", "tepat.portal.sms:ussd_reply"),
    ),
)

CATEGORIES = (
    DataCategory(
        key="portal.sign_in",
        label=_("Masuk portal warga: indeks buta NIK, hash kode, waktu, percobaan"),
        fields=(
            "portal.CitizenOtp.nik_index",
            "portal.CitizenOtp.person_ref",
            "portal.CitizenOtp.code_hash",
            "portal.CitizenOtp.code_enc",
            "portal.CitizenOtp.attempts",
            "sessions.Session.session_data",
        ),
        note=_("Kode disimpan terenkripsi hanya sampai diserahkan ke gerbang SMS."),
    ),
    DataCategory(
        key="portal.preferences",
        label=_("Pilihan pemberitahuan SMS"),
        fields=(
            "portal.NotificationPreference.person_ref",
            "portal.NotificationPreference.sms_payment",
            "portal.NotificationPreference.sms_schedule",
            "portal.NotificationPreference.sms_grievance",
        ),
    ),
)

ACTIVITIES = (
    Activity(
        key="portal.citizen_services",
        name=_("Layanan warga: cek bansos, akun, SMS dan USSD"),
        purpose=_(
            "Memberi tahu warga status bantuannya, membuka akun warga dengan kode SMS ke nomor "
            "terdaftar, menampilkan riwayat pembayaran dengan tanda terima, dan menyimpan "
            "pilihan pemberitahuan."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_(
            "UU 25/2009 tentang Pelayanan Publik; UU 13/2011 tentang Penanganan Fakir Miskin"
        ),
        subjects=(Subject.HOUSEHOLD_MEMBER, Subject.BENEFICIARY),
        categories=(
            "portal.sign_in",
            "portal.preferences",
            "registry.identity",
            "registry.contact",
            "targeting.score",
            "payments.payment",
        ),
        models=("portal.CitizenOtp", "portal.NotificationPreference", "sessions.Session"),
        recipients=("sms_gateway",),
    ),
)

RETENTION = (
    Retention(
        key="portal.sign_in_codes",
        model="portal.CitizenOtp",
        label=_("Kode masuk portal warga"),
        timestamp="created_at",
        keep=days(30),
        action=Action.DELETE,
        reason=_(
            "Kode berlaku 5 menit; catatannya disimpan 30 hari untuk memeriksa penyalahgunaan "
            "masuk, lalu dihapus."
        ),
    ),
    Retention(
        key="portal.preferences",
        model="portal.NotificationPreference",
        label=_("Pilihan pemberitahuan SMS"),
        timestamp="updated_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Disimpan selama warga terdaftar; warga dapat mengubahnya di akun."),
    ),
    Retention(
        key="portal.rate_limits",
        model="",
        label=_(
            "Penghitung batas permintaan per alamat, per NIK (di-hash dengan kunci) dan per "
            "pengirim SMS"
        ),
        timestamp="",
        keep=days(1),
        action=Action.EXPIRES,
        reason=_("Disimpan di cache dengan masa berlaku satu jam sampai satu hari."),
    ),
)

DECLARATION = AppDeclaration(
    app="portal",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    recipients=RECIPIENTS,
    retention=RETENTION,
    export_sections=SECTIONS,
)
