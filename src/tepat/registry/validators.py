"""NIK and No. KK validation (ANCHORS.md: Programme facts / NIK).

NIK: district where first registered (6 digits) + birth date DDMMYY, day + 40 for women + a
4-digit serial. There is no checksum. The number never changes when a person moves, so an unknown
or outdated region prefix is a *warning*, as is a birth date or sex that disagrees with the
registry; only a malformed number is an error. No. KK: district of issue + issue date + serial.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from tepat.core.errors import FieldProblem, Problems

_SCIENTIFIC = re.compile(r"^\s*\d(?:[.,]\d+)?[eE][+]?\d+\s*$")
_SEPARATORS = re.compile(r"[\s.\-]")

# Province codes in use (Kemendagri, 38 provinces since 2022); used when no region table is given.
PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "21",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "51",
        "52",
        "53",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "72",
        "73",
        "74",
        "75",
        "76",
        "81",
        "82",
        "91",
        "92",
        "93",
        "94",
        "95",
        "96",
    ]
)


def normalize_number(raw: object) -> str:
    """Digits of a NIK/KK as typed: spaces, dots and dashes removed. No other repair."""
    if raw is None:
        return ""
    return _SEPARATORS.sub("", str(raw))


def _looks_scientific(raw: str) -> bool:
    return bool(_SCIENTIFIC.match(raw))


def nik_birth_date(nik: str, *, today: dt.date | None = None) -> tuple[dt.date, str] | None:
    """The (birth date, sex) encoded in a 16-digit NIK, or None if the date is impossible."""
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "F" if day > 40 else "M"
    if day > 40:
        day -= 40
    today = today or dt.date.today()
    year = 2000 + yy
    if year > today.year:
        year -= 100
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return None
    if born > today:
        try:
            born = born.replace(year=year - 100)
        except ValueError:
            return None
    return born, sex


def kk_issue_date(kk: str, *, today: dt.date | None = None) -> dt.date | None:
    """The issue date encoded in a 16-digit No. KK, or None if the date is impossible."""
    day, month, yy = int(kk[6:8]), int(kk[8:10]), int(kk[10:12])
    today = today or dt.date.today()
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def validate_nik(
    raw: object,
    *,
    field: str = "nik",
    row: int | None = None,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    region_exists: Callable[[str], bool] | None = None,
    today: dt.date | None = None,
) -> tuple[str, list[FieldProblem]]:
    """Normalise and check a NIK. Returns the 16-digit string and the problems found.

    Errors (the record must be refused): empty, scientific notation from a spreadsheet, not
    digits, not 16 digits, impossible date, serial 0000. Warnings (kept, flagged): unknown region
    prefix, birth date or sex that differ from the ones given.
    """
    p = Problems()
    text = "" if raw is None else str(raw).strip()
    if not text:
        p.error(field, "required", "NIK wajib diisi / NIK is required", row)
        return "", p.items
    if text.isdigit() and text.isascii():
        nik = text  # the common case: no notation to refuse, no separator to remove
    elif _looks_scientific(text):
        p.error(
            field,
            "scientific_notation",
            f"NIK {text!r} rusak oleh spreadsheet (notasi ilmiah); format kolom sebagai teks / "
            "NIK was turned into scientific notation by a spreadsheet; format the column as text",
            row,
        )
        return "", p.items
    else:
        nik = normalize_number(text)
    if not nik.isdigit() or not nik.isascii():
        p.error(
            field, "not_digits", f"NIK hanya boleh angka / NIK must be digits only: {text!r}", row
        )
        return "", p.items
    if len(nik) != 16:
        p.error(
            field, "length", f"NIK harus 16 digit, bukan {len(nik)} / NIK must have 16 digits", row
        )
        return "", p.items
    decoded = nik_birth_date(nik, today=today)
    if decoded is None:
        p.error(
            field,
            "impossible_date",
            f"Tanggal lahir dalam NIK tidak mungkin ({nik[6:12]}) / impossible birth date in NIK",
            row,
        )
        return "", p.items
    if nik[12:] == "0000":
        p.error(field, "serial", "Nomor urut NIK tidak boleh 0000 / NIK serial cannot be 0000", row)
        return "", p.items
    born, nik_sex = decoded
    if region_exists is not None:
        if not region_exists(nik[:6]):
            p.warning(
                field,
                "unknown_region",
                f"Kode wilayah NIK {nik[:6]} tidak dikenal (mungkin kode lama) / "
                "unknown or outdated region prefix",
                row,
            )
    elif nik[:2] not in PROVINCE_CODES:
        p.warning(
            field,
            "unknown_region",
            f"Kode provinsi NIK {nik[:2]} tidak dikenal / unknown province prefix",
            row,
        )
    if sex is not None and sex != nik_sex:
        p.warning(
            field,
            "sex_mismatch",
            "Jenis kelamin tidak sesuai dengan NIK / sex does not match the NIK",
            row,
        )
    if birth_date is not None and (born.day, born.month, born.year % 100) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        p.warning(
            field,
            "birth_date_mismatch",
            f"Tanggal lahir {birth_date:%d-%m-%Y} tidak sesuai dengan NIK ({born:%d-%m-%y}) / "
            "birth date does not match the NIK",
            row,
        )
    return nik, p.items


def validate_kk(
    raw: object,
    *,
    field: str = "kk",
    row: int | None = None,
    region_exists: Callable[[str], bool] | None = None,
    today: dt.date | None = None,
) -> tuple[str, list[FieldProblem]]:
    """Normalise and check a No. KK (family card): district(6) + issue date DDMMYY + serial(4)."""
    p = Problems()
    text = "" if raw is None else str(raw).strip()
    if not text:
        p.error(field, "required", "No. KK wajib diisi / family card number is required", row)
        return "", p.items
    if text.isdigit() and text.isascii():
        kk = text  # the common case, as in validate_nik
    elif _looks_scientific(text):
        p.error(
            field,
            "scientific_notation",
            f"No. KK {text!r} rusak oleh spreadsheet (notasi ilmiah) / "
            "family card number was turned into scientific notation",
            row,
        )
        return "", p.items
    else:
        kk = normalize_number(text)
    if not kk.isdigit() or not kk.isascii():
        p.error(
            field, "not_digits", f"No. KK hanya boleh angka / must be digits only: {text!r}", row
        )
        return "", p.items
    if len(kk) != 16:
        p.error(
            field, "length", f"No. KK harus 16 digit, bukan {len(kk)} / must have 16 digits", row
        )
        return "", p.items
    if kk_issue_date(kk, today=today) is None:
        p.error(
            field,
            "impossible_date",
            f"Tanggal terbit dalam No. KK tidak mungkin ({kk[6:12]}) / impossible issue date",
            row,
        )
        return "", p.items
    if region_exists is not None and not region_exists(kk[:6]):
        p.warning(
            field,
            "unknown_region",
            f"Kode wilayah No. KK {kk[:6]} tidak dikenal / unknown region",
            row,
        )
    elif region_exists is None and kk[:2] not in PROVINCE_CODES:
        p.warning(
            field, "unknown_region", f"Kode provinsi {kk[:2]} tidak dikenal / unknown province", row
        )
    return kk, p.items
