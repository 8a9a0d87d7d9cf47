"""What the public transparency log publishes about each payment, and how long it is kept.

The fields published are read from the entry schemas themselves (`ledger.entries.SCHEMAS`), so
the register cannot drift from what the log writes: a field without a meaning below shows up as
an undeclared field (tepat.privacy.declarations refuses it).
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
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
from tepat.ledger.entries import SCHEMAS

MEANING: dict[str, str | Promise] = {
    "kind": _("jenis catatan (dikirim, dibayar, gagal, diserahkan)"),
    "v": _("versi skema"),
    "programme": _("kode program"),
    "cycle": _("kode tahap"),
    "time": _("waktu"),
    "payment": _("nomor acak pembayaran"),
    "beneficiary": _("nama samaran penerima (kunci rahasia, bukan NIK)"),
    "amount": _("jumlah bantuan"),
    "amount_min": _("batas bawah rentang jumlah bantuan"),
    "amount_max": _("batas atas rentang jumlah bantuan"),
    "region": _("kode wilayah"),
    "channel": _("kanal penyaluran"),
    "reason": _("alasan kegagalan"),
    "method": _("metode verifikasi penyerahan"),
    "point": _("nomor acak titik penyaluran"),
}


def _schemas() -> list[Any]:
    out: list[Any] = []
    for value in SCHEMAS.values():  # kind -> schema, or kind -> {version: schema}
        out.extend(value.values() if isinstance(value, dict) else [value])
    return out


def person_level_fields() -> tuple[str, ...]:
    """Fields of every entry kind and version that concerns one beneficiary (has a
    `beneficiary` field): entries already in the log stay public in their own version."""
    names: list[str] = []
    for schema in _schemas():
        if "beneficiary" not in schema.model_fields:
            continue
        for name in schema.model_fields:
            if name not in names:
                names.append(name)
    return tuple(names)


RECIPIENTS = (
    Recipient(
        key="public_log",
        name=_("Publik: log transparansi"),
        role="public",
        purpose=_(
            "Siapa pun dapat memeriksa bahwa setiap pembayaran dan penyerahan tercatat dan tidak "
            "diubah, dan penerima dapat membuktikan pembayarannya dengan tanda terima."
        ),
        channel=_("Halaman dan tile publik di /ledger/, API /api/ledger/"),
        receives=tuple(ReceivedField(n, MEANING.get(n, "")) for n in person_level_fields()),
        code=("tepat.ledger.entries:SCHEMAS", "tepat.payments.services:_entry"),
    ),
)

CATEGORIES = (
    DataCategory(
        key="ledger.entries",
        label=_("Catatan pembayaran bernama samaran: nomor pembayaran, jumlah, wilayah, waktu"),
        fields=("ledger.LogEntry.body", "ledger.PendingEntry.body"),
        note=_("Tidak memuat NIK, nama atau rekening; nama samaran dikunci dengan kunci rahasia."),
    ),
)

ACTIVITIES = (
    Activity(
        key="ledger.transparency_log",
        name=_("Log transparansi publik"),
        purpose=_(
            "Mencatat persetujuan, pembayaran dan penyerahan dalam log yang hanya bisa ditambah "
            "dan ditandatangani, agar penyaluran dapat diperiksa publik."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_(
            "UU 14/2008 tentang Keterbukaan Informasi Publik; UU 13/2011 tentang Penanganan "
            "Fakir Miskin (pengawasan penyaluran)"
        ),
        subjects=(Subject.BENEFICIARY,),
        categories=("ledger.entries",),
        models=("ledger.PendingEntry", "ledger.LogEntry"),
        recipients=("public_log",),
    ),
)

RETENTION = (
    Retention(
        key="ledger.entries",
        model="ledger.LogEntry",
        label=_("Catatan log transparansi"),
        timestamp="sequenced_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Log hanya bisa ditambah: menghapus satu catatan membatalkan bukti semua catatan "
            "sesudahnya. Catatan tidak memuat NIK, nama atau rekening."
        ),
    ),
    Retention(
        key="ledger.pending",
        model="ledger.PendingEntry",
        label=_("Catatan yang menunggu diurutkan ke log"),
        timestamp="created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Dipindahkan ke log oleh pengurut dalam hitungan detik."),
    ),
)

DECLARATION = AppDeclaration(
    app="ledger",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    recipients=RECIPIENTS,
    retention=RETENTION,
    no_personal_data=(
        "ledger.Tile",
        "ledger.LogHead",
        "ledger.Checkpoint",
        "ledger.WitnessCosignature",
    ),
)
