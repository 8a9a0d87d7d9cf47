"""Household features for the PMT and for eligibility rules, built in bulk from the registry.

One row per household: the registry's housing and asset proxies as they are stored, plus
person-level attributes aggregated with numpy (household size, the head's age, sex, education and
work sector, children by school level, elderly, disability). Reads are `values_list` in chunks,
never one query per household.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

# Canonical feature names a PMT spec may map survey columns to, and rules may name.
CATEGORICAL = (
    "floor_material", "wall_material", "roof_material", "drinking_water", "toilet",
    "electricity", "cooking_fuel", "head_sex", "head_education", "head_work_sector",
)  # fmt: skip
NUMERIC = (
    "floor_area_m2", "electricity_va", "owns_motorcycle", "owns_refrigerator", "owns_car",
    "owns_land", "land_area_m2", "livestock_count", "household_size", "head_age", "n_under5",
    "n_elderly", "n_working", "children_in_school", "children_sd", "children_smp",
    "children_sma", "n_disabled", "n_severe_disability", "n_pregnant",
)  # fmt: skip
HOUSEHOLD_FIELDS = (
    "floor_material", "wall_material", "roof_material", "floor_area_m2", "drinking_water",
    "toilet", "electricity", "electricity_va", "cooking_fuel", "owns_motorcycle",
    "owns_refrigerator", "owns_car", "owns_land", "land_area_m2", "livestock_count",
)  # fmt: skip
ALL_FEATURES = CATEGORICAL + NUMERIC

# Flags a rule may name as `flags.<name>`; data integration sets them (see `household_flags`).
FLAG_NAMES = (
    "deceased",
    "duplicate",
    "civil_servant",
    "high_electricity",
    "moved",
    "nik_not_found",
)

ELDERLY_AGE = 60
UNDER5_AGE = 5
CHUNK = 50_000
# Features that need every member's age: the only ones that decrypt birth dates.
AGE_FEATURES = frozenset({"head_age", "n_under5", "n_elderly"})

# The registry's choices behind each categorical feature (tepat.registry.choices): a survey's
# category codes must be these for a model to score the registry.
_CHOICES = {
    "floor_material": "FloorMaterial", "wall_material": "WallMaterial",
    "roof_material": "RoofMaterial", "drinking_water": "DrinkingWater", "toilet": "Toilet",
    "electricity": "Electricity", "cooking_fuel": "CookingFuel", "head_sex": "Sex",
    "head_education": "Education", "head_work_sector": "WorkSector",
}  # fmt: skip


def feature_kind(name: str) -> str | None:
    """ "categorical" or "numeric" as the registry holds `name`; None when it has no such feature."""
    if name in CATEGORICAL:
        return "categorical"
    if name in NUMERIC:
        return "numeric"
    return None


@cache
def registry_vocabulary(name: str) -> tuple[str, ...]:
    """The codes the registry stores for the categorical feature `name`, blank ("": not
    recorded) included; () for a feature that is not categorical."""
    from tepat.registry import choices

    if name not in _CHOICES:
        return ()
    values = [str(v) for v in getattr(choices, _CHOICES[name]).values]
    return tuple(dict.fromkeys(["", *values]))


@dataclass
class FeatureFrame:
    """Columns of equal length, one entry per household, in `household_id` order."""

    household_id: npt.NDArray[np.int64]
    village_code: npt.NDArray[np.str_]
    columns: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.household_id)

    def take(self, index: npt.NDArray[np.intp]) -> FeatureFrame:
        return FeatureFrame(
            self.household_id[index],
            self.village_code[index],
            {k: v[index] for k, v in self.columns.items()},
        )


def _age_years(birth: npt.NDArray[np.datetime64], on: dt.date) -> npt.NDArray[np.int64]:
    days = (np.datetime64(on, "D") - birth.astype("datetime64[D]")).astype(np.int64)
    return (days // 365.2425).astype(np.int64)


def household_features(
    *,
    household_ids: Sequence[int] | None = None,
    on: dt.date | None = None,
    id_range: tuple[int, int] | None = None,
    needed: Collection[str] | None = None,
) -> FeatureFrame:
    """Features of all households (or of `household_ids`, or of ids in `id_range`, both ends
    included), as of `on` (ages), in id order. With `needed`, the age-based features (which
    decrypt every member's birth date, the costly part) are built only when named there."""
    from tepat.registry.models import Household, Person
    from tepat.registry.sealed import birth_dates_iso

    on = on or dt.date.today()
    ages = needed is None or bool(AGE_FEATURES & set(needed))
    # UU 27/2022: a household with a member whose processing is restricted (Art. 11) is left
    # out of new scoring and lists; an erased member (Art. 8) is no longer counted.
    restricted = Person.objects.filter(processing_restricted_at__isnull=False)
    hq = Household.objects.exclude(id__in=restricted.values("household_id")).order_by("id")
    pq = Person.objects.filter(deceased_on__isnull=True, erased_at__isnull=True).order_by(
        "household_id"
    )
    if household_ids is not None:
        hq = hq.filter(id__in=list(household_ids))
        pq = pq.filter(household_id__in=list(household_ids))
    if id_range is not None:
        hq = hq.filter(id__gte=id_range[0], id__lte=id_range[1])
        pq = pq.filter(household_id__gte=id_range[0], household_id__lte=id_range[1])
    rows = list(hq.values_list("id", "village_id", *HOUSEHOLD_FIELDS).iterator(chunk_size=CHUNK))
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    villages = np.array([r[1] for r in rows], dtype="U10") if n else np.array([], dtype="U10")
    cols: dict[str, npt.NDArray[Any]] = {}
    for j, name in enumerate(HOUSEHOLD_FIELDS, start=2):
        values = [r[j] for r in rows]
        if name in CATEGORICAL:
            cols[name] = np.array(values, dtype="U16") if n else np.array([], dtype="U16")
        else:
            cols[name] = np.array(
                [np.nan if v is None else float(v) for v in values], dtype=np.float64
            )
    del rows
    p_fields = (
        "household_id", "relationship", "sex", "public_id", "birth_date_enc", "birth_year",
        "education", "work_sector", "school_level", "disability", "pregnant",
    )  # fmt: skip
    prow = list(pq.values_list(*p_fields).iterator(chunk_size=CHUNK))
    m = len(prow)
    hh = np.fromiter((r[0] for r in prow), dtype=np.int64, count=m)
    pos = np.searchsorted(ids, hh)
    ok = (pos < n) & (ids[np.minimum(pos, max(n - 1, 0))] == hh) if n else np.zeros(m, bool)
    rel = np.array([r[1] for r in prow], dtype="U16")
    sex = np.array([r[2] for r in prow], dtype="U1")
    edu = np.array([r[6] for r in prow], dtype="U16")
    work = np.array([r[7] for r in prow], dtype="U16")
    school = np.array([r[8] for r in prow], dtype="U8")
    disab = np.array([r[9] for r in prow], dtype="U8")
    preg = np.array([bool(r[10]) for r in prow], dtype=bool)
    # Ages need the full birth dates, held encrypted: decrypted in bulk, kept rows only.
    birth = np.array(
        birth_dates_iso(prow[i][3:6] for i in np.flatnonzero(ok)) if ages else [],
        dtype="datetime64[D]",
    )
    del prow
    pos, rel, sex, edu, work, school, disab, preg = (
        pos[ok], rel[ok], sex[ok], edu[ok], work[ok], school[ok], disab[ok], preg[ok]
    )  # fmt: skip
    age = _age_years(birth, on) if len(birth) else np.zeros(0, np.int64)

    def count(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        return np.bincount(pos[mask], minlength=n).astype(np.float64)

    cols["household_size"] = np.bincount(pos, minlength=n).astype(np.float64)
    if ages:
        cols["n_under5"] = count(age < UNDER5_AGE)
        cols["n_elderly"] = count(age >= ELDERLY_AGE)
    cols["n_working"] = count((work != "") & (work != "not_working"))
    cols["children_sd"] = count(school == "sd")
    cols["children_smp"] = count(school == "smp")
    cols["children_sma"] = count(school == "sma")
    cols["children_in_school"] = cols["children_sd"] + cols["children_smp"] + cols["children_sma"]
    cols["n_disabled"] = count(disab != "")
    cols["n_severe_disability"] = count(disab == "severe")
    cols["n_pregnant"] = count(preg)
    head = rel == "head"
    if ages:
        head_age = np.full(n, np.nan)
        head_age[pos[head]] = age[head]
        cols["head_age"] = head_age
    for name, values in (("head_sex", sex), ("head_education", edu), ("head_work_sector", work)):
        out = np.full(n, "", dtype="U16")
        out[pos[head]] = values[head]
        cols[name] = out
    return FeatureFrame(ids, villages, cols)


def household_id_ranges(*, chunk: int) -> Iterator[tuple[int, int]]:
    """(first id, last id) of consecutive blocks of at most `chunk` households, in id order:
    the registry read a block at a time (keyset pagination: one indexed query per block, never
    an OFFSET scan and never all ids in memory)."""
    from tepat.registry.models import Household

    ids = Household.objects.order_by("id").values_list("id", flat=True)
    start = ids.first()
    while start is not None:
        block = ids.filter(id__gte=start)
        last = block[chunk - 1 : chunk].first()
        if last is None:
            last = block.last()
            assert last is not None  # `start` itself is in the block
            yield int(start), int(last)
            return
        yield int(start), int(last)
        start = ids.filter(id__gt=last).first()


def household_flags(household_id: npt.NDArray[np.int64]) -> dict[str, npt.NDArray[np.bool_]]:
    """Eligibility flags per household, one boolean column per name in FLAG_NAMES.

    Set by data integration (deaths from Dukcapil, ASN/TNI/Polri payroll, PLN connections,
    duplicates, moves, NIKs the civil registry does not know); a flag on any member counts.
    """
    from tepat.integration.selectors import flagged_households

    flagged = flagged_households()
    return {
        name: np.isin(household_id, np.asarray(flagged.get(name, []), dtype=np.int64))
        for name in FLAG_NAMES
    }
