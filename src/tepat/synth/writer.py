"""CSV output: UTF-8, header row, comma-separated, empty string for missing; written in chunks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

CHUNK_ROWS = 200_000


ArrowColumn: TypeAlias = "pa.Array | pa.ChunkedArray"


def to_arrow(values: npt.NDArray[Any] | ArrowColumn) -> ArrowColumn:
    """An Arrow array of the values; booleans become 0/1. (Arrow may answer a chunked array
    for a large numpy string array.)"""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if values.dtype == np.bool_:
        return pa.array(values.astype(np.int8))
    return pa.array(values)


def write_csv(path: Path, columns: Mapping[str, npt.NDArray[Any] | ArrowColumn]) -> int:
    """Write the columns (equal-length arrays) to `path`; returns the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    first = pa.table({k: to_arrow(v[:1]) for k, v in columns.items()})
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    with pacsv.CSVWriter(str(path), first.schema, write_options=options) as out:
        for start in range(0, n, CHUNK_ROWS):
            chunk = {k: to_arrow(columns[k][start : start + CHUNK_ROWS]) for k in names}
            out.write_table(pa.table(chunk, schema=first.schema))
    return n
