"""Dukcapil (civil registry) extract: everyone with a NIK in the region, including the dead.

Columns: NIK, NO_KK, NAMA_LGKP, JENIS_KLMIN (LAKI-LAKI/PEREMPUAN), TMPT_LHR, TGL_LHR (DD-MM-YYYY),
STAT_HBKEL, STATUS_KAWIN, PDDK_AKH, JENIS_PKRJN, ALAMAT, NO_RT, NO_RW, KODE_DESA, TGL_MATI.
"""

from __future__ import annotations

import numpy as np

from tepat.synth import codes as c
from tepat.synth import corruption as cx
from tepat.synth.dates import dmy
from tepat.synth.names import STR
from tepat.synth.people import NO_DATE, Homes, People
from tepat.synth.sources.common import SourceTable, lookup, swap_day_month, upper

# Labels in the order of the registry's choices (codes.REL, MARITAL, EDUCATION, WORK).
STAT_HBKEL = ("KEPALA KELUARGA", "ISTRI", "ANAK", "MENANTU", "CUCU", "ORANG TUA", "MERTUA",
              "FAMILI LAIN", "LAINNYA")  # fmt: skip
STATUS_KAWIN = ("BELUM KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI")
PDDK_AKH = ("TIDAK/BELUM SEKOLAH", "TAMAT SD/SEDERAJAT", "SLTP/SEDERAJAT", "SLTA/SEDERAJAT",
            "DIPLOMA III", "DIPLOMA IV/STRATA I")  # fmt: skip
JENIS_PKRJN = ("BELUM/TIDAK BEKERJA", "PETANI/PEKEBUN", "NELAYAN/PERIKANAN", "KARYAWAN SWASTA",
               "BURUH HARIAN LEPAS", "WIRASWASTA", "SOPIR", "KARYAWAN SWASTA",
               "PEGAWAI NEGERI SIPIL", "LAINNYA")  # fmt: skip

RATES = {
    "missing": 0.005,
    "name_typo": 0.015,
    "name_variant": 0.015,
    "name_swap": 0.005,
    "nik_typo": 0.003,
    "birth_date_typo": 0.004,
    "stale_address": 0.03,
    "duplicate": 0.003,
    "bad": 0.001,
}


def build(rng: np.random.Generator, people: People, homes: Homes) -> SourceTable:
    in_region = people.hh >= 0
    keep = in_region & (rng.random(len(people)) >= RATES["missing"])
    idx = np.flatnonzero(keep).astype(np.int64)
    hh = people.hh[idx]
    t = SourceTable("dukcapil", "DKC", person=idx, home=hh)
    rel = people.relationship[idx]
    stat = lookup(STAT_HBKEL, rel)
    stat[(rel == c.SPOUSE) & ~people.female[idx]] = "SUAMI"
    work = lookup(JENIS_PKRJN, people.work[idx])
    work[people.school[idx] != c.SCHOOL_NONE] = "PELAJAR/MAHASISWA"
    died = people.deceased_on[idx]
    t.columns = {
        "NIK": people.nik[idx].copy(),
        "NO_KK": people.kk[idx].copy(),
        "NAMA_LGKP": upper(people.name[idx]),
        "JENIS_KLMIN": np.where(people.female[idx], "PEREMPUAN", "LAKI-LAKI").astype(STR),
        "TMPT_LHR": upper(people.birth_place[idx]),
        "TGL_LHR": dmy(people.birth[idx]),
        "STAT_HBKEL": stat,
        "STATUS_KAWIN": lookup(STATUS_KAWIN, people.marital[idx]),
        "PDDK_AKH": lookup(PDDK_AKH, people.education[idx]),
        "JENIS_PKRJN": work,
        "ALAMAT": upper(homes.address[hh]),
        "NO_RT": homes.rt[hh].copy(),
        "NO_RW": homes.rw[hh].copy(),
        "KODE_DESA": homes.village_code[hh].copy(),
        "TGL_MATI": np.where(died != NO_DATE, dmy(np.where(died == NO_DATE, 0, died)), "").astype(
            STR
        ),
    }
    t.mark(np.flatnonzero(died != NO_DATE).astype(np.int64), "deceased")
    t.mark(np.flatnonzero((died != NO_DATE) & people.in_registry[idx]).astype(np.int64),
           "death_not_propagated")  # fmt: skip
    t.corrupt(rng, "NAMA_LGKP", RATES["name_typo"], cx.name_typo, "name_typo")
    t.corrupt(rng, "NAMA_LGKP", RATES["name_variant"], _upper_variant, "name_variant")
    t.corrupt(
        rng,
        "NAMA_LGKP",
        RATES["name_swap"],
        cx.name_swap,
        "name_swap",
        where=t.multiword("NAMA_LGKP"),
    )
    t.corrupt(rng, "NIK", RATES["nik_typo"], cx.digit_typo, "nik_typo")

    t.corrupt(rng, "TGL_LHR", RATES["birth_date_typo"], swap_day_month, "birth_date_typo")
    t.stale_address(rng, homes, RATES["stale_address"], {
        "address": "ALAMAT", "rt": "NO_RT", "rw": "NO_RW", "village_code": "KODE_DESA"})  # fmt: skip
    t.columns["ALAMAT"] = upper(t.columns["ALAMAT"])
    # Double entries, some keyed in again with a slip in the name.
    copies = t.duplicate(rng, RATES["duplicate"])
    cx.apply(t.columns["NAMA_LGKP"], copies[: len(copies) // 3], cx.name_typo, rng)
    t.bad_rows(rng, RATES["bad"], nik="NIK", date="TGL_LHR", region="KODE_DESA")
    t.shuffle(rng)
    return t


def _upper_variant(name: str, rng: np.random.Generator) -> str:
    return cx.name_variant(name.title(), rng).upper()
