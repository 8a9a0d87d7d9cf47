"""Reading delivered files into rows of text: CSV (any of `,` `;` tab; UTF-8, UTF-8 with BOM or
Latin-1), Excel (.xlsx) and JSON lines. Every value comes out as a string, so that a NIK never
passes through a float; a number cell where text was expected is reported, not guessed at."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tepat.core.errors import FieldProblem, ValidationFailed

MOJIBAKE = ("\ufffd", "Ã", "Â")


@dataclass
class RawRow:
    number: int  # as a spreadsheet counts: the header is row 1
    values: dict[str, str]
    # Cells that were numbers in a spreadsheet (a NIK there has lost its last digits).
    numeric_cells: set[str] = field(default_factory=set)
    problems: list[FieldProblem] = field(default_factory=list)


def decode(data: bytes, encoding: str = "auto") -> str:
    if encoding != "auto":
        return data.decode(encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Agency exports from older Windows tools: cp1252 is Latin-1 plus the printable 0x80-0x9f.
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


_MOJIBAKE_RE = re.compile("|".join(re.escape(m) for m in MOJIBAKE))


def _bad_encoding(values: dict[str, str], number: int) -> list[FieldProblem]:
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
            row.problems.extend(_bad_encoding(values, i))
        yield row


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d"))
    return str(value).strip()


def read_xlsx(data: bytes) -> Iterator[RawRow]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_cell_text(h) for h in next(rows, ())]
    if not header:
        raise ValidationFailed([FieldProblem("*", "empty_file", "Berkas kosong / empty file")])
    for i, cells in enumerate(rows, start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        values: dict[str, str] = {}
        numeric: set[str] = set()
        for j, h in enumerate(header):
            cell = cells[j] if j < len(cells) else None
            if isinstance(cell, (int, float)) and not isinstance(cell, bool):
                numeric.add(h)
                if abs(cell) >= 1e15:
                    # What the spreadsheet shows: the number has already lost digits.
                    values[h] = f"{float(cell):.5E}"
                    continue
            values[h] = _cell_text(cell)
        yield RawRow(i, values, numeric)
    wb.close()


def read_jsonl(data: bytes, *, encoding: str = "auto") -> Iterator[RawRow]:
    text = decode(data, encoding)
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RawRow(
                i,
                {"_line": line[:500]},
                problems=[
                    FieldProblem("*", "bad_json", f"JSON tidak valid / invalid JSON: {exc}", i)
                ],
            )
            continue
        if not isinstance(obj, dict):
            yield RawRow(
                i,
                {"_line": line[:500]},
                problems=[
                    FieldProblem("*", "bad_json", "Baris bukan objek JSON / not an object", i)
                ],
            )
            continue
        values = {str(k): "" if v is None else str(v).strip() for k, v in obj.items()}
        row = RawRow(i, values)
        row.problems.extend(_bad_encoding(values, i))
        yield row


def read_rows(data: bytes, config: dict[str, Any], file_name: str = "") -> Iterator[RawRow]:
    fmt = config.get("format", "csv")
    if file_name.lower().endswith((".csv", ".txt")):
        fmt = "csv"
    elif file_name.lower().endswith((".xlsx", ".xlsm")):
        fmt = "xlsx"
    elif file_name.lower().endswith((".jsonl", ".ndjson")):
        fmt = "jsonl"
    if fmt == "xlsx":
        return read_xlsx(data)
    if fmt == "jsonl":
        return read_jsonl(data, encoding=config.get("encoding", "auto"))
    return read_csv(
        data, encoding=config.get("encoding", "auto"), delimiter=config.get("delimiter", "auto")
    )
