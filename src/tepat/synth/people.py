"""Everyone the generator knows the truth about, alive or dead, in the registry or not.

Sources are built by picking rows of this table; `kind` says where each person comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tepat.synth.names import StrArray

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]

NO_DATE = -(10**6)


@dataclass
class People:
    person_key: StrArray
    nik: StrArray
    kk: StrArray
    hh: I64  # household index, -1 for people outside the region's households
    name: StrArray
    female: B
    birth: I64
    birth_place: StrArray
    relationship: I8
    marital: I8
    education: I8
    school: I8
    work: I8
    village: I64  # index into the region's villages, -1 outside
    in_registry: B
    nik_outdated: B
    deceased_on: I64  # NO_DATE while alive
    age: I64

    def __len__(self) -> int:
        return len(self.nik)

    @property
    def alive(self) -> B:
        return self.deceased_on == NO_DATE


@dataclass
class Homes:
    """Per registry household: identifiers, address and living standard."""

    kk: StrArray
    village: I64
    village_code: StrArray
    address: StrArray
    rt: StrArray
    rw: StrArray
    head: I64  # index into People
    size: I64
    wealth_rank: F64
    consumption: F64
