"""Reading a household survey for PMT calibration, as the spec maps its columns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tepat.core.errors import Problems
from tepat.targeting.spec import Spec

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]


@dataclass
class Survey:
    """The usable survey rows: log per-capita consumption, weights, areas and raw proxies."""

    y: F64
    weight: F64
    area: npt.NDArray[np.str_]
    proxies: dict[str, npt.NDArray[Any]]
    rows_read: int
    dropped: dict[str, list[int]]  # reason -> 1-based data row numbers (first few kept)
    dropped_count: dict[str, int]
    sha256: str
    file_name: str


def _as_float(col: pa.ChunkedArray, name: str, p: Problems) -> F64:
    try:
        return np.asarray(
            pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = col.to_pylist()
        out = np.full(len(values), np.nan)
        bad = 0
        for i, v in enumerate(values):
            if v is None or v == "":
                continue
            try:
                out[i] = float(v)
            except ValueError:
                bad += 1
                if bad <= 3:
                    p.warning(name, "not_a_number", f"bukan angka / not a number: {v!r}", i + 1)
        return out


def survey_read(path: Path, spec: Spec) -> Survey:
    """Read the spec's columns from a CSV; rows without a usable consumption are set aside."""
    p = Problems()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    wanted = [spec.consumption, spec.weight, spec.area, *(x.column for x in spec.proxies)]
    wanted = [w for w in dict.fromkeys(wanted) if w]
    try:
        header = pacsv.open_csv(path).schema.names
    except (pa.ArrowInvalid, OSError) as exc:
        p.error(path.name, "unreadable", f"CSV tidak terbaca / unreadable CSV: {exc}")
        p.raise_if_errors()
        raise
    for col in wanted:
        if col not in header:
            p.error(
                col,
                "missing_column",
                f"kolom tidak ada di survei / column not in survey {path.name}",
            )
    p.raise_if_errors()
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            include_columns=wanted,
            column_types=dict.fromkeys(wanted, pa.string()),
            strings_can_be_null=True,
        ),
    )
    n = table.num_rows
    cons = _as_float(table[spec.consumption], spec.consumption, p)
    weight = _as_float(table[spec.weight], spec.weight, p) if spec.weight else np.ones(n)
    area = (
        np.array(table[spec.area].fill_null("").to_pylist(), dtype="U16")
        if spec.area
        else np.full(n, "", dtype="U16")
    )
    raw: dict[str, npt.NDArray[Any]] = {}
    for x in spec.proxies:
        if x.kind == "numeric":
            raw[x.name] = _as_float(table[x.column], x.column, p)
        else:
            raw[x.name] = np.array(table[x.column].fill_null("").to_pylist(), dtype="U32")
    reasons = {
        "consumption_missing_or_not_positive": ~(cons > 0),
        "weight_missing_or_not_positive": ~(weight > 0),
    }
    keep = np.ones(n, dtype=bool)
    dropped: dict[str, list[int]] = {}
    dropped_count: dict[str, int] = {}
    for reason, mask in reasons.items():
        mask = mask & keep
        if mask.any():
            dropped[reason] = (np.flatnonzero(mask)[:20] + 1).tolist()
            dropped_count[reason] = int(mask.sum())
        keep &= ~mask
    if keep.sum() < 20:
        p.error(
            spec.consumption,
            "too_few_rows",
            f"hanya {int(keep.sum())} baris terpakai / too few usable rows",
        )
    p.raise_if_errors()
    return Survey(
        y=np.log(cons[keep]),
        weight=weight[keep] / weight[keep].mean(),
        area=area[keep],
        proxies={k: v[keep] for k, v in raw.items()},
        rows_read=n,
        dropped=dropped,
        dropped_count=dropped_count,
        sha256=digest.hexdigest(),
        file_name=path.name,
    )
