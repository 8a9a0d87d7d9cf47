"""A household socio-economic survey (Susenas-like) with consumption, for PMT calibration.

Two-stage sample: villages (primary sampling units) with probability SAMPLE_VILLAGE, then
households within a sampled village with probability SAMPLE_HOUSEHOLD; WEIGHT is households
represented (village households / sampled households / SAMPLE_VILLAGE). KAPITA is measured
monthly per-capita consumption (rupiah), with measurement error.

Columns: KODE_DESA, KODE_KEC, NO_URUT_RUTA, NIK_KRT, NAMA_KRT, JML_ART, WEIGHT, KAPITA, then the
proxies as registry choice codes: LANTAI (floor_material), DINDING (wall_material), ATAP
(roof_material), LUAS_LANTAI (floor_area_m2), AIR_MINUM (drinking_water), JAMBAN (toilet),
PENERANGAN (electricity), DAYA_VA (electricity_va), BAHAN_BAKAR (cooking_fuel), MOTOR, KULKAS,
MOBIL, LAHAN, LUAS_LAHAN, TERNAK, and the head: KRT_UMUR, KRT_JK (M/F), KRT_PENDIDIKAN
(education), KRT_LAPANGAN_USAHA (work_sector); counts JML_BALITA (<5), JML_LANSIA (60+),
JML_BEKERJA (working), JML_SEKOLAH (in school).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from tepat.synth import corruption as cx
from tepat.synth.people import Homes, People
from tepat.synth.sources.common import SourceTable

SAMPLE_VILLAGE = 0.5
SAMPLE_HOUSEHOLD = 0.14
MEASUREMENT_ERROR = 0.12  # sd of log consumption error
RATES = {"nik_missing": 0.08, "nik_typo": 0.01, "name_typo": 0.02, "bad": 0.002}

# Registry household columns copied into the survey, under survey names.
PROXY_COLUMNS = {
    "LANTAI": "floor_material", "DINDING": "wall_material", "ATAP": "roof_material",
    "LUAS_LANTAI": "floor_area_m2", "AIR_MINUM": "drinking_water", "JAMBAN": "toilet",
    "PENERANGAN": "electricity", "DAYA_VA": "electricity_va", "BAHAN_BAKAR": "cooking_fuel",
    "MOTOR": "owns_motorcycle", "KULKAS": "owns_refrigerator", "MOBIL": "owns_car",
    "LAHAN": "owns_land", "LUAS_LAHAN": "land_area_m2", "TERNAK": "livestock_count",
}  # fmt: skip


def build(
    rng: np.random.Generator,
    people: People,
    homes: Homes,
    household_columns: Mapping[str, npt.NDArray[np.generic]],
    head_columns: Mapping[str, npt.NDArray[np.generic]],
) -> SourceTable:
    nv = int(homes.village.max()) + 1 if len(homes.village) else 0
    village_in = rng.random(nv) < SAMPLE_VILLAGE
    if nv and not village_in.any():
        village_in[rng.integers(0, nv)] = True
    sampled = village_in[homes.village] & (rng.random(len(homes.kk)) < SAMPLE_HOUSEHOLD)
    h = np.flatnonzero(sampled).astype(np.int64)
    per_village = np.bincount(homes.village, minlength=nv)
    sampled_per_village = np.bincount(homes.village[h], minlength=nv)
    weight = per_village[homes.village[h]] / sampled_per_village[homes.village[h]] / SAMPLE_VILLAGE
    head = homes.head[h]
    t = SourceTable("survey", "SUS", person=head, home=h)
    measured = homes.consumption[h] * np.exp(rng.normal(0, MEASUREMENT_ERROR, len(h)))
    t.columns = {
        "KODE_DESA": homes.village_code[h].copy(),
        "KODE_KEC": np.strings.slice(homes.village_code[h], 0, 6),
        "NO_URUT_RUTA": (np.arange(len(h)) + 1).astype(np.int64),
        "NIK_KRT": people.nik[head].copy(),
        "NAMA_KRT": people.name[head].copy(),
        "JML_ART": homes.size[h].copy(),
        "WEIGHT": np.round(weight, 2),
        "KAPITA": (np.round(measured, -2)).astype(np.int64),
    }
    for survey_col, registry_col in PROXY_COLUMNS.items():
        t.columns[survey_col] = household_columns[registry_col][h]
    for survey_col, values in head_columns.items():
        t.columns[survey_col] = values[h]
    t.blank(rng, "NIK_KRT", RATES["nik_missing"], "nik_missing")
    t.corrupt(
        rng,
        "NIK_KRT",
        RATES["nik_typo"],
        cx.digit_typo,
        "nik_typo",
        where=np.strings.str_len(t.columns["NIK_KRT"]) == 16,
    )
    t.corrupt(rng, "NAMA_KRT", RATES["name_typo"], cx.name_typo, "name_typo")
    t.bad_rows(rng, RATES["bad"], nik="NIK_KRT", date=None, region="KODE_DESA")
    t.columns["NO_URUT_RUTA"] = np.asarray(t.columns["NO_URUT_RUTA"])
    return t
