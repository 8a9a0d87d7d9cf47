"""NIK and No. KK numbers: region(6) + DDMMYY (day + 40 for women in a NIK) + serial(4).

Serials are handed out in order within each (region, date) pair, as the civil registry does, so
every number is unique. Numbers are kept as int64 (16 digits fit) and formatted when written.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tepat.synth.dates import day_month_year

I64 = npt.NDArray[np.int64]


def serials(group: I64, rng: np.random.Generator) -> I64:
    """1-based serial within each group, in a random (seeded) order inside the group."""
    n = len(group)
    order = np.lexsort((rng.random(n), group))
    g = group[order]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    out = np.empty(n, np.int64)
    out[order] = np.arange(n) - run_start + 1
    if n and out.max() > 9999:
        raise ValueError("more than 9999 numbers for one region and date")
    return out


def ddmmyy(days: I64, female: npt.NDArray[np.bool_] | None = None) -> I64:
    day, month, year = day_month_year(days)
    if female is not None:
        day = day + 40 * female
    return day * 10000 + month * 100 + year % 100


def make_numbers(
    region6: I64, days: I64, rng: np.random.Generator, female: npt.NDArray[np.bool_] | None = None
) -> I64:
    """NIKs (pass `female`) or KK numbers (leave it out) as 16-digit integers."""
    date_part = ddmmyy(days, female)
    serial = serials(region6 * 1_000_000 + date_part, rng)
    return region6 * 10**10 + date_part * 10**4 + serial


def decode_nik(nik: str) -> tuple[int, int, int, int, bool, int]:
    """(district code, day, month, two-digit year, is_female, serial) of a well-formed NIK."""
    day = int(nik[6:8])
    female = day > 40
    return (
        int(nik[:6]),
        day - 40 if female else day,
        int(nik[8:10]),
        int(nik[10:12]),
        female,
        int(nik[12:]),
    )
