"""A second synthetic household survey, drawn from a different data-generating process.

The survey `tepat synth` writes (sources/survey.py) draws log consumption linear in the same
proxies a PMT sees, so a linear PMT is the true model there. A benchmark on that survey alone
flatters OLS. This survey is built so that it does not:

* consumption depends on the proxies non-linearly: thresholds (floor area under 8 m2 per person,
  earth or bamboo floors, electricity of 1,300 VA and more), interactions (household size x
  floor area, car x urban, education x urban, farming x rural), a concave age profile and an
  inverted-U in livestock;
* urban and rural households follow different models (household size costs more in rural
  areas) and the urban flag is in the survey but not in the registry (a PMT cannot use it);
* strong area effects: regency, district and village random effects (sd 0.15, 0.20, 0.18 on
  log consumption), which also shift the proxies;
* heteroskedastic noise (larger in urban areas and for richer households) plus measurement error;
* other column names and category codes than the registry's (BPS-style numeric codes, `1`/`2`
  for sex, `ya`/`tidak` for assets), some missing values (blank, `-`), so the spec must map
  every proxy with a recode.

Outputs (all deterministic by seed):

* the survey CSV (one row per sampled household, two-stage sample: villages, then households);
* the truth CSV, row by row: the urban flag, the three area effects, the systematic part of log
  consumption, the noise sd, true (error-free) per-capita consumption and whether the household
  is truly under the poverty line;
* the calibration spec (TOML) that maps the survey onto the registry's feature names.

    python -m tepat.synth.survey_dgp2 --out DIR [--households 6000] [--seed 1]
    tepat synth ... --survey2 6000      # also writes OUT/sources/survey2.csv, .toml and
                                        # OUT/truth/survey2.csv

POVERTY_LINE is fixed; consumption is shifted so that POOR_SHARE of the weighted households
fall under it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.synth.writer import write_csv

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

DEFAULT_HOUSEHOLDS = 6000
POVERTY_LINE = 550_000  # rupiah per capita per month
POOR_SHARE = 0.30  # weighted share of households under the line
PER_VILLAGE = 16  # households interviewed per sampled village
MEASUREMENT_ERROR = 0.10  # sd of log consumption error
SYSTEMATIC_SCALE = 0.55  # scales the proxies' part so that a linear PMT explains about half
EFFECT_SD = {"regency": 0.15, "district": 0.20, "village": 0.18}
MISSING = {"floor_area": 0.03, "head_age": 0.015, "va": 0.02, "assets": 0.01}

# Survey codes -> registry labels, poorest first (the spec's recodes are written from these).
FLOOR = (("6", "earth"), ("5", "bamboo"), ("4", "wood"), ("3", "cement"), ("2", "tile"), ("1", "ceramic"))  # fmt: skip
WALL = (("5", "other"), ("4", "bamboo"), ("3", "wood"), ("2", "plaster_bamboo"), ("1", "brick"))
ROOF = (("6", "thatch"), ("5", "wood"), ("4", "asbestos"), ("3", "zinc"), ("2", "roof_tile"), ("1", "concrete"))  # fmt: skip
WATER = (("E", "surface"), ("D", "unprotected"), ("C", "protected_well"), ("B", "piped"), ("A", "bottled"))  # fmt: skip
TOILET = (("4", "none"), ("3", "public"), ("2", "shared"), ("1", "private"))
ELECTRICITY = (("4", "none"), ("3", "non_pln"), ("2", "pln_no_meter"), ("1", "pln_meter"))
FUEL = (("1", "wood"), ("2", "kerosene"), ("0", "none"), ("3", "lpg_3kg"), ("4", "lpg_large"), ("5", "electric"))  # fmt: skip
EDUCATION = (("0", "none"), ("1", "sd"), ("2", "smp"), ("3", "sma"), ("4", "diploma"), ("5", "university"))  # fmt: skip
WORK = (
    ("1", "agriculture"), ("2", "fishery"), ("3", "manufacturing"), ("4", "construction"),
    ("5", "trade"), ("6", "transport"), ("7", "services"), ("8", "civil_servant"),
    ("9", "other"), ("0", "not_working"),
)  # fmt: skip
SEX = (("1", "M"), ("2", "F"))
VA = (450, 900, 1300, 2200, 3500, 4400)

# Shares (poorest first) of the ordered categories, rural / urban.
SHARES = {
    "floor": ((0.10, 0.04, 0.10, 0.30, 0.14, 0.32), (0.02, 0.01, 0.03, 0.16, 0.12, 0.66)),
    "wall": ((0.03, 0.12, 0.12, 0.08, 0.65), (0.01, 0.02, 0.04, 0.03, 0.90)),
    "roof": ((0.04, 0.04, 0.14, 0.28, 0.46, 0.04), (0.00, 0.01, 0.12, 0.14, 0.60, 0.13)),
    "water": ((0.06, 0.16, 0.50, 0.10, 0.18), (0.01, 0.03, 0.21, 0.25, 0.50)),
    "toilet": ((0.10, 0.06, 0.14, 0.70), (0.02, 0.03, 0.06, 0.89)),
    "electricity": ((0.02, 0.03, 0.10, 0.85), (0.00, 0.00, 0.03, 0.97)),
    "fuel": ((0.22, 0.02, 0.01, 0.68, 0.05, 0.02), (0.02, 0.01, 0.02, 0.78, 0.13, 0.04)),
    "education": ((0.12, 0.40, 0.20, 0.20, 0.03, 0.05), (0.04, 0.22, 0.20, 0.36, 0.06, 0.12)),
    "va": ((0.42, 0.38, 0.13, 0.05, 0.015, 0.005), (0.18, 0.40, 0.24, 0.12, 0.04, 0.02)),
}

SURVEY_COLUMNS = (
    "id_rt", "kode_kab", "kode_kec", "kode_desa", "wilayah", "bobot", "art", "pengeluaran_kap",
    "lantai", "dinding", "atap", "luas_lantai", "sumber_air", "fasilitas_bab", "penerangan",
    "daya_listrik", "bahan_bakar", "punya_motor", "punya_kulkas", "punya_mobil", "punya_lahan",
    "luas_lahan", "jml_ternak", "umur_krt", "jk_krt", "pendidikan_krt", "lapangan_usaha_krt",
    "jml_balita", "jml_lansia", "jml_bekerja", "jml_sekolah",
)  # fmt: skip
TRUTH_COLUMNS = (
    "row", "id_rt", "kode_desa", "urban", "effect_regency", "effect_district", "effect_village",
    "systematic", "noise_sd", "log_consumption_true", "consumption_true", "poor_true",
)  # fmt: skip


@dataclass
class Survey2:
    """The survey and its truth, column by column (strings as the CSV holds them)."""

    columns: dict[str, npt.NDArray[Any]]
    truth: dict[str, npt.NDArray[Any]]
    poverty_line: int


def _recode(levels: Sequence[tuple[str, str]]) -> str:
    return "{ " + ", ".join(f'"{code}" = "{label}"' for code, label in levels) + " }"


SPEC_TOML = f"""# Calibration spec for the second synthetic survey (tepat.synth.survey_dgp2): other column
# names and category codes than the registry's, mapped onto the registry's feature names with
# recodes. The urban/rural flag (`wilayah`) is in the survey but not in the registry, so it is
# left out: a PMT scoring the registry cannot use it.

[survey]
consumption = "pengeluaran_kap"   # monthly per-capita consumption, rupiah
weight = "bobot"
area = "kode_kec"                 # district (kecamatan), 6 digits of the village code
area_level = 6
cv_group = "kode_desa"            # folds grouped by village
quota_area = "kode_kec"           # quotas within each district
household_size = "art"

[target]
poverty_line = {POVERTY_LINE}
quota = 0.3
quota_scope = "area"

[model]
methods = ["ols", "quantile", "enet", "gbm", "ensemble"]
select = "auto"
area_effects = "random"
folds = 5
seed = 20261128

[features]
missing_indicators = true
squares = ["head_age"]
interactions = [["household_size", "floor_area_m2"]]

[proxies]
floor_material = {{ column = "lantai", kind = "categorical", recode = {_recode(FLOOR)} }}
wall_material = {{ column = "dinding", kind = "categorical", recode = {_recode(WALL)} }}
roof_material = {{ column = "atap", kind = "categorical", recode = {_recode(ROOF)} }}
floor_area_m2 = {{ column = "luas_lantai", kind = "numeric", log = true, missing = ["-"] }}
drinking_water = {{ column = "sumber_air", kind = "categorical", recode = {_recode(WATER)} }}
toilet = {{ column = "fasilitas_bab", kind = "categorical", recode = {_recode(TOILET)} }}
electricity = {{ column = "penerangan", kind = "categorical", recode = {_recode(ELECTRICITY)} }}
electricity_va = {{ column = "daya_listrik", kind = "numeric", log = true }}
cooking_fuel = {{ column = "bahan_bakar", kind = "categorical", recode = {_recode(FUEL)} }}
owns_motorcycle = {{ column = "punya_motor", kind = "numeric", recode = {{ ya = 1, tidak = 0 }} }}
owns_refrigerator = {{ column = "punya_kulkas", kind = "numeric", recode = {{ ya = 1, tidak = 0 }} }}
owns_car = {{ column = "punya_mobil", kind = "numeric", recode = {{ ya = 1, tidak = 0 }} }}
owns_land = {{ column = "punya_lahan", kind = "numeric", recode = {{ ya = 1, tidak = 0 }} }}
land_area_m2 = {{ column = "luas_lahan", kind = "numeric", log = true }}
livestock_count = {{ column = "jml_ternak", kind = "numeric", log = true }}
household_size = {{ column = "art", kind = "numeric", log = true }}
head_age = {{ column = "umur_krt", kind = "numeric" }}
head_sex = {{ column = "jk_krt", kind = "categorical", recode = {_recode(SEX)} }}
head_education = {{ column = "pendidikan_krt", kind = "categorical", recode = {_recode(EDUCATION)} }}
head_work_sector = {{ column = "lapangan_usaha_krt", kind = "categorical", recode = {_recode(WORK)} }}
n_under5 = {{ column = "jml_balita", kind = "numeric" }}
n_elderly = {{ column = "jml_lansia", kind = "numeric" }}
n_working = {{ column = "jml_bekerja", kind = "numeric" }}
children_in_school = {{ column = "jml_sekolah", kind = "numeric" }}
"""


def _ordered(rng: np.random.Generator, w: F64, urban: B, key: str, rho: float) -> I64:
    """An ordered category index (0 = poorest) correlated `rho` with `w`, with the rural or
    urban shares of SHARES[key]."""
    z = rho * w + np.sqrt(1 - rho**2) * rng.normal(0, 1, len(w))
    out = np.zeros(len(w), np.int64)
    for is_urban, shares in zip((False, True), SHARES[key], strict=True):
        m = urban == is_urban
        if m.any():
            p = np.asarray(shares, dtype=np.float64)
            cuts = np.quantile(z[m], np.cumsum(p / p.sum())[:-1])
            out[m] = np.searchsorted(cuts, z[m])
    return out


def _sigmoid(x: F64) -> F64:
    return 1.0 / (1.0 + np.exp(-x))


def _codes(levels: Sequence[tuple[str, str]], index: I64) -> npt.NDArray[np.str_]:
    return np.array([code for code, _ in levels])[index]


def _with_missing(
    rng: np.random.Generator, values: npt.NDArray[Any], rate: float, tokens: Sequence[str] = ("",)
) -> npt.NDArray[np.str_]:
    """Values as strings, a `rate` share replaced by one of `tokens` (blank, "-")."""
    out = values.astype(str).astype(object)
    gone = rng.random(len(out)) < rate
    out[gone] = np.array(tokens, dtype=object)[rng.integers(0, len(tokens), int(gone.sum()))]
    return out.astype(str)


def _yes_no(rng: np.random.Generator, has: B) -> npt.NDArray[np.str_]:
    return _with_missing(rng, np.where(has, "ya", "tidak"), MISSING["assets"])


def _frame(rng: np.random.Generator) -> dict[str, Any]:
    """Regencies, districts and villages: codes, urban flags, sizes and area effects."""
    village_code: list[str] = []
    district_of: list[int] = []
    regency_of: list[int] = []
    district_codes: list[str] = []
    urban_share = (0.85, 0.20, 0.12, 0.30)  # the first regency is a city (kota)
    for r, kab in enumerate(("5201", "5202", "5203", "5271")):
        for d in range(int(rng.integers(7, 12))):
            kec = f"{kab}{d + 1:02d}"
            district_codes.append(kec)
            for v in range(int(rng.integers(10, 21))):
                village_code.append(f"{kec}{2001 + v:04d}")
                district_of.append(len(district_codes) - 1)
                regency_of.append(r)
    nv = len(village_code)
    regency = np.asarray(regency_of, dtype=np.int64)
    district = np.asarray(district_of, dtype=np.int64)
    urban = rng.random(nv) < np.asarray(urban_share)[regency]
    e_reg = rng.normal(0, EFFECT_SD["regency"], 4)
    e_dis = rng.normal(0, EFFECT_SD["district"], len(district_codes))
    e_vil = rng.normal(0, EFFECT_SD["village"], nv)
    return {
        "village_code": np.asarray(village_code),
        "district_code": np.asarray(district_codes)[district],
        "regency_code": np.asarray(("5201", "5202", "5203", "5271"))[regency],
        "urban": urban,
        "size": np.round(np.exp(rng.normal(np.log(700), 0.5, nv)) * np.where(urban, 1.6, 1.0)),
        "effect_regency": e_reg[regency],
        "effect_district": e_dis[district],
        "effect_village": e_vil,
    }


def generate(households: int = DEFAULT_HOUSEHOLDS, seed: int = 1) -> Survey2:
    """Draw the survey and its truth; the same (households, seed) gives the same arrays."""
    if households < 10:
        raise ValueError("households must be at least 10")
    streams = [np.random.default_rng([seed, 19, k]) for k in range(8)]
    fr = _frame(streams[0])
    nv = len(fr["village_code"])

    # Two-stage sample: villages uniformly, then PER_VILLAGE households each.
    rng = streams[1]
    n_villages = int(min(nv, max(1, round(households / PER_VILLAGE))))
    chosen = np.sort(rng.choice(nv, n_villages, replace=False))
    per = np.full(n_villages, households // n_villages)
    per[: households % n_villages] += 1
    v = np.repeat(chosen, per)
    n = len(v)
    weight = fr["size"][v] / per[np.searchsorted(chosen, v)] * nv / n_villages
    urban = fr["urban"][v]
    area_effect = fr["effect_regency"][v] + fr["effect_district"][v] + fr["effect_village"][v]

    # Latent wealth: the area effect (rescaled), the urban premium and the household's own.
    rng = streams[2]
    w = 2.5 * area_effect + 0.45 * urban + rng.normal(0, 1, n)
    w = (w - w.mean()) / (w.std() or 1.0)

    # Demographics.
    rng = streams[3]
    size = np.clip(1 + rng.poisson(np.where(urban, 2.5, 3.1) - 0.25 * w), 1, 12).astype(np.int64)
    age = np.clip(np.round(rng.normal(46, 13, n)), 20, 88).astype(np.int64)
    female = rng.random(n) < _sigmoid(-2.2 + 0.04 * (age - 46) - 1.0 * (size >= 3))
    under5 = np.minimum(rng.binomial(2, np.where(age < 45, 0.30, 0.08)), size - 1)
    elderly = np.minimum(rng.binomial(2, 0.10) + (age >= 60), size)
    workers = np.minimum(np.maximum(1 - (age >= 68), 0) + rng.binomial(size - 1, 0.25), size)
    school = np.minimum(rng.binomial(size - 1, 0.30), np.maximum(size - 1 - under5, 0))
    edu = _ordered(rng, w - 0.02 * (age - 46), urban, "education", 0.6)
    work = np.where(
        urban,
        rng.choice(10, n, p=[0.05, 0.02, 0.12, 0.10, 0.25, 0.08, 0.22, 0.06, 0.05, 0.05]),
        rng.choice(10, n, p=[0.45, 0.06, 0.05, 0.08, 0.12, 0.04, 0.08, 0.03, 0.04, 0.05]),
    )
    work = np.where((age >= 68) & (rng.random(n) < 0.6), 9, work)  # "0" = not working
    work = np.where((edu >= 4) & (rng.random(n) < 0.25), 7, work)  # civil servants
    work = np.where((work == 0) & (w > 1.0) & (rng.random(n) < 0.5), 4, work)

    # Housing and assets, all driven by wealth (and by the urban flag).
    rng = streams[4]
    floor = _ordered(rng, w, urban, "floor", 0.7)
    wall = _ordered(rng, w, urban, "wall", 0.55)
    roof = _ordered(rng, w, urban, "roof", 0.5)
    water = _ordered(rng, w, urban, "water", 0.5)
    toilet = _ordered(rng, w, urban, "toilet", 0.55)
    electricity = _ordered(rng, w, urban, "electricity", 0.5)
    fuel = _ordered(rng, w, urban, "fuel", 0.55)
    metered = electricity == len(ELECTRICITY) - 1
    va = np.where(metered, np.asarray(VA)[_ordered(rng, w, urban, "va", 0.7)], 0)
    area_m2 = np.exp(
        np.log(34) + 0.35 * w + 0.30 * np.log(size) - 0.2 * urban + rng.normal(0, 0.35, n)
    )
    area_m2 = np.clip(np.round(area_m2), 9, 600).astype(np.int64)
    motor = rng.random(n) < _sigmoid(1.0 + 1.0 * w)
    fridge = metered & (rng.random(n) < _sigmoid(0.2 + 1.3 * w))
    car = rng.random(n) < _sigmoid(-3.0 + 1.4 * w + 0.5 * urban)
    land = rng.random(n) < np.where(urban, _sigmoid(-1.8 + 0.5 * w), _sigmoid(0.4 + 0.3 * w))
    land_area = np.where(land, np.round(np.exp(np.log(1200) + 0.5 * w + rng.normal(0, 1, n))), 0)
    livestock = np.where(~urban & (rng.random(n) < 0.45), rng.poisson(np.exp(0.9 + 0.2 * w)), 0)

    # Log consumption: non-linear in the proxies, different in urban and rural areas.
    per_person = area_m2 / size
    ls = np.log(size)
    systematic = SYSTEMATIC_SCALE * (
        0.25 * urban
        + 0.28 * np.log(per_person)
        - 0.20 * (per_person < 8)  # the BPS crowding criterion: a threshold
        - 0.15 * ((size >= 6) & (area_m2 < 36))  # large households in small houses
        - np.where(urban, 0.22, 0.42) * ls  # household size costs more in rural areas
        + np.array([-0.30, -0.25, -0.08, 0.0, 0.05, 0.12])[floor]
        - 0.10 * (wall < len(WALL) - 1)
        - 0.15 * (roof <= 1)
        + np.where(urban, 0.12, 0.0) * (water == len(WATER) - 1)
        - 0.12 * (water <= 1)
        - 0.15 * (toilet == 0)
        - 0.20 * (electricity <= 1)
        + 0.18 * (va >= 1300) + 0.12 * (va >= 2200) + 0.10 * (va >= 3500)
        - np.where(urban, 0.25, 0.12) * (fuel == 0)
        + 0.12 * (fuel >= 4)
        + 0.10 * motor + 0.18 * fridge
        + np.where(urban, 0.45, 0.25) * car
        + np.where(urban, 0.0, 0.10 * land + 0.06 * np.log1p(land_area / 1000))
        + 0.08 * np.minimum(livestock, 4) - 0.03 * np.maximum(livestock - 4, 0)
        + np.array([-0.12, 0.0, 0.06, 0.16, 0.32, 0.50])[edu] * np.where(urban, 1.3, 1.0)
        - 0.12 * (~urban & (work == 0))
        + 0.22 * (work == 7) - 0.18 * (work == 9) + 0.08 * (urban & (work == 4))
        - 0.00012 * (age - 45) ** 2
        - 0.35 * (under5 + elderly) / size
        + 0.25 * workers / size
        - 0.06 * (female & ~urban)
    )  # fmt: skip
    rng = streams[5]
    noise_sd = 0.30 + 0.15 * urban + 0.08 * np.maximum(w, 0)
    log_c = systematic + area_effect + rng.normal(0, 1, n) * noise_sd
    # Shift so that POOR_SHARE of the weighted households are under the line.
    order = np.argsort(log_c, kind="stable")
    cum = np.cumsum(weight[order])
    at = int(np.searchsorted(cum, POOR_SHARE * cum[-1]))
    log_c = log_c + np.log(POVERTY_LINE) - log_c[order][min(at, n - 1)] + 1e-9
    true_c = np.exp(log_c)
    measured = np.round(true_c * np.exp(rng.normal(0, MEASUREMENT_ERROR, n)), -2).astype(np.int64)

    rng = streams[6]
    cols: dict[str, npt.NDArray[Any]] = {
        "id_rt": np.array([f"R{i + 1:06d}" for i in range(n)]),
        "kode_kab": fr["regency_code"][v],
        "kode_kec": fr["district_code"][v],
        "kode_desa": fr["village_code"][v],
        "wilayah": np.where(urban, "1", "2"),
        "bobot": np.round(weight, 2),
        "art": size,
        "pengeluaran_kap": measured,
        "lantai": _codes(FLOOR, floor),
        "dinding": _codes(WALL, wall),
        "atap": _codes(ROOF, roof),
        "luas_lantai": _with_missing(rng, area_m2, MISSING["floor_area"], ("", "-")),
        "sumber_air": _codes(WATER, water),
        "fasilitas_bab": _codes(TOILET, toilet),
        "penerangan": _codes(ELECTRICITY, electricity),
        "daya_listrik": _with_missing(rng, va, MISSING["va"]),
        "bahan_bakar": _codes(FUEL, fuel),
        "punya_motor": _yes_no(rng, motor),
        "punya_kulkas": _yes_no(rng, fridge),
        "punya_mobil": _yes_no(rng, car),
        "punya_lahan": _yes_no(rng, land),
        "luas_lahan": land_area.astype(np.int64),
        "jml_ternak": livestock.astype(np.int64),
        "umur_krt": _with_missing(rng, age, MISSING["head_age"]),
        "jk_krt": np.where(female, "2", "1"),
        "pendidikan_krt": _codes(EDUCATION, edu),
        "lapangan_usaha_krt": _codes(WORK, work),
        "jml_balita": under5.astype(np.int64),
        "jml_lansia": elderly.astype(np.int64),
        "jml_bekerja": workers.astype(np.int64),
        "jml_sekolah": school.astype(np.int64),
    }
    truth: dict[str, npt.NDArray[Any]] = {
        "row": np.arange(1, n + 1, dtype=np.int64),
        "id_rt": cols["id_rt"],
        "kode_desa": cols["kode_desa"],
        "urban": urban.astype(np.int8),
        "effect_regency": np.round(fr["effect_regency"][v], 6),
        "effect_district": np.round(fr["effect_district"][v], 6),
        "effect_village": np.round(fr["effect_village"][v], 6),
        "systematic": np.round(systematic, 6),
        "noise_sd": np.round(noise_sd, 6),
        "log_consumption_true": np.round(log_c, 6),
        "consumption_true": np.round(true_c).astype(np.int64),
        "poor_true": (true_c <= POVERTY_LINE).astype(np.int8),
    }
    assert tuple(cols) == SURVEY_COLUMNS
    assert tuple(truth) == TRUTH_COLUMNS
    return Survey2(columns=cols, truth=truth, poverty_line=POVERTY_LINE)


def write(
    survey_path: Path, truth_path: Path, spec_path: Path, *, households: int, seed: int
) -> Survey2:
    """Write the survey CSV, the truth CSV and the spec TOML; returns what was written."""
    s = generate(households, seed)
    write_csv(survey_path, s.columns)
    write_csv(truth_path, s.truth)
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(SPEC_TOML, encoding="utf-8")
    return s


def write_into_synth(out_dir: Path, *, households: int, seed: int) -> Survey2:
    """The `tepat synth --survey2 N` layout: OUT/sources/survey2.csv, OUT/sources/survey2.toml,
    OUT/truth/survey2.csv."""
    return write(
        out_dir / "sources" / "survey2.csv",
        out_dir / "truth" / "survey2.csv",
        out_dir / "sources" / "survey2.toml",
        households=households,
        seed=seed,
    )


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--households", type=int, default=DEFAULT_HOUSEHOLDS)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    s = write(
        args.out / "survey.csv",
        args.out / "truth.csv",
        args.out / "spec.toml",
        households=args.households,
        seed=args.seed,
    )
    poor = float(np.average(s.truth["poor_true"], weights=s.columns["bobot"]))
    print(f"{len(s.truth['row'])} households, weighted poor share {poor:.3f} -> {args.out}")


if __name__ == "__main__":
    main()
