"""Street addresses (towns) and hamlet addresses (villages), from Faker's `id_ID` street list."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from faker.providers.address.id_ID import Provider as AddressProvider

from tepat.synth.names import STR, StrArray


def addresses(
    rng: np.random.Generator, urban: npt.NDArray[np.bool_], place_names: tuple[str, ...]
) -> StrArray:
    """One address per household: 'Jl. Cihampelas No. 12' in towns (and in some villages),
    'Kp. Sukamaju' or 'Dusun Sukamaju' elsewhere."""
    streets = np.array(sorted(AddressProvider.streets), dtype=STR)
    h = len(urban)
    prefix = np.where(rng.random(h) < 0.7, "Jl. ", "Gg. ").astype(STR)
    street = np.strings.add(prefix, streets[rng.integers(0, len(streets), h)])
    number = rng.integers(1, 200, h).astype(STR)
    street_address = np.strings.add(np.strings.add(street, " No. "), number)
    places = np.array(place_names, dtype=STR)
    hamlet = np.where(rng.random(h) < 0.5, "Kp. ", "Dusun ").astype(STR)
    hamlet_address = np.strings.add(hamlet, places[rng.integers(0, len(places), h)])
    return np.where(urban | (rng.random(h) < 0.3), street_address, hamlet_address).astype(STR)


def rt_rw(
    rng: np.random.Generator, village: npt.NDArray[np.int64], n_villages: int
) -> tuple[StrArray, StrArray]:
    """Neighbourhood (RT) and hamlet (RW) numbers, '001'..., within each village's range."""
    rt_max = rng.integers(4, 16, n_villages)
    rw_max = rng.integers(2, 12, n_villages)
    h = len(village)
    rt = 1 + (rng.random(h) * rt_max[village]).astype(np.int64)
    rw = 1 + (rng.random(h) * rw_max[village]).astype(np.int64)
    return np.strings.zfill(rt.astype(STR), 3), np.strings.zfill(rw.astype(STR), 3)
