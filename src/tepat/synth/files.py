"""Columns of the registry baseline and truth files, in the output contract's order."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.synth import codes as c
from tepat.synth import economy
from tepat.synth.contacts import Contacts
from tepat.synth.dates import iso
from tepat.synth.households import Composition
from tepat.synth.names import STR, StrArray
from tepat.synth.people import NO_DATE, People
from tepat.synth.persons import Persons

Columns = dict[str, npt.NDArray[Any]]
I64 = npt.NDArray[np.int64]


def _labels(levels: tuple[tuple[object, float], ...], idx: npt.NDArray[np.int8]) -> StrArray:
    return np.array([str(v) for v, _ in levels], dtype=STR)[idx]


def registry_households(
    kk: StrArray,
    village_code: StrArray,
    address: StrArray,
    rt: StrArray,
    rw: StrArray,
    p: economy.Proxies,
) -> Columns:
    return {
        "kk": kk, "village_code": village_code, "address": address, "rt": rt, "rw": rw,
        "floor_material": _labels(economy.FLOOR, p.floor),
        "wall_material": _labels(economy.WALL, p.wall),
        "roof_material": _labels(economy.ROOF, p.roof),
        "floor_area_m2": p.floor_area,
        "drinking_water": _labels(economy.WATER, p.water),
        "toilet": _labels(economy.TOILET, p.toilet),
        "electricity": _labels(economy.ELECTRICITY, p.electricity),
        "electricity_va": p.va,
        "cooking_fuel": _labels(economy.FUEL, p.fuel),
        "owns_motorcycle": p.motorcycle, "owns_refrigerator": p.refrigerator,
        "owns_car": p.car, "owns_land": p.land,
        "land_area_m2": p.land_area, "livestock_count": p.livestock,
    }  # fmt: skip


def registry_persons(
    rows: I64, comp: Composition, pers: Persons, contacts: Contacts, nik: StrArray, kk: StrArray
) -> Columns:
    """The living baseline: `rows` are the registry's persons in household order."""
    return {
        "nik": nik[rows],
        "kk": kk[comp.hh[rows]],
        "full_name": pers.name[rows],
        "sex": np.where(comp.female[rows], "F", "M").astype(STR),
        "birth_date": iso(pers.birth[rows]),
        "birth_place": pers.birth_place[rows],
        "relationship": np.array(c.REL, dtype=STR)[comp.relationship[rows]],
        "marital_status": np.array(c.MARITAL, dtype=STR)[pers.marital[rows]],
        "education": np.array(c.EDUCATION, dtype=STR)[pers.education[rows]],
        "school_level": np.array(c.SCHOOL, dtype=STR)[pers.school[rows]],
        "work_sector": np.array(c.WORK, dtype=STR)[pers.work[rows]],
        "disability": np.array(c.DISABILITY, dtype=STR)[pers.disability[rows]],
        "pregnant": pers.pregnant[rows],
        "phone": contacts.phone[rows],
        "bank_provider": contacts.bank_provider[rows],
        "bank_account": contacts.bank_account[rows],
        "ewallet_provider": contacts.ewallet_provider[rows],
        "ewallet_account": contacts.ewallet_account[rows],
        "deceased_on": np.full(len(rows), "", dtype=STR),
    }


def household_heads(comp: Composition, pers: Persons, members: npt.NDArray[np.bool_]) -> Columns:
    """Head characteristics and member counts per household, as the survey records them."""
    h = len(comp.size)
    head = comp.start

    def count(mask: npt.NDArray[np.bool_]) -> I64:
        return np.bincount(comp.hh[mask & members], minlength=h).astype(np.int64)

    return {
        "KRT_UMUR": comp.age[head],
        "KRT_JK": np.where(comp.female[head], "F", "M").astype(STR),
        "KRT_PENDIDIKAN": np.array(c.EDUCATION, dtype=STR)[pers.education[head]],
        "KRT_LAPANGAN_USAHA": np.array(c.WORK, dtype=STR)[pers.work[head]],
        "JML_BALITA": count(comp.age < 5),
        "JML_LANSIA": count(comp.age >= 60),
        "JML_BEKERJA": count(pers.work != c.NOT_WORKING),
        "JML_SEKOLAH": count(pers.school != c.SCHOOL_NONE),
    }


def truth_persons(people: People, village_codes: I64, nik_district: StrArray) -> Columns:
    alive = people.deceased_on == NO_DATE
    in_region = people.village >= 0
    village = village_codes[np.maximum(people.village, 0)].astype(STR)
    return {
        "person_key": people.person_key,
        "nik": people.nik,
        "kk": people.kk,
        "alive": alive,
        "deceased_on": np.where(alive, "", iso(np.where(alive, 0, people.deceased_on))).astype(STR),
        "full_name": people.name,
        "sex": np.where(people.female, "F", "M").astype(STR),
        "birth_date": iso(people.birth),
        "village_code": np.where(in_region, village, "").astype(STR),
        "in_registry": people.in_registry,
        "nik_district": nik_district,
        "nik_outdated": people.nik_outdated,
        "asn": people.work == c.CIVIL_SERVANT,
    }


def truth_households(
    kk: StrArray,
    consumption: npt.NDArray[np.float64],
    size: I64,
    wealth_rank: npt.NDArray[np.float64],
) -> Columns:
    return {
        "kk": kk,
        "consumption_pc": consumption.astype(np.int64),
        "poor": consumption < economy.POVERTY_LINE,
        "size": size,
        "wealth_rank": np.round(wealth_rank, 6),
    }
