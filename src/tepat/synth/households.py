"""Household composition: sizes, villages, who lives with whom, and their ages and sexes.

Every household has one head; a spouse in most; then children, sometimes a child-in-law and
grandchildren (older heads), an elderly parent (younger heads) or another relative. Ages follow
the relationships (children are at least 17 years younger than their mother, and so on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tepat.synth import codes as c
from tepat.synth.regions import Region

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

# Household sizes 1..8 (Susenas-like, mean about 3.7).
_SIZE_P = np.array([0.09, 0.17, 0.22, 0.23, 0.15, 0.08, 0.04, 0.02])


@dataclass
class Composition:
    # per household
    village: I64  # index into region.village_codes
    size: I64
    start: I64  # offset of the head in the person arrays
    region_effect: F64  # district + village effect on living standards
    # per person
    hh: I64
    relationship: npt.NDArray[np.int8]
    female: B
    age: I64


def _sizes(rng: np.random.Generator, persons: int) -> I64:
    guess = int(persons / 3.5) + 16
    sizes = rng.choice(np.arange(1, 9), size=guess, p=_SIZE_P)
    while sizes.sum() < persons:
        sizes = np.r_[sizes, rng.choice(np.arange(1, 9), size=guess, p=_SIZE_P)]
    cum = np.cumsum(sizes)
    n = int(np.searchsorted(cum, persons)) + 1
    sizes = sizes[:n].astype(np.int64)
    sizes[-1] -= int(cum[n - 1] - persons)
    return sizes


def _villages(rng: np.random.Generator, region: Region, n: int) -> tuple[I64, F64]:
    nv = len(region.village_codes)
    weight = rng.lognormal(0.0, 0.6, nv)
    village = rng.choice(nv, size=n, p=weight / weight.sum())
    districts, district_of_village = np.unique(region.village_district, return_inverse=True)
    district_effect = rng.normal(0.0, 0.35, len(districts))
    village_effect = rng.normal(0.0, 0.25, nv) + 0.35 * region.village_urban
    effect = district_effect[district_of_village] + village_effect
    # Sorting by village keeps neighbours together in the files, as registries are ordered.
    village = np.sort(village)
    return village.astype(np.int64), effect[village]


def compose(rng: np.random.Generator, region: Region, persons: int) -> Composition:
    size = _sizes(rng, persons)
    h = len(size)
    village, effect = _villages(rng, region, h)
    u = rng.random((8, h))

    single = size == 1
    spouse = (size >= 2) & (u[0] < 0.86)
    old_single = single & (u[1] < 0.5)
    head_age = np.clip(rng.normal(46, 13, h), 21, 88)
    head_age = np.where(single & ~old_single, rng.uniform(19, 36, h), head_age)
    head_age = np.where(old_single, rng.uniform(55, 89, h), head_age)

    room = size - 1 - spouse
    n_parent = ((size >= 3) & (head_age < 62) & (u[2] < 0.10) & (room >= 1)).astype(np.int64)
    room = room - n_parent
    n_other = ((size >= 3) & (u[3] < 0.04) & (room >= 1)).astype(np.int64)
    room = room - n_other
    has_grand = (size >= 4) & (head_age >= 50) & (u[4] < 0.35) & (room >= 1)
    head_age = np.where(has_grand, np.maximum(head_age, 50 + 25 * u[7]), head_age)
    n_grand = np.where(has_grand, np.minimum(rng.integers(1, 3, h), room), 0)
    room = room - n_grand
    n_cil = (has_grand & (room >= 2) & (u[5] < 0.6)).astype(np.int64)
    n_child = room - n_cil

    # Sexes of heads: mostly men where there is a spouse; single parents and old singles are
    # mostly women (widows).
    p_female_head = np.where(spouse, 0.05, np.where(old_single, 0.65, 0.65))
    p_female_head = np.where(single & ~old_single, 0.45, p_female_head)
    head_female = u[6] < p_female_head

    start = np.r_[0, np.cumsum(size)[:-1]].astype(np.int64)
    n = int(size.sum())
    hh = np.repeat(np.arange(h, dtype=np.int64), size)
    slot = np.arange(n, dtype=np.int64) - start[hh]

    b_spouse = 1 + spouse.astype(np.int64)
    b_child = b_spouse + n_child
    b_cil = b_child + n_cil
    b_grand = b_cil + n_grand
    b_parent = b_grand + n_parent
    rel = np.full(n, c.OTHER_FAMILY, np.int8)
    rel[slot < b_parent[hh]] = c.PARENT
    rel[slot < b_grand[hh]] = c.GRANDCHILD
    rel[slot < b_cil[hh]] = c.CHILD_IN_LAW
    rel[slot < b_child[hh]] = c.CHILD
    rel[slot < b_spouse[hh]] = c.SPOUSE
    rel[slot == 0] = c.HEAD
    pu = rng.random(n)
    rel[(rel == c.PARENT) & (pu < 0.5)] = c.PARENT_IN_LAW
    rel[(rel == c.OTHER_FAMILY) & (pu < 0.2)] = c.OTHER

    # Ages, by relationship.
    spouse_gap = np.clip(rng.normal(4, 4, h), -3, 15)
    spouse_age = np.where(head_female, head_age + 3, head_age - spouse_gap)
    spouse_age = np.clip(spouse_age, 19, 95)
    mother_age = np.where(spouse, np.where(head_female, head_age, spouse_age), head_age)
    youngest_parent = np.where(spouse, np.minimum(head_age, spouse_age), head_age)

    age = np.zeros(n)
    head = rel == c.HEAD
    age[head] = head_age[hh[head]]
    sp = rel == c.SPOUSE
    age[sp] = spouse_age[hh[sp]]
    ch = rel == c.CHILD
    limit = youngest_parent[hh[ch]] - 17
    child_age = mother_age[hh[ch]] - rng.uniform(18, 42, int(ch.sum()))
    redo = child_age < 0
    child_age[redo] = rng.random(int(redo.sum())) * np.maximum(mother_age[hh[ch]][redo] - 18, 0)
    age[ch] = np.clip(np.minimum(child_age, limit), 0, None)
    ci = rel == c.CHILD_IN_LAW
    age[ci] = np.clip(head_age[hh[ci]] - rng.uniform(20, 32, int(ci.sum())), 18, None)
    gr = rel == c.GRANDCHILD
    age[gr] = rng.random(int(gr.sum())) * np.minimum(18, head_age[hh[gr]] - 38)
    pa = (rel == c.PARENT) | (rel == c.PARENT_IN_LAW)
    age[pa] = np.minimum(head_age[hh[pa]] + rng.uniform(20, 34, int(pa.sum())), 98)
    ot = (rel == c.OTHER_FAMILY) | (rel == c.OTHER)
    age[ot] = rng.uniform(3, 70, int(ot.sum()))

    female = rng.random(n) < 0.5
    female[head] = head_female[hh[head]]
    female[sp] = ~head_female[hh[sp]]
    female[pa] = rng.random(int(pa.sum())) < 0.65

    return Composition(
        village=village,
        size=size,
        start=start,
        region_effect=effect,
        hh=hh,
        relationship=rel,
        female=female,
        age=np.floor(age).astype(np.int64),
    )
