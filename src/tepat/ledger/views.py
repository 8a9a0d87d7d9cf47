"""The log as C2SP tlog-tiles (static-looking, cacheable) and the receipt verification page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tepat.ledger import selectors, tiles
from tepat.ledger.keys import log_verifiers, origin

_IMMUTABLE = "public, max-age=31536000, immutable"


@require_GET
def checkpoint(request: HttpRequest) -> HttpResponse:
    latest = selectors.latest_checkpoint()
    if latest is None:
        raise Http404("no checkpoint yet")
    response = HttpResponse(latest.note, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def _binary(data: bytes | None) -> HttpResponse:
    if data is None:
        raise Http404("no such tile")
    response = HttpResponse(data, content_type="application/octet-stream")
    # A tile at a given path never changes (a partial tile has its width in the path).
    response["Cache-Control"] = _IMMUTABLE
    return response


@require_GET
def tile(request: HttpRequest, level: int, rest: str) -> HttpResponse:
    try:
        index, width = tiles.parse_index_path(rest)
    except tiles.TilePathError as exc:
        raise Http404(str(exc)) from exc
    if level > 63:
        raise Http404("no such level")
    return _binary(selectors.tile_bytes(level=level, index=index, width=width))


@require_GET
def entries(request: HttpRequest, rest: str) -> HttpResponse:
    try:
        index, width = tiles.parse_index_path(rest)
    except tiles.TilePathError as exc:
        raise Http404(str(exc)) from exc
    return _binary(selectors.entry_bundle_bytes(index=index, width=width))


@require_GET
def verify_receipt(request: HttpRequest) -> HttpResponse:
    messages = {
        "valid": _("Sah / Valid: pembayaran ini tercatat di log transparansi yang ditandatangani."),
        "invalid": _("Tidak sah / Not valid"),
        "unverified": _("Tidak terverifikasi / Not verified"),
        "no_sig_check": _(
            "Peramban ini tidak dapat memeriksa tanda tangan Ed25519 checkpoint, jadi tanda "
            "terima ini belum terbukti sah; periksa dengan peramban lain atau dengan "
            "`tepat ledger verify-receipt`. / This browser cannot check the checkpoint's "
            "Ed25519 signature, so the receipt is not proven; check it in another browser or "
            "with `tepat ledger verify-receipt`."
        ),
        "no_webcrypto": _(
            "Peramban ini tidak menyediakan WebCrypto (perlu HTTPS), jadi tanda terima tidak "
            "dapat diperiksa. / This browser offers no WebCrypto (HTTPS needed)."
        ),
        "bad_json": _("Berkas bukan JSON tanda terima yang benar."),
        "bad_format": _("Bukan tanda terima log Tepat."),
        "no_key": _("Checkpoint tidak ditandatangani oleh kunci log yang dipercaya."),
        "bad_sig": _("Tanda tangan checkpoint tidak sah."),
        "size_mismatch": _("Ukuran pohon pada tanda terima berbeda dengan checkpoint."),
        "bad_proof": _("Bukti inklusi tidak cocok dengan akar checkpoint: entri tidak ada di log."),
        "checking": _("Memeriksa…"),
        "bad_opening": _(
            "Pembuka tanda terima tidak cocok dengan entri: jumlah tepat tidak terbukti."
        ),
        "opened": _("Jumlah tepat yang tercatat untuk pembayaran ini: Rp{amount}"),
    }
    context = {
        "origin": origin(),
        "log_keys": [v.vkey() for v in log_verifiers()],
        "messages_js": messages,
        "entry_fields_js": _entry_fields(),
    }
    return render(request, "ledger/verify_receipt.html", context)


# Rupiah fields of entries, shown as people read money in the receipt's table.
MONEY_FIELDS = ("amount", "amount_min", "amount_max", "paid_amount", "total_amount")


def _entry_fields() -> dict[str, object]:
    """The receipt table's row headings: each signed field in words, its key kept beside it
    (the entry is what was signed, so the page never renames it away)."""
    return {
        "money": list(MONEY_FIELDS),
        "names": {
            "v": _("Versi skema"),
            "kind": _("Jenis entri"),
            "programme": _("Program"),
            "cycle": _("Tahap"),
            "time": _("Waktu (UTC)"),
            "payment": _("Nomor pembayaran"),
            "beneficiary": _("Penerima (samaran)"),
            "amount": _("Nominal"),
            "amount_min": _("Nominal paling kecil"),
            "amount_max": _("Nominal paling besar"),
            "region": _("Wilayah"),
            "area": _("Wilayah"),
            "channel": _("Kanal"),
            "reason": _("Alasan"),
            "method": _("Metode verifikasi"),
            "point": _("Titik penyaluran"),
            "beneficiaries": _("Jumlah penerima"),
            "payments": _("Jumlah pembayaran"),
            "paid": _("Dibayar"),
            "failed": _("Gagal"),
            "cancelled": _("Dibatalkan"),
            "paid_amount": _("Nominal dibayar"),
            "total_amount": _("Nominal total"),
            "list_digest": _("Sidik daftar penerima"),
        },
    }
