"""Payroll of civil servants (ASN), soldiers (TNI) and police (Polri) paid in the region.

Columns: NIP (18 digits: birth YYYYMMDD, appointment YYYYMM, sex 1/2, serial), NIK, NAMA
(upper case, with academic and pilgrimage titles), TGL_LAHIR (DD/MM/YYYY), JENIS_KELAMIN
(PRIA/WANITA), JENIS_PEGAWAI (PNS/PPPK/TNI/POLRI), INSTANSI, GOLONGAN, GAJI_POKOK, ALAMAT.
Some employees live outside the region: they are real people but not in the registry.
"""

from __future__ import annotations

import numpy as np

from tepat.synth import codes as c
from tepat.synth import corruption as cx
from tepat.synth.dates import day_month_year, dmy
from tepat.synth.names import STR, StrArray
from tepat.synth.people import Homes, People
from tepat.synth.sources.common import SourceTable, swap_day_month, upper

RATES = {
    "coverage": 0.92,
    "nik_missing": 0.02,
    "nik_typo": 0.01,
    "name_typo": 0.02,
    "name_swap": 0.005,
    "birth_date_typo": 0.005,
    "duplicate": 0.005,
    "bad": 0.003,
}
_BACHELOR = (", S.PD.", ", S.E.", ", S.H.", ", S.KOM.", ", S.SOS.", ", S.T.", ", S.IP", ", S.AG.")
_MASTER = (", M.SI.", ", M.PD.", ", M.M.", ", M.H.")
_KIND = np.array(["PNS", "PNS", "PNS", "PNS", "PPPK", "TNI", "POLRI"], dtype=STR)
_GOLONGAN = np.array(
    ["II/a", "II/c", "III/a", "III/b", "III/c", "III/d", "IV/a", "IV/b"], dtype=STR
)
_SALARY = np.array(
    [2_184_000, 2_375_000, 2_785_000, 2_903_000, 3_026_000, 3_154_000, 3_287_000, 3_426_000]
)


def build(
    rng: np.random.Generator, people: People, homes: Homes, region_name: str, region_level: str
) -> SourceTable:
    asn = people.work == c.CIVIL_SERVANT
    local = asn & (people.hh >= 0) & people.alive & (rng.random(len(people)) < RATES["coverage"])
    idx = np.flatnonzero(local | (asn & (people.hh < 0))).astype(np.int64)
    n = len(idx)
    t = SourceTable("asn_payroll", "ASN", person=idx, home=people.hh[idx])
    birth = people.birth[idx]
    female = people.female[idx]
    d, m, y = day_month_year(birth)
    start_year = np.minimum(y + rng.integers(22, 32, n), 2025)
    nip = (
        y * 10**14 + m * 10**12 + d * 10**10 + start_year * 10**6
        + rng.integers(1, 13, n) * 10**4 + (1 + female) * 1000 + rng.integers(1, 999, n)
    )  # fmt: skip
    kind = _KIND[rng.integers(0, len(_KIND), n)]
    grade = np.clip((people.education[idx] - c.EDU_SMA) * 2 + rng.integers(0, 4, n), 0, 7)
    government = region_name.upper()
    if region_level == "province":
        government = f"PROVINSI {government}"
    instansi = np.full(n, f"PEMERINTAH {government}", dtype=STR)
    instansi[kind == "TNI"] = "TNI ANGKATAN DARAT"
    instansi[kind == "POLRI"] = "KEPOLISIAN NEGARA RI"
    instansi[(kind == "PNS") & (rng.random(n) < 0.25)] = "KEMENTERIAN AGAMA"
    hh = people.hh[idx]
    address = np.where(hh >= 0, homes.address[np.maximum(hh, 0)], "").astype(STR)
    t.columns = {
        "NIP": nip.astype(STR),
        "NIK": people.nik[idx].copy(),
        "NAMA": _with_titles(rng, upper(people.name[idx]), people.education[idx], y, female),
        "TGL_LAHIR": dmy(birth, "/"),
        "JENIS_KELAMIN": np.where(female, "WANITA", "PRIA").astype(STR),
        "JENIS_PEGAWAI": kind,
        "INSTANSI": instansi,
        "GOLONGAN": _GOLONGAN[grade],
        "GAJI_POKOK": _SALARY[grade],
        "ALAMAT": upper(address),
    }
    t.mark(np.flatnonzero(people.hh[idx] < 0).astype(np.int64), "lives_outside_region")
    t.mark(
        np.flatnonzero(np.strings.find(t.columns["NAMA"], ",") >= 0).astype(np.int64), "name_titles"
    )
    t.blank(rng, "NIK", RATES["nik_missing"], "nik_missing")
    t.corrupt(
        rng,
        "NIK",
        RATES["nik_typo"],
        cx.digit_typo,
        "nik_typo",
        where=np.strings.str_len(t.columns["NIK"]) == 16,
    )
    t.corrupt(rng, "NAMA", RATES["name_typo"], cx.name_typo, "name_typo")
    t.corrupt(
        rng,
        "NAMA",
        RATES["name_swap"],
        cx.name_swap,
        "name_swap",
        where=(np.strings.find(t.columns["NAMA"], ",") < 0) & t.multiword("NAMA"),
    )
    t.corrupt(rng, "TGL_LAHIR", RATES["birth_date_typo"], swap_day_month, "birth_date_typo")
    t.duplicate(rng, RATES["duplicate"])
    t.bad_rows(rng, RATES["bad"], nik="NIK", date="TGL_LAHIR", region=None)
    t.shuffle(rng)
    return t


def _with_titles(
    rng: np.random.Generator,
    names: StrArray,
    edu: np.ndarray,
    birth_year: np.ndarray,
    female: np.ndarray,
) -> StrArray:
    n = len(names)
    out = names.copy()
    bachelor = edu >= c.EDU_UNIVERSITY
    out[bachelor] = np.strings.add(
        out[bachelor],
        np.array(_BACHELOR, dtype=STR)[rng.integers(0, len(_BACHELOR), int(bachelor.sum()))],
    )
    master = bachelor & (rng.random(n) < 0.2)
    out[master] = np.strings.add(
        out[master], np.array(_MASTER, dtype=STR)[rng.integers(0, len(_MASTER), int(master.sum()))]
    )
    diploma = edu == c.EDU_DIPLOMA
    out[diploma] = np.strings.add(out[diploma], ", A.MD.")
    haji = (birth_year < 1985) & (rng.random(n) < 0.12)
    out[haji] = np.strings.add(np.where(female[haji], "HJ. ", "H. ").astype(STR), out[haji])
    return out
