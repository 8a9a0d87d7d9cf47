"""SMS and USSD commands for phones without data: `CEK <NIK>`, `ADU <kode>`, `BANTUAN`.

Replies are Indonesian, plain ASCII, at most 160 characters (one SMS segment). A status reply
goes only to the phone registered for that NIK; any other sender gets the same answer as an
unknown NIK, so the channel cannot be used to enumerate NIKs or read someone else's status.
The sender is believed because the gateway signs each call (tepat.messaging.gateway); views.py
refuses unsigned ones before anything here runs.
"""

from __future__ import annotations

from django.utils import timezone

from tepat.core import guard
from tepat.grievances.models import Complaint
from tepat.grievances.selectors import normalize_tracking_code
from tepat.portal.selectors import status_by_phone_nik
from tepat.registry.validators import normalize_number

MAX_LEN = 160
HELP = "Ketik CEK <NIK> untuk status bansos, ADU <nomor> untuk status pengaduan. Info: tepat.go.id"
NOT_FOUND = "Data tidak ditemukan atau nomor HP ini tidak terdaftar untuk NIK tsb. Hubungi desa."
TOO_MANY = "Terlalu banyak pesan. Coba lagi nanti."


def _fit(text: str) -> str:
    text = " ".join(text.split())
    text = text.encode("ascii", "replace").decode()
    return text if len(text) <= MAX_LEN else text[: MAX_LEN - 3] + "..."


def normalize_msisdn(raw: str) -> str:
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits


def _rupiah(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


def cek_reply(*, sender: str, nik_raw: str) -> str:
    nik = normalize_number(nik_raw)
    if not (len(nik) == 16 and nik.isdigit()):
        return _fit("NIK harus 16 angka. Contoh: CEK 3273011205800001")
    if not guard.hit("sms-nik", nik, limit=guard.limits()["nik"], window_s=86400):
        return _fit("Terlalu sering. Coba lagi besok.")
    result = status_by_phone_nik(nik=nik, phone=normalize_msisdn(sender))
    if result is None:
        return _fit(NOT_FOUND)
    if not result.rows:
        desil = f"desil {result.desil}" if result.desil else "desil belum ada"
        return _fit(f"{result.masked_name}: {desil}, belum ada bantuan aktif.")
    r = result.rows[0]
    parts = [
        f"{result.masked_name}",
        f"D{result.desil}" if result.desil else "",
        f"{r.programme} T{r.tahap}: {r.status_label} {_rupiah(r.amount)}",
    ]
    if r.collection_place:
        parts.append(f"di {r.collection_place}")
    if r.collection_from:
        parts.append(timezone.localtime(r.collection_from).strftime("%d/%m"))
    return _fit(" ".join(p for p in parts if p))


def adu_reply(*, code_raw: str) -> str:
    code = normalize_tracking_code(code_raw)
    c = Complaint.objects.filter(tracking_code=code).first() if code else None
    if c is None:
        return _fit("Nomor pengaduan tidak ditemukan. Contoh: ADU ADU-7K2M-9XPQ")
    due = timezone.localtime(c.due_at).strftime("%d/%m/%Y")
    return _fit(f"Pengaduan {c.tracking_code}: {c.get_status_display()}. Batas waktu {due}.")


def sms_reply(*, sender: str, text: str) -> str:
    """One inbound SMS -> one reply. Limited per sender, counted by the number in one form
    (+62812..., 62812... and 0812... are one sender)."""
    if not guard.hit(
        "sms-from", normalize_msisdn(sender) or "?", limit=guard.limits()["sms"], window_s=3600
    ):
        return TOO_MANY
    words = text.strip().split(maxsplit=1)
    command = words[0].upper() if words else ""
    arg = words[1] if len(words) > 1 else ""
    if command == "CEK":
        return cek_reply(sender=sender, nik_raw=arg)
    if command == "ADU":
        return adu_reply(code_raw=arg)
    return _fit(HELP)


USSD_MENU = "Tepat *123#\n1 Cek bansos\n2 Status pengaduan\n3 Bantuan"


def ussd_reply(*, sender: str, text: str) -> str:
    """USSD as the gateway sends it: the choices so far joined by `*` ("" = menu, "1*NIK")."""
    steps = [s for s in text.strip().split("*") if s] if text.strip() else []
    if not steps:
        return USSD_MENU
    if steps[0] == "1":
        if len(steps) == 1:
            return "Masukkan NIK (16 angka):"
        return "END " + sms_reply(sender=sender, text=f"CEK {steps[1]}")[: MAX_LEN - 4]
    if steps[0] == "2":
        if len(steps) == 1:
            return "Masukkan nomor pengaduan:"
        return "END " + adu_reply(code_raw=steps[1])[: MAX_LEN - 4]
    return "END " + HELP[: MAX_LEN - 4]
