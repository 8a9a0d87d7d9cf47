"""PLN (electricity) household customers, linked loosely to registry households.

Columns: IDPEL (12-digit customer id), NAMA_PELANGGAN (upper case, often abbreviated), NIK (often
blank), ALAMAT, KODE_DESA, TARIF (R1/450 ...), DAYA (VA), KWH_BULANAN (average monthly kWh).
The customer is usually the household head, sometimes the spouse, another person in the region
(a landlord) or someone unknown (the house's earlier owner): those rows map to no person.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from tepat.synth import corruption as cx
from tepat.synth.names import STR, person_names
from tepat.synth.people import Homes, People
from tepat.synth.sources.common import SourceTable, upper

RATES = {
    "spouse": 0.10,
    "other_person": 0.06,
    "unknown": 0.08,
    "nik_present": 0.55,
    "nik_typo": 0.01,
    "name_abbreviated": 0.15,
    "name_typo": 0.03,
    "stale_address": 0.08,
    "duplicate": 0.003,
    "bad": 0.002,
}
_KWH_PER_VA = {450: 75, 900: 130, 1300: 190, 2200: 320, 3500: 480, 4400: 600, 5500: 750, 6600: 900}


def build(
    rng: np.random.Generator,
    people: People,
    homes: Homes,
    household_columns: Mapping[str, npt.NDArray[np.generic]],
    spouse_of_home: npt.NDArray[np.int64],
) -> SourceTable:
    va_all = np.asarray(household_columns["electricity_va"], np.int64)
    h = np.flatnonzero(va_all > 0).astype(np.int64)
    n = len(h)
    person = homes.head[h].copy()
    u = rng.random(n)
    kinds = np.full(n, "", dtype=STR)
    to_spouse = (u < RATES["spouse"]) & (spouse_of_home[h] >= 0)
    person[to_spouse] = spouse_of_home[h][to_spouse]
    kinds[to_spouse] = "customer_is_spouse"
    other = (u >= RATES["spouse"]) & (u < RATES["spouse"] + RATES["other_person"])
    registry = np.flatnonzero(people.in_registry)
    person[other] = registry[rng.integers(0, len(registry), int(other.sum()))]
    kinds[other] = "customer_other_person"
    unknown = u >= 1 - RATES["unknown"]
    person[unknown] = -1
    kinds[unknown] = "customer_unknown"

    t = SourceTable("pln", "PLN", person=person, home=h)
    names = people.name[np.maximum(person, 0)]
    names[unknown] = person_names(rng, rng.random(int(unknown.sum())) < 0.3)
    nik = np.where(
        rng.random(n) < RATES["nik_present"], people.nik[np.maximum(person, 0)], ""
    ).astype(STR)
    nik[unknown] = ""
    va = va_all[h]
    kwh = np.array([_KWH_PER_VA[int(v)] for v in (450, 900, 1300, 2200, 3500, 4400, 5500, 6600)])
    base = kwh[np.searchsorted([450, 900, 1300, 2200, 3500, 4400, 5500, 6600], va)]
    rel_cons = homes.consumption[h] / max(float(np.median(homes.consumption)), 1.0)
    kwh_month = base * rng.lognormal(0, 0.3, n) * rel_cons**0.25
    tarif_class = np.where(va <= 2200, "R1", np.where(va <= 5500, "R2", "R3"))
    t.columns = {
        "IDPEL": np.strings.add("5", rng.integers(10**10, 10**11, n).astype(STR)),
        "NAMA_PELANGGAN": upper(names),
        "NIK": nik,
        "ALAMAT": upper(homes.address[h]),
        "KODE_DESA": homes.village_code[h].copy(),
        "TARIF": np.strings.add(np.strings.add(tarif_class.astype(STR), "/"), va.astype(STR)),
        "DAYA": va,
        "KWH_BULANAN": np.round(kwh_month).astype(np.int64),
    }
    for kind in ("customer_is_spouse", "customer_other_person", "customer_unknown"):
        t.mark(np.flatnonzero(kinds == kind).astype(np.int64), kind)
    t.mark(np.flatnonzero(np.strings.str_len(nik) == 0).astype(np.int64), "nik_missing")
    t.corrupt(
        rng,
        "NIK",
        RATES["nik_typo"],
        cx.digit_typo,
        "nik_typo",
        where=np.strings.str_len(nik) == 16,
    )
    t.corrupt(
        rng,
        "NAMA_PELANGGAN",
        RATES["name_abbreviated"],
        cx.name_abbreviate,
        "name_abbreviated",
        where=np.strings.find(t.columns["NAMA_PELANGGAN"], " ") >= 0,
    )
    t.corrupt(rng, "NAMA_PELANGGAN", RATES["name_typo"], cx.name_typo, "name_typo")
    t.stale_address(
        rng, homes, RATES["stale_address"], {"address": "ALAMAT", "village_code": "KODE_DESA"}
    )
    t.columns["ALAMAT"] = upper(t.columns["ALAMAT"])
    t.duplicate(rng, RATES["duplicate"])
    t.bad_rows(rng, RATES["bad"], nik="NIK", date=None, region="KODE_DESA")
    t.shuffle(rng)
    return t
