"""Indonesian personal names, sampled with numpy from Faker's `id_ID` word lists.

Faker is used once, for its lists; calling it per person would take minutes at a million people.
Patterns: many people carry a single name, many a first and a second name, and Muslim names
often start with Muhammad (men), Siti (women) or Nur (either).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from faker.providers.person.id_ID import Provider as PersonProvider

STR = np.dtypes.StringDType()
# numpy's variable-width strings (StringDType) have no precise static type yet.
StrArray = npt.NDArray[Any]

# Shares of name patterns per sex: single name, first + second name, prefixed name.
_MALE_PATTERNS = (0.28, 0.54, 0.18)
_FEMALE_PATTERNS = (0.30, 0.52, 0.18)
_MALE_PREFIXES = ("Muhammad", "Muhammad", "Muhammad", "Ahmad", "Nur", "Abdul")
_FEMALE_PREFIXES = ("Siti", "Siti", "Siti", "Nur", "Nur", "Dewi", "Sri")


@dataclass(frozen=True)
class NamePools:
    male_first: StrArray
    female_first: StrArray
    male_second: StrArray
    female_second: StrArray
    male_prefix: StrArray
    female_prefix: StrArray


@cache
def name_pools() -> NamePools:
    def arr(words: Iterable[str]) -> StrArray:
        return np.array(sorted(set(words)), dtype=STR)

    p = PersonProvider
    return NamePools(
        male_first=arr(p.first_names_male),
        female_first=arr(p.first_names_female),
        male_second=arr(list(p.last_names_male) + list(p.first_names_male)[::3]),
        female_second=arr(list(p.last_names_female) + list(p.first_names_female)[::3]),
        male_prefix=np.array(_MALE_PREFIXES, dtype=STR),
        female_prefix=np.array(_FEMALE_PREFIXES, dtype=STR),
    )


def _names_for(
    rng: np.random.Generator,
    n: int,
    first: StrArray,
    second: StrArray,
    prefix: StrArray,
    shares: tuple[float, float, float],
) -> StrArray:
    pattern = rng.choice(3, size=n, p=shares)
    given = first[rng.integers(0, len(first), n)]
    other = second[rng.integers(0, len(second), n)]
    pre = prefix[rng.integers(0, len(prefix), n)]
    out = given.copy()
    two = pattern == 1
    out[two] = np.strings.add(np.strings.add(given[two], " "), other[two])
    pref = pattern == 2
    out[pref] = np.strings.add(np.strings.add(pre[pref], " "), given[pref])
    # Some prefixed names also carry a second name ("Siti Nur Aisyah", "Muhammad Rizky Pratama").
    long = pref & (rng.random(n) < 0.35)
    out[long] = np.strings.add(np.strings.add(out[long], " "), other[long])
    return out


def person_names(rng: np.random.Generator, female: npt.NDArray[np.bool_]) -> StrArray:
    """A full name per person, in title case as the registry writes it."""
    pools = name_pools()
    out = np.empty(len(female), dtype=STR)
    m = ~female
    out[m] = _names_for(
        rng, int(m.sum()), pools.male_first, pools.male_second, pools.male_prefix, _MALE_PATTERNS
    )
    out[female] = _names_for(
        rng,
        int(female.sum()),
        pools.female_first,
        pools.female_second,
        pools.female_prefix,
        _FEMALE_PATTERNS,
    )
    return out
