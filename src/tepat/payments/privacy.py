"""What payments processes, who receives it (field by field), and how long it is kept."""

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
)
from tepat.payments.channels import HIMBARA
from tepat.payments.subject_export import SECTIONS
from tepat.registry.choices import EWALLETS

# One G2P Connect `disburse` item (payments.providers.G2PConnectAdapter.submit), built from
# the payment's snapshot by payments.worker.work_once: the same fields go to every provider;
# what `payee_fa` holds depends on the channel (payments.channels.routes_for).
_G2P_COMMON = (
    ReceivedField("reference_id", _("kunci pembayaran (program, tahap, lalu hash; tanpa NIK)")),
    ReceivedField("payee_name", _("nama pemilik rekening, atau nama lengkap penerima")),
    ReceivedField("amount", _("jumlah bantuan dalam rupiah")),
    ReceivedField("currency_code", _("mata uang (IDR)")),
    ReceivedField("note", _("catatan 'bansos' dengan nomor acak pembayaran")),
    ReceivedField("payer_fa", _("rekening pembayar (kas negara), bukan data penerima")),
)
_G2P_CODE = (
    "tepat.payments.providers:G2PConnectAdapter.submit",
    "tepat.payments.worker:work_once",
    "tepat.payments.channels:routes_for",
)
_G2P_CHANNEL = _("API G2P Connect (disburse, txn-status) melalui HTTPS; jawaban ditandatangani")

RECIPIENTS = (
    Recipient(
        key="bank",
        name=_("Bank penyalur (Himbara)"),
        role="processor",
        purpose=_("Mentransfer bantuan ke rekening KKS penerima"),
        channel=_G2P_CHANNEL,
        receives=(
            ReceivedField("payee_fa", _("nomor rekening bank penerima dan kode bank")),
            *_G2P_COMMON,
        ),
        code=_G2P_CODE,
        examples=", ".join(HIMBARA),
    ),
    Recipient(
        key="ewallet",
        name=_("Penyelenggara dompet elektronik"),
        role="processor",
        purpose=_("Mengirim bantuan ke dompet elektronik penerima"),
        channel=_G2P_CHANNEL,
        receives=(
            ReceivedField("payee_fa", _("nomor akun dompet elektronik dan kode penyelenggara")),
            *_G2P_COMMON,
        ),
        code=_G2P_CODE,
        examples=", ".join(EWALLETS),
    ),
    Recipient(
        key="pt_pos",
        name=_("PT Pos Indonesia"),
        role="processor",
        purpose=_("Membayar bantuan tunai di kantor pos"),
        channel=_G2P_CHANNEL,
        receives=(
            ReceivedField("payee_fa", _("rujukan tunai dari kunci pembayaran (bukan rekening)")),
            *_G2P_COMMON,
        ),
        code=_G2P_CODE,
    ),
    Recipient(
        key="ewarung",
        name=_("e-Warung (agen penyalur Sembako)"),
        role="processor",
        purpose=_("Menukarkan voucher Sembako dengan bahan pangan"),
        channel=_G2P_CHANNEL,
        receives=(
            ReceivedField("payee_fa", _("kode voucher e-Warung (bukan rekening)")),
            *_G2P_COMMON,
        ),
        code=_G2P_CODE,
    ),
    Recipient(
        key="sms_gateway",
        name=_("Penyedia gerbang SMS"),
        role="processor",
        purpose=_("Mengirim pemberitahuan penyaluran ke nomor telepon penerima"),
        channel=_("API HTTP gerbang SMS (TEPAT_SMS_GATEWAY) atau simulator"),
        receives=(
            ReceivedField("to", _("nomor telepon seluler penerima")),
            ReceivedField("text", _("isi pemberitahuan: jumlah bantuan dan hasil penyaluran")),
            ReceivedField("id", _("kunci peristiwa: kunci pembayaran dan hasilnya")),
        ),
        code=("tepat.payments.services:sms_deliver", "tepat.messaging.gateway:HttpSmsGateway"),
    ),
)

CATEGORIES = (
    DataCategory(
        key="payments.payee",
        label=_("Tujuan pembayaran: rekening atau akun, nama pemilik, tempat pengambilan"),
        fields=(
            "payments.Payment.payee_fa_enc",
            "payments.Payment.payee_fa_masked",
            "payments.Payment.payee_name",
            "payments.Payment.collection_place",
            "payments.Payment.voucher_code",
        ),
        specific=Specific.FINANCIAL,
    ),
    DataCategory(
        key="payments.payment",
        label=_("Pembayaran bantuan: jumlah, kanal, status, waktu, hasil rekonsiliasi"),
        fields=(
            "payments.Payment.beneficiary_ref",
            "payments.Payment.amount",
            "payments.Payment.channel",
            "payments.Payment.state",
            "payments.Payment.settled_at",
            "payments.StatementLine.reference_id",
            "payments.StatementLine.amount",
            "payments.Difference.reference_id",
        ),
        specific=Specific.FINANCIAL,
        note=_("Jumlah PKH dapat mengungkap komponen ibu hamil, lansia atau disabilitas."),
    ),
    DataCategory(
        key="payments.sms",
        label=_("Isi pemberitahuan SMS penyaluran"),
        fields=("payments.SmsMessage.body", "payments.SmsMessage.event_key"),
    ),
)

ACTIVITIES = (
    Activity(
        key="payments.disbursement",
        name=_("Penyaluran bantuan"),
        purpose=_(
            "Mengirim perintah bayar ke bank, dompet elektronik, PT Pos atau e-Warung, mencatat "
            "hasilnya, merekonsiliasi dengan laporan penyalur, dan memberi tahu penerima."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_(
            "UU 13/2011 tentang Penanganan Fakir Miskin; UU 1/2004 tentang Perbendaharaan "
            "Negara (pertanggungjawaban pembayaran)"
        ),
        subjects=(Subject.BENEFICIARY,),
        categories=("payments.payee", "payments.payment", "payments.sms", "registry.contact"),
        models=(
            "payments.Payment",
            "payments.Statement",
            "payments.StatementLine",
            "payments.Difference",
            "payments.SmsMessage",
        ),
        recipients=("bank", "ewallet", "pt_pos", "ewarung", "sms_gateway"),
    ),
)

_FINANCIAL_RECORD = _(
    "Bukti pembayaran dari uang negara: disimpan sesuai jadwal retensi arsip keuangan instansi "
    "(UU 43/2009 tentang Kearsipan; UU 27/2022 Pasal 44 ayat (1) huruf b) dan menjadi dasar "
    "log transparansi; tidak dihapus otomatis."
)

RETENTION = (
    Retention(
        key="payments.payment",
        model="payments.Payment",
        label=_("Pembayaran dan tujuan pembayarannya"),
        timestamp="created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_FINANCIAL_RECORD,
    ),
    Retention(
        key="payments.statement",
        model="payments.Statement",
        label=_("Laporan harian penyalur"),
        timestamp="imported_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_FINANCIAL_RECORD,
    ),
    Retention(
        key="payments.statement_line",
        model="payments.StatementLine",
        label=_("Baris laporan penyalur"),
        timestamp="statement__imported_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_FINANCIAL_RECORD,
    ),
    Retention(
        key="payments.difference",
        model="payments.Difference",
        label=_("Selisih rekonsiliasi"),
        timestamp="found_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_FINANCIAL_RECORD,
    ),
    Retention(
        key="payments.sms_outbox",
        model="payments.SmsMessage",
        label=_("Antrean SMS pemberitahuan penyaluran (terkirim atau gagal)"),
        timestamp="created_at",
        keep=days(90),
        action=Action.DELETE,
        reason=_(
            "Pesan yang sudah terkirim atau gagal hanya perlu untuk menjawab pertanyaan "
            "pengiriman; pembayarannya sendiri tetap tercatat. Pesan yang masih menunggu tidak "
            "dihapus."
        ),
        where={"state__in": ("sent", "failed")},
    ),
)

DECLARATION = AppDeclaration(
    app="payments",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    recipients=RECIPIENTS,
    retention=RETENTION,
    export_sections=SECTIONS,
)
