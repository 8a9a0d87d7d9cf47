"""The day's list: what the device checks a card or a proxy's ID number against.

The list carries, instead of a KKS account number or a proxy's NIK, a slow salted digest of
"<voucher id>:<digits>": PBKDF2-HMAC-SHA256 with a random salt drawn for each download and
TEPAT_DAY_LIST_KDF_ITERATIONS rounds (default 100,000), 16 bytes, hex. The device derives the
same digest with WebCrypto (PBKDF2 is there; scrypt and Argon2 are not) from what the card or
ID shows, about 15 ms in desktop Chromium and an estimated 50 to 150 ms on a field phone, once
per handover. Someone holding a stolen list pays the same rounds for every guess of every entry
(the salt is new per list and the voucher id differs per entry, so nothing is precomputed or
shared): see benchmarks/bench_day_list_reversal.py for the figures before and after.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tepat.verification import signing
from tepat.verification.models import Method
from tepat.verification.services.common import setting

DAY_LIST_KDF = "PBKDF2-SHA256"
DAY_LIST_KDF_BYTES = 16
DEFAULT_DAY_LIST_KDF_ITERATIONS = 100_000


@dataclass(frozen=True)
class DayListKdf:
    """The key derivation of one day's list: its salt (random per download) and rounds."""

    salt: bytes
    iterations: int

    def public(self) -> dict[str, Any]:
        return {"alg": DAY_LIST_KDF, "iterations": self.iterations,
                "salt": signing.b64e(self.salt), "length": DAY_LIST_KDF_BYTES}  # fmt: skip


def day_list_kdf_iterations() -> int:
    value = int(setting("TEPAT_DAY_LIST_KDF_ITERATIONS", DEFAULT_DAY_LIST_KDF_ITERATIONS))
    if value < 1000:
        raise ValueError("TEPAT_DAY_LIST_KDF_ITERATIONS must be at least 1000")
    return value


def day_list_kdf() -> DayListKdf:
    """A fresh salt for one download of a day's list."""
    return DayListKdf(secrets.token_bytes(16), day_list_kdf_iterations())


def card_check(voucher_id: str, card_number: str, *, kdf: DayListKdf) -> str:
    """What the day's list carries instead of a KKS number or a proxy's ID number: the device
    derives the same from what the card or ID shows and compares."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    return hashlib.pbkdf2_hmac(
        "sha256", f"{voucher_id}:{digits}".encode(), kdf.salt, kdf.iterations,
        DAY_LIST_KDF_BYTES,
    ).hex()  # fmt: skip


def card_checks(pairs: Sequence[tuple[str, str]], *, kdf: DayListKdf) -> list[str]:
    """`card_check` for many (voucher id, number) pairs, on several cores: hashlib's PBKDF2
    releases the GIL, and a list of a few hundred entries would otherwise take seconds."""
    if len(pairs) < 8:
        return [card_check(v, n, kdf=kdf) for v, n in pairs]
    from concurrent.futures import ThreadPoolExecutor

    workers = min(8, os.cpu_count() or 1, len(pairs))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda pair: card_check(pair[0], pair[1], kdf=kdf), pairs))


def cards_on_file(person_refs: Sequence[str]) -> set[str]:
    """The beneficiaries (person public ids) with a KKS card on file: a current bank account,
    the number the day's list lets the device check. Without one, a `card` handover would rest
    on the agent's word alone."""
    from tepat.registry.models import FinancialAddress

    return set(
        FinancialAddress.objects.filter(
            person__public_id__in=list(person_refs), kind="bank", valid_to__isnull=True
        ).values_list("person__public_id", flat=True)
    )


def card_alternatives(methods: Sequence[str]) -> list[str]:
    """What a programme's policy offers instead of the card (OTP, face), in canonical order."""
    return [m for m in Method.values if m != Method.CARD and m in methods]
