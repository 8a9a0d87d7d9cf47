"""Villages of the chosen region, read straight from the vendored wilayah file (no database)."""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

WILAYAH_CSV = Path(__file__).resolve().parent.parent / "regions" / "data" / "wilayah.csv.gz"


class UnknownRegionError(ValueError):
    """The region code is not a province or regency in the wilayah file."""


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    village_codes: npt.NDArray[np.int64]
    village_names: tuple[str, ...]
    # Per village: the district (kecamatan) code and whether its regency is a city (kota).
    village_district: npt.NDArray[np.int64]
    village_urban: npt.NDArray[np.bool_]
    # Districts of the whole country, for NIKs first registered elsewhere.
    province_districts: npt.NDArray[np.int64]
    other_districts: npt.NDArray[np.int64]
    # Place names for birth places: the region's own regencies first, then the rest of Indonesia.
    own_places: tuple[str, ...]
    other_places: tuple[str, ...]


@dataclass(frozen=True)
class _Row:
    code: str
    name: str
    level: str
    parent: str


@cache
def _rows() -> tuple[_Row, ...]:
    with gzip.open(WILAYAH_CSV, "rt", encoding="utf-8", newline="") as fh:
        return tuple(
            _Row(r["code"], r["name"], r["level"], r["parent_code"]) for r in csv.DictReader(fh)
        )


def place_name(regency_name: str) -> str:
    """'Kota Bandung' / 'Kabupaten Bandung Barat' -> 'Bandung' / 'Bandung Barat' (a birth place)."""
    for prefix in ("Kabupaten ", "Kab. ", "Kota Administrasi ", "Kota Adm. ", "Kota "):
        if regency_name.startswith(prefix):
            return regency_name[len(prefix) :]
    return regency_name


def load_region(code: str) -> Region:
    """The province or regency with this code (dotted or not) and its villages."""
    wanted = code.strip().replace(".", "")
    rows = _rows()
    by_code = {r.code: r for r in rows}
    top = by_code.get(wanted)
    if top is None or top.level not in ("province", "regency"):
        raise UnknownRegionError(
            f"Kode wilayah tidak dikenal / unknown region code: {code!r} "
            "(expected a province like 32 or a regency like 3273 or 32.73)"
        )
    villages = [r for r in rows if r.level == "village" and r.code.startswith(wanted)]
    if not villages:
        raise UnknownRegionError(f"Wilayah {code!r} tidak memiliki desa / region has no villages")
    regencies = [r for r in rows if r.level == "regency"]
    urban_regency = {r.code for r in regencies if r.name.startswith("Kota")}
    districts = np.array(sorted(int(r.code) for r in rows if r.level == "district"), np.int64)
    province = wanted[:2]
    in_province = (districts // 10000) == int(province)
    own = sorted({place_name(r.name) for r in regencies if r.code.startswith(wanted)})
    if not own:  # a regency: its own place name
        own = [place_name(top.name)]
    other = sorted({place_name(r.name) for r in regencies} - set(own))
    return Region(
        code=wanted,
        name=top.name,
        level=top.level,
        village_codes=np.array([int(v.code) for v in villages], np.int64),
        village_names=tuple(v.name for v in villages),
        village_district=np.array([int(v.parent) for v in villages], np.int64),
        village_urban=np.array([v.code[:4] in urban_regency for v in villages], np.bool_),
        province_districts=districts[in_province],
        other_districts=districts[~in_province],
        own_places=tuple(own),
        other_places=tuple(other),
    )
