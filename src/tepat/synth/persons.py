"""Attributes of each person: birth date, marital status, schooling, work, disability,
pregnancy, name, birth place and NIK, drawn from their household role, age and living standard."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tepat.synth import codes as c
from tepat.synth.dates import age_on
from tepat.synth.households import Composition
from tepat.synth.names import STR, StrArray, person_names
from tepat.synth.nik import make_numbers
from tepat.synth.regions import Region

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]

# Share of people whose NIK was first issued in another district (they moved since).
OUTDATED_NIK_SHARE_ADULTS = 0.042


@dataclass
class Persons:
    birth: I64  # days since epoch
    marital: I8
    education: I8
    school: I8
    work: I8
    disability: I8
    pregnant: B
    name: StrArray
    birth_place: StrArray
    nik: I64
    nik_district: I64
    nik_outdated: B


def _sigmoid(x: F64) -> F64:
    return 1.0 / (1.0 + np.exp(-x))


def _quantile_bins(score: F64, shares: tuple[float, ...]) -> I8:
    cuts = np.quantile(score, np.cumsum(shares)[:-1]) if len(score) else np.array([])
    return np.searchsorted(cuts, score).astype(np.int8)


def _marital(rng: np.random.Generator, comp: Composition, spouse_in_hh: B) -> I8:
    n = len(comp.age)
    rel, age = comp.relationship, comp.age
    u = rng.random(n)
    out = np.full(n, c.SINGLE, np.int8)
    adult = age >= 17
    out[adult & (u < np.clip((age - 19) / 14, 0, 0.55))] = c.MARRIED
    out[adult & (age >= 30) & (u > 0.95)] = c.DIVORCED
    head = rel == c.HEAD
    alone = head & ~spouse_in_hh
    out[head & spouse_in_hh] = c.MARRIED
    out[alone & (age >= 45)] = np.where(u[alone & (age >= 45)] < 0.75, c.WIDOWED, c.DIVORCED)
    out[alone & (age < 45)] = np.where(u[alone & (age < 45)] < 0.55, c.SINGLE, c.DIVORCED)
    out[(rel == c.SPOUSE) | (rel == c.CHILD_IN_LAW)] = c.MARRIED
    parent = (rel == c.PARENT) | (rel == c.PARENT_IN_LAW)
    out[parent] = np.where(u[parent] < 0.7, c.WIDOWED, c.MARRIED)
    out[rel == c.GRANDCHILD] = c.SINGLE
    return out


def _schooling(rng: np.random.Generator, age: I64, wealth: F64, urban: B) -> tuple[I8, I8]:
    n = len(age)
    u = rng.random(n)
    school = np.full(n, c.SCHOOL_NONE, np.int8)
    school[(age >= 7) & (age <= 12) & (u < 0.975)] = c.SCHOOL_SD
    smp = (age >= 13) & (age <= 15)
    school[smp & (u < _sigmoid(2.4 + 0.8 * wealth))] = c.SCHOOL_SMP
    sma = (age >= 16) & (age <= 18)
    school[sma & (u < _sigmoid(0.9 + 1.0 * wealth))] = c.SCHOOL_SMA

    edu = np.full(n, c.EDU_NONE, np.int8)
    edu[(age >= 13) & (age <= 15)] = c.EDU_SD
    edu[(age >= 16) & (age <= 18)] = c.EDU_SMP
    drop = (age >= 13) & (age <= 18) & (school == c.SCHOOL_NONE) & (u > 0.995)
    edu[drop] = c.EDU_SD
    adult = age >= 19
    score = (
        0.8 * wealth[adult]
        - (age[adult] - 40) / 22
        + 0.3 * urban[adult]
        + rng.normal(0, 1, int(adult.sum()))
    )
    edu[adult] = _quantile_bins(score, (0.07, 0.27, 0.21, 0.31, 0.04, 0.10))
    edu[(age < 22) & (edu > c.EDU_SMA)] = c.EDU_SMA
    return edu, school


def _work(
    rng: np.random.Generator, age: I64, female: B, edu: I8, school: I8, wealth: F64, urban: B
) -> I8:
    n = len(age)
    u = rng.random(n)
    p_work = np.where(female, 0.52, 0.88)
    p_work = np.where(age >= 65, np.where(female, 0.15, 0.4), p_work)
    p_work = np.where(age < 19, 0.45, p_work)
    working = (age >= 15) & (school == c.SCHOOL_NONE) & (u < p_work)
    rural = ~urban
    high = edu >= c.EDU_SMA
    # Sector propensities (logits), in the order of WorkSector's values.
    logits = {
        "agriculture": 1.4 * rural - 0.8 * wealth - 0.6 * high - 0.8,
        "fishery": -3.0 + 0.5 * rural,
        "manufacturing": 0.3 + 0 * wealth,
        "construction": 0.1 + np.where(female, -2.5, 0.5),
        "trade": 0.6 + 0 * wealth,
        "transport": -0.4 + np.where(female, -2.5, 0.3),
        "services": 0.1 + 0.5 * wealth + 0.6 * high,
        "civil_servant": np.where(
            high & (age >= 20) & (age <= 58),
            -1.7 + 1.5 * (edu >= c.EDU_DIPLOMA) + 0.7 * wealth,
            -50,
        ),
        "other": -1.2 + 0 * wealth,
    }
    sectors = [v for v in c.WORK if v != "not_working"]
    scores = np.stack([logits[s] for s in sectors]) + rng.gumbel(size=(len(sectors), n))
    chosen = np.array([c.WORK.index(s) for s in sectors], np.int8)[np.argmax(scores, axis=0)]
    return np.where(working, chosen, np.int8(c.NOT_WORKING)).astype(np.int8)


def make_persons(
    rng: np.random.Generator,
    region: Region,
    comp: Composition,
    hh_wealth: F64,
    as_of: int,
) -> Persons:
    n = len(comp.age)
    hh = comp.hh
    age = comp.age
    female = comp.female
    urban = region.village_urban[comp.village][hh]
    wealth = hh_wealth[hh]

    birth = as_of - np.floor((age + rng.random(n)) * 365.2425).astype(np.int64) - 1
    # Whole years from the calendar, so that age by birth date and by role always agree.
    comp.age[:] = age_on(birth, as_of)
    spouse_in_hh = np.zeros(len(comp.size), np.bool_)
    spouse_in_hh[hh[comp.relationship == c.SPOUSE]] = True
    marital = _marital(rng, comp, spouse_in_hh[hh])
    edu, school = _schooling(rng, age, wealth, urban)
    work = _work(rng, age, female, edu, school, wealth, urban)

    u = rng.random(n)
    disability = np.zeros(n, np.int8)
    p_severe = 0.004 + 0.02 * (age >= 75)
    p_mild = 0.02 + 0.06 * (age >= 60)
    disability[u < p_severe + p_mild] = 1
    disability[u < p_severe] = 2
    fertile = female & (marital == c.MARRIED) & (age >= 15) & (age <= 49)
    p_preg = np.where(age <= 35, 0.07, np.where(age <= 44, 0.025, 0.004))
    pregnant = fertile & (rng.random(n) < p_preg)

    name = person_names(rng, female)
    own = np.array(region.own_places, dtype=STR)
    other = np.array(region.other_places, dtype=STR)
    birth_place = own[rng.integers(0, len(own), n)]
    away = rng.random(n) < 0.18
    birth_place[away] = other[rng.integers(0, len(other), int(away.sum()))]

    district = region.village_district[comp.village][hh]
    outdated = (age >= 17) & (rng.random(n) < OUTDATED_NIK_SHARE_ADULTS)
    nik_district = district.copy()
    other_province = outdated & (rng.random(n) < 0.35) & (len(region.other_districts) > 0)
    same_province = outdated & ~other_province
    nik_district[same_province] = region.province_districts[
        rng.integers(0, len(region.province_districts), int(same_province.sum()))
    ]
    nik_district[other_province] = region.other_districts[
        rng.integers(0, len(region.other_districts), int(other_province.sum()))
    ]
    outdated = nik_district != district
    nik = make_numbers(nik_district, birth, rng, female)
    return Persons(
        birth=birth,
        marital=marital,
        education=edu,
        school=school,
        work=work,
        disability=disability,
        pregnant=pregnant,
        name=name,
        birth_place=birth_place,
        nik=nik,
        nik_district=nik_district,
        nik_outdated=outdated,
    )
