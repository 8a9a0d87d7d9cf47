"""Phones, KKS bank accounts (for poorer household heads) and e-wallets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tepat.synth import codes as c
from tepat.synth.names import STR, StrArray

B = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_OPERATOR_PREFIXES = np.array(
    ["0811", "0812", "0813", "0821", "0822", "0852", "0853", "0857", "0858", "0877",
     "0878", "0895", "0896", "0897", "0898", "0899", "0881", "0882", "0838", "0831"],
    dtype=STR,
)  # fmt: skip
_BANK_SHARE = np.array([0.45, 0.20, 0.15, 0.12, 0.08])
_ACCOUNT_DIGITS = {"BRI": 15, "BNI": 10, "MANDIRI": 13, "BSI": 10, "BTN": 16}


@dataclass
class Contacts:
    phone: StrArray
    bank_provider: StrArray
    bank_account: StrArray
    ewallet_provider: StrArray
    ewallet_account: StrArray


def digits(rng: np.random.Generator, n: int, length: int) -> StrArray:
    """Random numbers of exactly `length` digits, as strings (no leading zero)."""
    return rng.integers(10 ** (length - 1), 10**length, n, dtype=np.int64).astype(STR)


def make_contacts(
    rng: np.random.Generator, *, is_head: B, age: I64, urban: B, wealth_rank: F64
) -> Contacts:
    """`wealth_rank` per person is the household's wealth percentile (0 = poorest)."""
    n = len(age)
    p_phone = np.where(is_head, 0.8, 0.55) + 0.08 * urban
    has_phone = (age >= 17) & (rng.random(n) < p_phone)
    phone = np.full(n, "", dtype=STR)
    k = int(has_phone.sum())
    phone[has_phone] = np.strings.add(
        _OPERATOR_PREFIXES[rng.integers(0, len(_OPERATOR_PREFIXES), k)], digits(rng, k, 8)
    )

    kks = is_head & (rng.random(n) < np.where(wealth_rank < 0.35, 0.65, 0.04))
    bank_provider = np.full(n, "", dtype=STR)
    bank_account = np.full(n, "", dtype=STR)
    bank = rng.choice(len(c.BANKS), size=n, p=_BANK_SHARE)
    for i, name in enumerate(c.BANKS):
        sel = kks & (bank == i)
        bank_provider[sel] = name
        bank_account[sel] = digits(rng, int(sel.sum()), _ACCOUNT_DIGITS[name])

    wallet = has_phone & (age <= 50) & (rng.random(n) < 0.06 + 0.06 * urban)
    ewallet_provider = np.full(n, "", dtype=STR)
    ewallet_provider[wallet] = np.array(c.EWALLETS, dtype=STR)[
        rng.integers(0, len(c.EWALLETS), int(wallet.sum()))
    ]
    ewallet_account = np.where(wallet, phone, "").astype(STR)
    return Contacts(phone, bank_provider, bank_account, ewallet_provider, ewallet_account)
