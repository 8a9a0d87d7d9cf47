"""Reading delivered files into rows of text: CSV (any of `,` `;` tab; UTF-8, UTF-8 with BOM or
Latin-1), Excel (.xlsx) and JSON lines. Every value comes out as a string, so that a NIK never
passes through a float; a number cell where text was expected is reported, not guessed at.

The CSV reader itself (decoding, delimiter, rows) is tepat.core.reading, shared with targeting's
uploads; this module adds the formats only agency deliveries come in and picks the reader."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from tepat.core.errors import FieldProblem, ValidationFailed
from tepat.core.reading import RawRow, bad_encoding, decode, read_csv


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
        row.problems.extend(bad_encoding(values, i))
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
