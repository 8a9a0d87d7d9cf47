"""BPJS Kesehatan (JKN health insurance) membership extract.

Columns: NOKA (13-digit card number), NIK, NAMA, TGL_LAHIR (YYYY-MM-DD), JK (L/P), HUB_KELUARGA,
ALAMAT, KD_DESA, SEGMEN (PBI APBN, PBI APBD, PPU, PBPU, BP), KELAS (1/2/3), STATUS (AKTIF/NON AKTIF).
The dead often stay AKTIF for months.
"""

from __future__ import annotations

import numpy as np

from tepat.synth import codes as c
from tepat.synth import corruption as cx
from tepat.synth.dates import iso
from tepat.synth.names import STR
from tepat.synth.people import NO_DATE, Homes, People
from tepat.synth.sources.common import SourceTable, lookup, swap_day_month, upper

# In the order of codes.REL: head, spouse, child, child_in_law, grandchild, parents, others.
HUB = ("PESERTA", "ISTRI", "ANAK", "TAMBAHAN", "TAMBAHAN", "TAMBAHAN", "TAMBAHAN", "TAMBAHAN",
       "TAMBAHAN")  # fmt: skip
RATES = {
    "coverage": 0.88,
    "nik_missing": 0.03,
    "nik_typo": 0.015,
    "name_typo": 0.03,
    "name_variant": 0.03,
    "name_swap": 0.01,
    "birth_date_typo": 0.01,
    "stale_address": 0.06,
    "duplicate": 0.01,
    "bad": 0.002,
}


def build(rng: np.random.Generator, people: People, homes: Homes) -> SourceTable:
    in_region = people.hh >= 0
    idx = np.flatnonzero(in_region & (rng.random(len(people)) < RATES["coverage"])).astype(np.int64)
    hh = people.hh[idx]
    t = SourceTable("bpjs", "BPJS", person=idx, home=hh)
    n = len(idx)
    rank = homes.wealth_rank[hh]
    civil = np.zeros(len(homes.kk), np.bool_)
    civil[people.hh[(people.work == c.CIVIL_SERVANT) & in_region]] = True
    u = rng.random(n)
    segment = np.full(n, "PBPU", dtype=STR)
    segment[(rank < 0.45) & (u < 0.75)] = "PBI APBN"
    segment[(rank >= 0.45) & (rank < 0.6) & (u < 0.2)] = "PBI APBD"
    segment[(rank >= 0.4) & (u > 0.55)] = "PPU"
    segment[civil[hh]] = "PPU"
    kelas = np.where(segment == "PPU", np.where(rank > 0.7, "1", "2"), "3").astype(STR)
    kelas[(segment == "PBPU") & (rank > 0.8)] = "1"
    dead = people.deceased_on[idx] != NO_DATE
    status = np.where(rng.random(n) < 0.04, "NON AKTIF", "AKTIF").astype(STR)
    status[dead & (rng.random(n) < 0.4)] = "NON AKTIF"
    rel = people.relationship[idx]
    hub = lookup(HUB, rel)
    hub[(rel == c.SPOUSE) & ~people.female[idx]] = "SUAMI"
    noka = np.strings.add("000", rng.integers(10**9, 10**10, n).astype(STR))
    t.columns = {
        "NOKA": noka,
        "NIK": people.nik[idx].copy(),
        "NAMA": upper(people.name[idx]),
        "TGL_LAHIR": iso(people.birth[idx]),
        "JK": np.where(people.female[idx], "P", "L").astype(STR),
        "HUB_KELUARGA": hub,
        "ALAMAT": upper(homes.address[hh]),
        "KD_DESA": homes.village_code[hh].copy(),
        "SEGMEN": segment,
        "KELAS": kelas,
        "STATUS": status,
    }
    t.mark(np.flatnonzero(dead).astype(np.int64), "deceased")
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
    t.corrupt(rng, "NAMA", RATES["name_variant"], _upper_variant, "name_variant")
    t.corrupt(rng, "NAMA", RATES["name_swap"], cx.name_swap, "name_swap", where=t.multiword("NAMA"))
    t.corrupt(rng, "TGL_LAHIR", RATES["birth_date_typo"], swap_day_month, "birth_date_typo")
    t.stale_address(
        rng, homes, RATES["stale_address"], {"address": "ALAMAT", "village_code": "KD_DESA"}
    )
    t.columns["ALAMAT"] = upper(t.columns["ALAMAT"])
    # A second membership (a new card number), often registered from another address.
    copies = t.duplicate(rng, RATES["duplicate"], new_ids={"NOKA": 13})
    cx.apply(t.columns["NAMA"], copies[: len(copies) // 2], cx.name_typo, rng)
    t.bad_rows(rng, RATES["bad"], nik="NIK", date="TGL_LAHIR", region="KD_DESA")
    t.shuffle(rng)
    return t


def _upper_variant(name: str, rng: np.random.Generator) -> str:
    return cx.name_variant(name.title(), rng).upper()
