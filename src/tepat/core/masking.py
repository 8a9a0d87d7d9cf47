"""Masking of personal data on screen and in public outputs."""

from __future__ import annotations


def mask_nik(nik: str | None) -> str:
    """``3273010101900001`` -> ``3273**********01``: region of issue and last two digits only."""
    if not nik:
        return ""
    if len(nik) <= 6:
        return "*" * len(nik)
    return nik[:4] + "*" * (len(nik) - 6) + nik[-2:]


def mask_phone(phone: str | None) -> str:
    """``081234567890`` -> ``0812******90``."""
    if not phone:
        return ""
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]


def mask_account(account: str | None) -> str:
    """A bank or e-wallet account: only the last four characters."""
    if not account:
        return ""
    return "*" * max(len(account) - 4, 0) + account[-4:]


def mask_name(name: str | None) -> str:
    """``Siti Nurhaliza`` -> ``Si** Nu******``: two letters of each word, as Cek Bansos shows."""
    if not name:
        return ""
    words = []
    for word in name.split():
        keep = 2 if len(word) > 3 else 1
        words.append(word[:keep] + "*" * (len(word) - keep))
    return " ".join(words)
