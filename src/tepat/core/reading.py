"""Reading delivered CSV files into rows of text: decoding (UTF-8, UTF-8 with BOM or Latin-1),
the delimiter (any of `,` `;` tab `|`) and the rows. Every value comes out as a string, so that a
NIK never passes through a float.

Shared by every app that takes a CSV upload: integration reads agency files with `read_csv`
(lenient: a garbled file is read and its garbled cells reported), targeting's survey, community
ranking and quota readers decode with `decode(data, "utf-8-sig")` (strict: a file that is not
UTF-8 is refused with their own message) and the survey sniffs its delimiter here too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tepat.core.errors import FieldProblem, ValidationFailed

# The candidates, in the order a tie is broken: a header with as many `;` as `,` is comma-separated.
DELIMITERS = (",", ";", "\t", "|")
MOJIBAKE = ("\ufffd", "Ã", "Â")


@dataclass
class RawRow:
    number: int  # as a spreadsheet counts: the header is row 1
    values: dict[str, str]
    # Cells that were numbers in a spreadsheet (a NIK there has lost its last digits).
    numeric_cells: set[str] = field(default_factory=set)
    problems: list[FieldProblem] = field(default_factory=list)


def decode(data: bytes, encoding: str = "auto") -> str:
    """The text of `data`. "auto" never fails: UTF-8 (a BOM dropped), else cp1252. A named
    encoding is strict and raises UnicodeDecodeError ("utf-8-sig": UTF-8 with or without a BOM)."""
    if encoding != "auto":
        return data.decode(encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Agency exports from older Windows tools: cp1252 is Latin-1 plus the printable 0x80-0x9f.
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(header_line: str, candidates: Sequence[str] = DELIMITERS) -> str:
    """The candidate found most often in the header line; "," when there is none."""
    counts = {d: header_line.count(d) for d in candidates}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


_MOJIBAKE_RE = re.compile("|".join(re.escape(m) for m in MOJIBAKE))


def bad_encoding(values: dict[str, str], number: int) -> list[FieldProblem]:
    """One "bad_encoding" problem per cell that shows a garbling mark (a wrong guess of the
    file's encoding upstream)."""
    out: list[FieldProblem] = []
    if not _MOJIBAKE_RE.search("\x00".join(values.values())):
        return out  # the common case: one scan of the whole row
    for name, value in values.items():
        if any(mark in value for mark in MOJIBAKE):
            out.append(
                FieldProblem(
                    name,
                    "bad_encoding",
                    "Karakter rusak (encoding salah) / garbled characters (wrong encoding)",
                    number,
                )
            )
    return out


def read_csv(data: bytes, *, encoding: str = "auto", delimiter: str = "auto") -> Iterator[RawRow]:
    text = decode(data, encoding)
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    delim = sniff_delimiter(first) if delimiter == "auto" else delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    if not header:
        raise ValidationFailed([FieldProblem("*", "empty_file", "Berkas kosong / empty file")])
    width = len(header)
    # A file without any garbling mark has no row to scan for one (the common case).
    garbled = any(mark in text for mark in MOJIBAKE)
    strip = str.strip
    for i, cells in enumerate(reader, start=2):
        stripped = list(map(strip, cells))
        if not any(stripped):
            continue  # an empty or blank line
        n = len(cells)
        if n < width:
            stripped += [""] * (width - n)
        # zip stops at the header's end: cells past it are dropped, as a short row is padded.
        values = dict(zip(header, stripped, strict=False))
        row = RawRow(i, values)
        if n != width:
            row.problems.append(
                FieldProblem(
                    "*",
                    "column_count",
                    f"{n} kolom, header punya {width} / wrong number of columns",
                    i,
                )
            )
        if garbled:
            row.problems.extend(bad_encoding(values, i))
        yield row
