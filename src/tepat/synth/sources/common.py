"""A source table under construction: rows that point at true people, plus what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tepat.synth import corruption
from tepat.synth.names import STR, StrArray
from tepat.synth.people import Homes, People
from tepat.synth.writer import ArrowColumn, to_arrow

I64 = npt.NDArray[np.int64]
Column = npt.NDArray[Any]


@dataclass
class SourceTable:
    """`person` is the index of each row's true person (-1: not a real person); `home` the
    household a row describes (-1: none); `corruptions` is a ';'-separated list per row."""

    name: str
    prefix: str
    person: I64
    home: I64
    columns: dict[str, Column] = field(default_factory=dict)
    corruptions: StrArray = field(default_factory=lambda: np.array([], dtype=STR))
    order: I64 | None = None  # a pending permutation of the columns' rows (see shuffle)

    def __post_init__(self) -> None:
        if len(self.corruptions) != len(self.person):
            self.corruptions = np.full(len(self.person), "", dtype=STR)

    def __len__(self) -> int:
        return len(self.person)

    def pick(
        self, rng: np.random.Generator, rate: float, where: npt.NDArray[np.bool_] | None = None
    ) -> I64:
        """Random rows (each with probability `rate`), optionally only among `where`."""
        hit = rng.random(len(self)) < rate
        if where is not None:
            hit &= where
        return np.flatnonzero(hit).astype(np.int64)

    def multiword(self, column: str) -> npt.NDArray[np.bool_]:
        """Rows whose value in `column` has more than one word (names that can be reordered)."""
        return np.strings.find(self.columns[column], " ") >= 0

    def mark(self, rows: I64, kind: str) -> None:
        if not len(rows):
            return
        old = self.corruptions[rows]
        sep = np.where(np.strings.str_len(old) > 0, ";", "").astype(STR)
        self.corruptions[rows] = np.strings.add(np.strings.add(old, sep), kind)

    def corrupt(
        self,
        rng: np.random.Generator,
        column: str,
        rate: float,
        fn: corruption.Corruption,
        kind: str,
        where: npt.NDArray[np.bool_] | None = None,
    ) -> I64:
        rows = self.pick(rng, rate, where)
        col = self.columns[column]
        corruption.apply(col, rows, fn, rng)
        self.mark(rows, kind)
        return rows

    def blank(self, rng: np.random.Generator, column: str, rate: float, kind: str) -> I64:
        rows = self.pick(rng, rate, np.strings.str_len(self.columns[column]) > 0)
        self.columns[column][rows] = ""
        self.mark(rows, kind)
        return rows

    def append_rows(self, rows: I64, kind: str) -> None:
        """Repeat existing rows (duplicates), marking the copies."""
        if self.order is not None:
            raise RuntimeError("append rows before shuffling")
        self.person = np.r_[self.person, self.person[rows]]
        self.home = np.r_[self.home, self.home[rows]]
        for k, v in self.columns.items():
            self.columns[k] = np.concatenate([v, v[rows]])
        self.corruptions = np.concatenate([self.corruptions, self.corruptions[rows]])
        self.mark(np.arange(len(self) - len(rows), len(self), dtype=np.int64), kind)

    def duplicate(
        self, rng: np.random.Generator, rate: float, new_ids: dict[str, int] | None = None
    ) -> I64:
        """Copy some rows again (returns the copies' row numbers). `new_ids` names columns that
        get a fresh random number of that many digits in the copy (a second card, say)."""
        self.append_rows(self.pick(rng, rate), "duplicate")
        copies = np.flatnonzero(np.strings.find(self.corruptions, "duplicate") >= 0).astype(
            np.int64
        )
        for col, width in (new_ids or {}).items():
            fresh = rng.integers(10 ** (width - 1), 10**width, len(copies), dtype=np.int64)
            self.columns[col][copies] = np.strings.zfill(fresh.astype(STR), width)
        return copies

    def stale_address(
        self, rng: np.random.Generator, homes: Homes, rate: float, columns: dict[str, str]
    ) -> None:
        """An old address for households that moved without telling this agency: every row of
        such a household gets the address of the house it left (another household's).
        `columns` maps Homes attributes (address, rt, rw, village_code) to column names."""
        moved = rng.random(len(homes.kk)) < rate
        old_home = rng.integers(0, len(homes.kk), len(homes.kk))
        rows = np.flatnonzero((self.home >= 0) & moved[np.maximum(self.home, 0)]).astype(np.int64)
        other = old_home[self.home[rows]]
        for attr, col in columns.items():
            self.columns[col][rows] = getattr(homes, attr)[other]
        self.mark(rows, "stale_address")

    def bad_rows(
        self,
        rng: np.random.Generator,
        rate: float,
        *,
        nik: str | None,
        date: str | None,
        region: str | None,
    ) -> None:
        """Rows the import must quarantine: a NIK as a spreadsheet shows it, an impossible date,
        a region code that does not exist."""
        if nik:
            rows = self.pick(rng, rate, np.strings.str_len(self.columns[nik]) == 16)
            corruption.apply(self.columns[nik], rows, corruption.spreadsheet_number, rng)
            self.mark(rows, "bad_nik_format")
        if date:
            rows = self.pick(rng, rate)
            col = self.columns[date]
            corruption.apply(col, rows, impossible_date, rng)
            self.mark(rows, "bad_date")
        if region:
            rows = self.pick(rng, rate)
            self.columns[region][rows] = np.array(
                [f"99{int(x):08d}" for x in rng.integers(0, 10**8, len(rows))], dtype=STR
            )
            self.mark(rows, "bad_region")

    def shuffle(self, rng: np.random.Generator) -> None:
        """Put rows in a random order (agencies' extracts are not sorted like our households).

        The columns are permuted only when written (`output`), with Arrow's take: gathering
        numpy strings at random positions is several times slower."""
        order = rng.permutation(len(self))
        self.person = self.person[order]
        self.home = self.home[order]
        self.corruptions = self.corruptions[order]
        self.order = order if self.order is None else self.order[order]

    def record_ids(self) -> StrArray:
        seq = np.arange(1, len(self) + 1).astype(STR)
        return np.strings.add(self.prefix + "-", np.strings.zfill(seq, 8))

    def output(self) -> dict[str, Column | ArrowColumn]:
        """Columns to write, in row order (after any shuffle), record id first."""
        if self.order is None:
            return {"source_record_id": self.record_ids(), **self.columns}
        order = pa.array(self.order)
        shuffled = {k: to_arrow(v).take(order) for k, v in self.columns.items()}
        return {"source_record_id": self.record_ids(), **shuffled}


def impossible_date(value: str, rng: np.random.Generator) -> str:
    """Keep the format (DD-MM-YYYY or YYYY-MM-DD) but make the day or month impossible."""
    bad_day, bad_month = ("31", "02") if rng.random() < 0.5 else ("15", "13")
    if len(value) == 10 and value[4] == "-":
        return f"{value[:4]}-{bad_month}-{bad_day}"
    if len(value) == 10:
        return f"{bad_day}{value[2]}{bad_month}{value[5]}{value[6:]}"
    return "00-00-0000"


def swap_day_month(value: str, rng: np.random.Generator) -> str:
    """A plausible date typo: day and month swapped (when still a valid date) or year off."""
    if len(value) != 10:
        return value
    if value[4] == "-":
        y, m, d = value[:4], value[5:7], value[8:]
        if int(d) <= 12 and d != m:
            return f"{y}-{d}-{m}"
        return f"{int(y) + (1 if rng.random() < 0.5 else -1)}-{m}-{d}"
    d, m, y = value[:2], value[3:5], value[6:]
    if int(d) <= 12 and d != m:
        return f"{m}{value[2]}{d}{value[5]}{y}"
    return f"{d}{value[2]}{m}{value[5]}{int(y) + (1 if rng.random() < 0.5 else -1)}"


def upper(values: StrArray) -> StrArray:
    return np.strings.upper(values)


def lookup(labels: tuple[str, ...], codes: npt.NDArray[np.integer]) -> StrArray:
    return np.array(labels, dtype=STR)[codes]


def take(people: People, attr: str, idx: I64) -> Column:
    col: Column = getattr(people, attr)[idx]
    return col.copy()
