"""The registry's encrypted fields, each ciphertext bound to its row.

A value is encrypted (tepat.core.crypto, AES-GCM) with associated data naming both the column
and the row's public id: ``registry.person.nik|<person public id>``. A ciphertext copied onto
another row (a swapped NIK, an account moved to another person's record) then fails to decrypt,
loudly, instead of showing the other row's value as if it were this row's. There is no fallback
to the column-only binding used before migration 0004: a token that does not open under its
row's context is an error, whatever its origin.

Other apps decrypt registry values only through this module (`unseal`, `unsealer`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from cryptography.exceptions import InvalidTag

from tepat.core import crypto

# Column contexts; a ciphertext's associated data is `<column context>|<row public id>`.
NIK = "registry.person.nik"
PHONE = "registry.person.phone"
BIRTH_DATE = "registry.person.birth_date"
KK = "registry.household.kk"
ACCOUNT = "registry.financial_address.account"


class SealedValueError(ValueError):
    """A ciphertext that does not open under its row's binding: copied from another row,
    altered, or written under a key this server does not hold."""


def row_context(context: str, row: str) -> str:
    if not row:
        raise ValueError(f"{context}: a row-bound value needs the row's public id")
    return f"{context}|{row}"


def seal(value: str, *, context: str, row: str) -> str:
    """Encrypt `value` for column `context` of the row whose public id is `row`."""
    return crypto.encrypt(value, context=row_context(context, row))


def unseal(token: str, *, context: str, row: str) -> str:
    """Decrypt a value of column `context` of row `row`; SealedValueError if it is not this
    row's value."""
    try:
        return crypto.decrypt(token, context=row_context(context, row))
    except (InvalidTag, ValueError) as exc:
        raise SealedValueError(
            f"{context} of row {row} does not decrypt under its row binding: the value was "
            "copied from another row or altered, or its key is not configured"
        ) from exc


def unsealer(*, context: str) -> Callable[[str, str], str]:
    """`unseal` for many rows of one column: call it with (token, row public id)."""

    def one(token: str, row: str) -> str:
        return unseal(token, context=context, row=row)

    return one


def sealer(*, context: str) -> Callable[[str, str], str]:
    """`seal` for many rows of one column: call it with (value, row public id)."""

    def one(value: str, row: str) -> str:
        return seal(value, context=context, row=row)

    return one


def seal_birth_date(born: dt.date, *, row: str) -> str:
    return seal(born.isoformat(), context=BIRTH_DATE, row=row)


def birth_dates_iso(rows: Iterable[tuple[str, str, int | None]]) -> list[str]:
    """ISO birth dates ("YYYY-MM-DD") of (public id, birth_date_enc, birth_year) rows, in
    order: the form numpy turns into datetime64 in one call. A row without its full date
    (erased) gets 1 July of its birth year (an age off by at most a year); "" without either."""
    open_one = unsealer(context=BIRTH_DATE)
    return [
        open_one(token, pid) if token else (f"{year:04d}-07-01" if year else "")
        for pid, token, year in rows
    ]
