"""Dates as int64 days since 1970-01-01, with vectorised conversions and formatting."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
STR = np.dtypes.StringDType()


def to_days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def day_month_year(days: I64) -> tuple[I64, I64, I64]:
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return day, month, year


def iso(days: I64) -> npt.NDArray[np.str_]:
    """YYYY-MM-DD strings."""
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(STR)


def dmy(days: I64, sep: str = "-") -> npt.NDArray[np.str_]:
    """DD-MM-YYYY strings (the civil registry's habit)."""
    s = iso(days)
    y = np.strings.slice(s, 0, 4)
    m = np.strings.slice(s, 5, 7)
    d = np.strings.slice(s, 8, 10)
    return np.strings.add(np.strings.add(np.strings.add(np.strings.add(d, sep), m), sep), y)


def age_on(birth: I64, on_day: int) -> I64:
    """Completed years of age on a day."""
    bd, bm, by = day_month_year(birth)
    od, om, oy = day_month_year(np.array([on_day], np.int64))
    before = (bm > om[0]) | ((bm == om[0]) & (bd > od[0]))
    return oy[0] - by - before
