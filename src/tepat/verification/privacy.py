"""What verification at the distribution point holds (vouchers, codes, faces, proxies), who
receives it on the field device, and for how long."""

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
    Specific,
    Subject,
    days,
    years,
)
from tepat.verification.subject_export import SECTIONS

# The day list a field device downloads for its villages (verification.selectors.day_list),
# used at the PT Pos counter and the e-Warung, online or offline.
_DAY_LIST = (
    ReceivedField("id", _("nomor acak voucher")),
    ReceivedField(
        "token",
        _(
            "isi QR voucher yang ditandatangani: nomor voucher, nama samaran penerima, program, "
            "tahap, jumlah, kanal, kode desa, masa berlaku"
        ),
    ),
    ReceivedField("name", _("nama penerima pada pembayaran")),
    ReceivedField("amount", _("jumlah bantuan")),
    ReceivedField("village", _("kode desa")),
    ReceivedField("place", _("tempat pengambilan")),
    ReceivedField("card_check", _("hash pemeriksa nomor kartu KKS (bukan nomornya)")),
    ReceivedField("proxies", _("nama wakil terdaftar dan hash pemeriksa nomor kartunya")),
)
_DAY_LIST_CODE = ("tepat.verification.selectors:day_list",)
_DAY_LIST_CHANNEL = _("Daftar harian untuk perangkat petugas lapangan di desanya (HTTPS)")

RECIPIENTS = (
    Recipient(
        key="pt_pos",
        name=_("PT Pos Indonesia"),
        role="processor",
        purpose=_("Memeriksa voucher dan menyerahkan bantuan tunai di kantor pos"),
        channel=_DAY_LIST_CHANNEL,
        receives=_DAY_LIST,
        code=_DAY_LIST_CODE,
    ),
    Recipient(
        key="ewarung",
        name=_("e-Warung (agen penyalur Sembako)"),
        role="processor",
        purpose=_("Memeriksa voucher dan menyerahkan bahan pangan"),
        channel=_DAY_LIST_CHANNEL,
        receives=_DAY_LIST,
        code=_DAY_LIST_CODE,
    ),
    Recipient(
        key="sms_gateway",
        name=_("Penyedia gerbang SMS"),
        role="processor",
        purpose=_("Mengirim kode verifikasi penyerahan ke nomor telepon penerima"),
        channel=_("API HTTP gerbang SMS (TEPAT_SMS_GATEWAY) atau simulator"),
        receives=(
            ReceivedField("to", _("nomor telepon seluler penerima")),
            ReceivedField("text", _("kode verifikasi penyerahan (6 angka)")),
        ),
        code=("tepat.verification.services:otp_send",),
    ),
)

CATEGORIES = (
    DataCategory(
        key="verification.voucher",
        label=_("Voucher dan penyerahan bantuan: metode, wakil, petugas, perangkat, waktu"),
        fields=(
            "verification.Voucher.token",
            "verification.Handover.method",
            "verification.Handover.by_proxy",
            "verification.Handover.device_time",
            "verification.Handover.decision_note",
        ),
        specific=Specific.FINANCIAL,
    ),
    DataCategory(
        key="verification.otp",
        label=_("Kode verifikasi penyerahan (hanya hash)"),
        fields=("verification.OtpChallenge.code_hash",),
    ),
    DataCategory(
        key="verification.face",
        label=_("Templat wajah terenkripsi dan hasil pemeriksaan wajah"),
        fields=(
            "verification.FaceTemplate.template_enc",
            "verification.FaceCheck.ok",
            "verification.FaceCheck.distance",
        ),
        specific=Specific.BIOMETRIC,
        note=_("Foto pendaftaran tidak disimpan; hanya templat yang terenkripsi."),
    ),
    DataCategory(
        key="verification.proxy",
        label=_("Wakil pengambil: nama dan nomor kartu identitas (terenkripsi), alasan"),
        fields=(
            "verification.ProxyCollector.name",
            "verification.ProxyCollector.id_number_enc",
            "verification.ProxyCollector.reason",
        ),
        specific=Specific.HEALTH,
        note=_("Alasan 'disabilitas' atau 'lansia' mengungkap kondisi penerima."),
    ),
)

ACTIVITIES = (
    Activity(
        key="verification.handover",
        name=_("Verifikasi penyerahan bantuan"),
        purpose=_(
            "Memastikan bantuan tunai dan Sembako diserahkan kepada penerima yang berhak atau "
            "wakilnya yang terdaftar, dengan voucher bertanda tangan, kartu KKS, kode SMS atau "
            "pemeriksaan wajah, dan mencatat setiap penyerahan."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_(
            "UU 13/2011 tentang Penanganan Fakir Miskin; UU 1/2004 tentang Perbendaharaan "
            "Negara (bukti penyerahan)"
        ),
        subjects=(Subject.BENEFICIARY, Subject.PROXY, Subject.STAFF),
        categories=(
            "verification.voucher",
            "verification.otp",
            "verification.face",
            "verification.proxy",
            "registry.contact",
        ),
        models=(
            "verification.Voucher",
            "verification.Handover",
            "verification.OtpChallenge",
            "verification.FaceCheck",
            "verification.FaceTemplate",
            "verification.ProxyCollector",
        ),
        recipients=("pt_pos", "ewarung", "sms_gateway"),
    ),
)

_HANDOVER_RECORD = _(
    "Bukti penyerahan bantuan dari uang negara: disimpan sesuai jadwal retensi arsip keuangan "
    "instansi (UU 43/2009 tentang Kearsipan); tidak dihapus otomatis."
)

RETENTION = (
    Retention(
        key="verification.voucher",
        model="verification.Voucher",
        label=_("Voucher"),
        timestamp="issued_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_HANDOVER_RECORD,
    ),
    Retention(
        key="verification.handover",
        model="verification.Handover",
        label=_("Penyerahan bantuan"),
        timestamp="received_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_HANDOVER_RECORD,
    ),
    Retention(
        key="verification.otp",
        model="verification.OtpChallenge",
        label=_("Kode verifikasi penyerahan"),
        timestamp="voucher__valid_until",
        keep=days(90),
        action=Action.DELETE,
        reason=_(
            "Perangkat luring dapat menyinkronkan penyerahan setelah voucher berakhir; 90 hari "
            "sesudahnya kode tidak diperlukan lagi (penyerahan mencatat metodenya)."
        ),
    ),
    Retention(
        key="verification.face_check",
        model="verification.FaceCheck",
        label=_("Hasil pemeriksaan wajah"),
        timestamp="voucher__valid_until",
        keep=years(1),
        action=Action.DELETE,
        reason=_(
            "Bukti pemeriksaan untuk menjawab sanggahan atas penyerahan; setahun setelah voucher "
            "berakhir tidak diperlukan lagi."
        ),
    ),
    Retention(
        key="verification.face_template",
        model="verification.FaceTemplate",
        label=_("Templat wajah terdaftar"),
        timestamp="enrolled_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan selama penerima memakai verifikasi wajah; diganti saat didaftarkan ulang "
            "dan dihapus atas permintaan subjek data (UU 27/2022 Pasal 8, 43)."
        ),
    ),
    Retention(
        key="verification.proxy_revoked",
        model="verification.ProxyCollector",
        label=_("Wakil pengambil yang sudah dicabut"),
        timestamp="revoked_at",
        keep=years(1),
        action=Action.ANONYMISE,
        reason=_(
            "Setahun setelah pencabutan, nama dan nomor kartu wakil tidak diperlukan lagi; "
            "penyerahan lewat wakil tetap tercatat."
        ),
        where={"revoked_at__isnull": False},
        anonymise={"name": "", "id_number_enc": ""},
    ),
    Retention(
        key="verification.proxy_live",
        model="verification.ProxyCollector",
        label=_("Wakil pengambil yang berlaku"),
        timestamp="registered_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Disimpan selama pendaftaran wakil berlaku."),
        where={"revoked_at__isnull": True},
    ),
)

DECLARATION = AppDeclaration(
    app="verification",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    recipients=RECIPIENTS,
    retention=RETENTION,
    no_personal_data=("verification.EwarungSettlement", "verification.VerificationPolicy"),
    export_sections=SECTIONS,
)
