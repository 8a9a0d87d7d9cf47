"""Entitlement amounts: pure functions of frozen params and a household's frozen inputs.

The same functions serve the first computation (vectorised over every admitted household) and the
recomputation of a frozen cycle, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings

from tepat.core.errors import Problems
from tepat.programs.models import ProgrammeKind

# PKH components, in the order the cap takes them (highest annual amount first, then this order).
PKH_COMPONENTS = (
    "pregnant", "child_0_6", "sma", "elderly", "severe_disability", "smp", "sd",
)  # fmt: skip

PKH_DEFAULT_ANNUAL = {
    "pregnant": 3_000_000,
    "child_0_6": 3_000_000,
    "sd": 900_000,
    "smp": 1_500_000,
    "sma": 2_000_000,
    "elderly": 2_400_000,
    "severe_disability": 2_400_000,
}


def default_params(kind: str) -> dict[str, Any]:
    if kind == ProgrammeKind.PKH:
        return {
            "annual": dict(PKH_DEFAULT_ANNUAL),
            "tahap_per_year": 4,
            "max_components": int(getattr(settings, "TEPAT_PKH_MAX_COMPONENTS", 4)),
            "elderly_age": 60,
        }
    if kind == ProgrammeKind.SEMBAKO:
        return {"monthly": 200_000, "months_per_tahap": 3}
    return {"monthly": 300_000, "months_per_tahap": 3, "months": 3}


def params_validate(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled in; every amount a non-negative integer of rupiah."""
    merged = default_params(kind)
    for key, value in params.items():
        if key == "annual" and isinstance(value, Mapping):
            merged["annual"] = {**merged["annual"], **value}
        else:
            merged[key] = value
    p = Problems()

    def whole(name: str, v: Any, low: int = 0) -> None:
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            p.error(
                f"params.{name}",
                "bad_amount",
                f"harus bilangan bulat >= {low} / must be an integer >= {low}",
            )

    if kind == ProgrammeKind.PKH:
        unknown = set(merged["annual"]) - set(PKH_COMPONENTS)
        if unknown:
            p.error(
                "params.annual", "unknown_component", f"komponen tidak dikenal: {sorted(unknown)}"
            )
        for k, v in merged["annual"].items():
            whole(f"annual.{k}", v)
        whole("tahap_per_year", merged["tahap_per_year"], 1)
        whole("max_components", merged["max_components"], 1)
        whole("elderly_age", merged["elderly_age"], 1)
    else:
        whole("monthly", merged["monthly"])
        whole("months_per_tahap", merged["months_per_tahap"], 1)
    p.raise_if_errors()
    return merged


def pkh_amount(params: Mapping[str, Any], counts: Mapping[str, int]) -> int:
    """Annual components, capped per family, divided over the tahap of the year."""
    annual: Mapping[str, int] = params["annual"]
    left = int(params["max_components"])
    total = 0
    for comp in sorted(PKH_COMPONENTS, key=lambda c: (-annual.get(c, 0), PKH_COMPONENTS.index(c))):
        take = min(int(counts.get(comp, 0)), left)
        total += take * int(annual.get(comp, 0))
        left -= take
    return total // int(params["tahap_per_year"])


def flat_amount(params: Mapping[str, Any]) -> int:
    return int(params["monthly"]) * int(params["months_per_tahap"])


def amount_for(kind: str, params: Mapping[str, Any], inputs: Mapping[str, Any]) -> int:
    if kind == ProgrammeKind.PKH:
        return pkh_amount(params, inputs.get("c", {}))
    return flat_amount(params)


def pkh_amounts(
    params: Mapping[str, Any], counts: Mapping[str, npt.NDArray[np.int64]], n: int
) -> npt.NDArray[np.int64]:
    """`pkh_amount` over arrays (one entry per household)."""
    annual: Mapping[str, int] = params["annual"]
    left = np.full(n, int(params["max_components"]), dtype=np.int64)
    total = np.zeros(n, dtype=np.int64)
    for comp in sorted(PKH_COMPONENTS, key=lambda c: (-annual.get(c, 0), PKH_COMPONENTS.index(c))):
        take = np.minimum(counts[comp], left)
        total += take * int(annual.get(comp, 0))
        left -= take
    return total // int(params["tahap_per_year"])


def _age(birth: npt.NDArray[np.datetime64], on: dt.date) -> npt.NDArray[np.int64]:
    """Whole years completed on `on` (exact, not a 365.25 approximation)."""
    b = birth.astype("datetime64[D]")
    years = b.astype("datetime64[Y]").astype(np.int64) + 1970
    months = b.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (b - b.astype("datetime64[M]")).astype(np.int64) + 1
    before = (months > on.month) | ((months == on.month) & (days > on.day))
    return (on.year - years - before.astype(np.int64)).astype(np.int64)


def pkh_counts(
    household_ids: npt.NDArray[np.int64], on: dt.date, elderly_age: int
) -> dict[str, npt.NDArray[np.int64]]:
    """PKH component counts per household (living members only), read in bulk."""
    from tepat.registry.models import Person
    from tepat.registry.sealed import birth_dates_iso

    n = len(household_ids)
    fields = (
        "household_id", "public_id", "birth_date_enc", "birth_year",
        "school_level", "disability", "pregnant",
    )  # fmt: skip
    rows = list(
        Person.objects.filter(deceased_on__isnull=True, erased_at__isnull=True)
        .order_by()
        .values_list(*fields)
        .iterator(chunk_size=50_000)
    )
    m = len(rows)
    hh = np.fromiter((r[0] for r in rows), dtype=np.int64, count=m)
    pos = np.clip(np.searchsorted(household_ids, hh), 0, max(n - 1, 0))
    ok = household_ids[pos] == hh if n else np.zeros(m, bool)
    # Exact ages need the full dates, held encrypted: decrypted in bulk, only for the members
    # of the households asked about (a decryption costs more than the rest of a row's work).
    birth = np.zeros(m, dtype="datetime64[D]")
    if m:
        birth[ok] = np.array(
            birth_dates_iso(rows[i][1:4] for i in np.flatnonzero(ok)), dtype="datetime64[D]"
        )
    school = np.array([r[4] for r in rows], dtype="U3")
    severe = np.array([r[5] == "severe" for r in rows], dtype=bool)
    preg = np.array([bool(r[6]) for r in rows], dtype=bool)
    del rows
    age = _age(birth, on) if m else np.zeros(0, np.int64)
    pos = pos[ok]

    def count(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        return np.bincount(pos[mask[ok]], minlength=n).astype(np.int64)

    return {
        "pregnant": count(preg),
        "child_0_6": count(age <= 6),
        "sd": count(school == "sd"),
        "smp": count(school == "smp"),
        "sma": count(school == "sma"),
        "elderly": count(age >= elderly_age),
        "severe_disability": count(severe),
    }


def list_digest(rows: Iterable[tuple[str, str, int]]) -> str:
    """SHA-256 of the entitlement list: `household|beneficiary|amount` lines, sorted."""
    h = hashlib.sha256()
    for household_ref, beneficiary_ref, amount in sorted(rows):
        h.update(f"{household_ref}|{beneficiary_ref}|{amount}\n".encode())
    return h.hexdigest()
