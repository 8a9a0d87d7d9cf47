"""Payments' sections of the data subject's copy (tepat.privacy.export): the household's
payments, their receipts in the transparency log, the SMS written about them, and who outside
Tepat received data to pay them."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from tepat.core.errors import NotFound
from tepat.core.subject_export import (
    DATETIME,
    MONEY,
    NUMBER,
    ExportSection,
    SubjectContext,
    choice,
    col,
    iso,
    section,
)


def payments_of(ctx: SubjectContext) -> list[Any]:
    """The household's payments (read once; verification's sections use them too)."""
    from tepat.payments.selectors import household_payments

    return ctx.shared(
        "payments.payments", lambda: list(household_payments(household_id=ctx.household.pk))
    )


def entries_of(ctx: SubjectContext) -> dict[str, list[Any]]:
    """The transparency log's entries about each payment, by payment reference (read once)."""
    from tepat.ledger.selectors import entries_for_refs

    return ctx.shared(
        "payments.entries",
        lambda: entries_for_refs(refs=[p.public_id for p in payments_of(ctx)]),
    )


def sms_of(ctx: SubjectContext) -> list[Any]:
    from tepat.payments.selectors import sms_of_payments

    return ctx.shared(
        "payments.sms",
        lambda: list(sms_of_payments(payment_ids=[p.pk for p in payments_of(ctx)])),
    )


def _payments_section(ctx: SubjectContext) -> dict[str, Any]:
    rows = []
    for p in payments_of(ctx):
        rows.append(
            {
                "payment": p.public_id,
                "programme": p.cycle.programme.name,
                "cycle": p.cycle.code,
                "tahap": p.cycle.instalment,
                "amount": int(p.amount),
                "channel": choice(p, "channel"),
                "provider": p.provider,
                "recipient": ctx.who(p.beneficiary_ref),
                "payee_account": p.payee_fa_masked,
                "collection_place": p.collection_place,
                "collection_from": iso(p.collection_from),
                "collection_until": iso(p.collection_until),
                "state": choice(p, "state"),
                "sent_at": iso(p.sent_at),
                "settled_at": iso(p.settled_at),
                "receipts": ", ".join(f"#{e.index}" for e in entries_of(ctx).get(p.public_id, [])),
            }
        )
    return section(
        _("Pembayaran"),
        _(
            "Setiap pembayaran bantuan kepada keluarga Anda: lewat mana, kapan, dan statusnya. "
            "Nomor tanda terima menunjuk catatan di log transparansi."
        ),
        [
            col("payment", _("Nomor pembayaran")),
            col("programme", _("Program")),
            col("cycle", _("Tahap (kode)")),
            col("tahap", _("Tahap ke"), NUMBER),
            col("amount", _("Nominal"), MONEY),
            col("channel", _("Saluran")),
            col("provider", _("Penyalur")),
            col("recipient", _("Penerima")),
            col("payee_account", _("Rekening tujuan (tersamar)")),
            col("collection_place", _("Tempat pengambilan")),
            col("collection_from", _("Dapat diambil mulai"), DATETIME),
            col("collection_until", _("Dapat diambil sampai"), DATETIME),
            col("state", _("Status")),
            col("sent_at", _("Dikirim"), DATETIME),
            col("settled_at", _("Selesai"), DATETIME),
            col("receipts", _("Tanda terima")),
        ],
        rows,
    )


def _receipts_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.ledger.selectors import receipt

    kinds = {
        "payment.sent": _("Pembayaran dikirim ke penyalur"),
        "payment.settled": _("Pembayaran selesai"),
        "payment.failed": _("Pembayaran gagal"),
    }
    rows = []
    for p in payments_of(ctx):
        for entry in entries_of(ctx).get(p.public_id, []):
            try:
                full: dict[str, Any] | None = receipt(index=entry.index)
            except NotFound:  # sequenced, not yet under a signed checkpoint
                full = None
            rows.append(
                {
                    "payment": p.public_id,
                    "index": entry.index,
                    "kind": kinds.get(entry.kind, entry.kind),
                    "recorded_at": iso(entry.sequenced_at),
                    "tree_size": full["tree_size"] if full else None,
                    "receipt": full,
                }
            )
    return section(
        _("Tanda terima di log transparansi"),
        _(
            "Setiap pembayaran dicatat di log transparansi publik yang ditandatangani. Tanda "
            "terima membuktikan catatan itu ada di log; periksa di halaman “Periksa tanda "
            "terima”. Berkas JSON berisi tanda terima lengkap."
        ),
        [
            col("payment", _("Nomor pembayaran")),
            col("index", _("Nomor catatan log"), NUMBER),
            col("kind", _("Jenis catatan")),
            col("recorded_at", _("Dicatat"), DATETIME),
            col("tree_size", _("Ukuran log saat ditandatangani"), NUMBER),
        ],
        rows,
    )


def _messages_section(ctx: SubjectContext) -> dict[str, Any]:
    refs = {p.pk: p.public_id for p in payments_of(ctx)}
    rows = [
        {
            "payment": refs.get(m.payment_id, ""),
            "template": m.template,
            "body": m.body,
            "state": choice(m, "state"),
            "created_at": iso(m.created_at),
            "sent_at": iso(m.sent_at),
        }
        for m in sms_of(ctx)
    ]
    return section(
        _("Pesan SMS tentang pembayaran"),
        _("Pesan SMS yang ditulis Tepat untuk nomor HP penerima bantuan keluarga Anda."),
        [
            col("payment", _("Nomor pembayaran")),
            col("body", _("Isi pesan")),
            col("state", _("Status")),
            col("created_at", _("Dibuat"), DATETIME),
            col("sent_at", _("Dikirim"), DATETIME),
        ],
        rows,
    )


def _channel_data() -> dict[str, str]:
    return {
        "bank": _("nama penerima, nomor rekening KKS, nominal, nomor referensi pembayaran"),
        "ewallet": _("nama penerima, nomor dompet elektronik, nominal, nomor referensi"),
        "cash_pos": _("nama penerima, nominal, kantor pos, jadwal pengambilan"),
        "ewarung": _("nama penerima, voucher, nominal, e-Warung, jadwal pengambilan"),
    }


def _published(entries: list[Any]) -> str:
    """What the public log holds about the household, read from its own entries (their fields
    differ between entry versions): never a name, NIK or account number."""
    words = {
        "payment": _("nomor pembayaran"),
        "beneficiary": _("nama samaran"),
        "programme": _("program"),
        "cycle": _("tahap"),
        "time": _("waktu"),
        "amount": _("nominal"),
        "amount_min": _("rentang nominal"),
        "region": _("kode wilayah"),
        "channel": _("saluran"),
        "reason": _("alasan gagal"),
    }
    keys: set[str] = set()
    for entry in entries:
        try:
            keys.update(json.loads(entry.body))
        except ValueError:
            continue
    fields = ", ".join(word for key, word in words.items() if key in keys)
    return _("%(fields)s; tanpa nama, NIK atau nomor rekening") % {"fields": fields}


def _recipients_section(ctx: SubjectContext) -> dict[str, Any]:
    groups: dict[tuple[str, str], list[Any]] = {}
    for p in payments_of(ctx):
        groups.setdefault((p.channel, p.provider), []).append(p)
    data = _channel_data()
    rows: list[dict[str, Any]] = []
    for (channel, provider), pays in sorted(groups.items()):
        dates = [p.sent_at or p.created_at for p in pays]
        rows.append(
            {
                "recipient": provider,
                "role": _("Penyalur bantuan: %(channel)s")
                % {"channel": choice(pays[0], "channel")},
                "data": data.get(channel, ""),
                "count": len(pays),
                "first": iso(min(dates)),
                "last": iso(max(dates)),
            }
        )
    sms = sms_of(ctx)
    if sms:
        sent = [m.sent_at or m.created_at for m in sms]
        rows.append(
            {
                "recipient": _("Gateway SMS"),
                "role": _("Pengirim pesan SMS"),
                "data": _("nomor HP penerima bantuan dan isi pesan"),
                "count": len(sms),
                "first": iso(min(sent)),
                "last": iso(max(sent)),
            }
        )
    entries = [e for refs in entries_of(ctx).values() for e in refs]
    if entries:
        rows.append(
            {
                "recipient": _("Log transparansi publik"),
                "role": _("Publik (siapa saja dapat membaca)"),
                "data": _published(entries),
                "count": len(entries),
                "first": iso(min(e.sequenced_at for e in entries)),
                "last": iso(max(e.sequenced_at for e in entries)),
            }
        )
    return section(
        _("Siapa yang menerima data Anda"),
        _(
            "Pihak di luar Tepat yang menerima sebagian data Anda untuk menyalurkan bantuan atau "
            "mengirim pesan, dan data apa yang mereka terima."
        ),
        [
            col("recipient", _("Penerima data")),
            col("role", _("Peran")),
            col("data", _("Data yang diterima")),
            col("count", _("Jumlah kiriman"), NUMBER),
            col("first", _("Pertama"), DATETIME),
            col("last", _("Terakhir"), DATETIME),
        ],
        rows,
    )


SECTIONS = (
    ExportSection("payments", 110, _payments_section),
    ExportSection("receipts", 120, _receipts_section),
    ExportSection("messages", 210, _messages_section),
    ExportSection("recipients", 230, _recipients_section),
)
