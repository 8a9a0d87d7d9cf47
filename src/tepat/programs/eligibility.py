"""The one door from programmes to targeting: which households a programme's rule admits.

Rules are parsed and evaluated by tepat.targeting.rules over the household features of
tepat.targeting.features. Desil comes from targeting's latest scoring run
(`tepat.targeting.selectors.household_desil`); callers may instead pass desil explicitly with
`explicit_desil` (tests, benchmarks, `cycle compute --desil-file`). A household that no run has
scored has no desil, and a rule that names desil does not admit it (NaN fails comparisons).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.targeting.features import household_features, household_flags
from tepat.targeting.rules import rule_evaluate, rule_parse


@dataclass(frozen=True)
class Admitted:
    household_id: npt.NDArray[np.int64]
    village_code: npt.NDArray[np.str_]
    desil: npt.NDArray[np.float64]  # NaN where unknown


def rule_check(expression: str) -> None:
    """Raise ValidationFailed (naming the column) when the rule is not valid."""
    rule_parse(expression)


def _targeting_desil(household_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Desil from targeting's latest scoring run; NaN for households it has not scored."""
    from tepat.targeting.selectors import household_desil

    out = np.full(len(household_ids), np.nan)
    found: Mapping[int, int] = household_desil(household_ids=[int(i) for i in household_ids])
    for j, hid in enumerate(household_ids):
        d = found.get(int(hid))
        if d is not None:
            out[j] = float(d)
    return out


def explicit_desil(
    household_ids: npt.NDArray[np.int64], desil: Mapping[int, int]
) -> npt.NDArray[np.float64]:
    """Desil given by the caller (household id -> desil), NaN where absent."""
    keys = np.fromiter(desil.keys(), dtype=np.int64, count=len(desil))
    vals = np.fromiter(desil.values(), dtype=np.float64, count=len(desil))
    order = np.argsort(keys)
    keys, vals = keys[order], vals[order]
    out = np.full(len(household_ids), np.nan)
    if len(keys):
        pos = np.clip(np.searchsorted(keys, household_ids), 0, len(keys) - 1)
        hit = keys[pos] == household_ids
        out[hit] = vals[pos[hit]]
    return out


def households_admitted(
    *,
    expression: str,
    on: dt.date,
    desil: Mapping[int, int] | None = None,
    region_code: str = "",
) -> Admitted:
    """Households the rule admits, as of `on`, in household id order; only those whose village
    lies inside `region_code` (a region code prefix; "" = everywhere)."""
    rule = rule_parse(expression)
    frame = household_features(on=on)
    n = len(frame)
    d = explicit_desil(frame.household_id, desil) if desil is not None else None
    if d is None:
        d = _targeting_desil(frame.household_id)
    cols: dict[str, Any] = dict(frame.columns)
    cols.update({f"flags.{k}": v for k, v in household_flags(frame.household_id).items()})
    cols["desil"] = d
    cols["desil_regional"] = d
    cols["score"] = np.full(n, np.nan)
    vc = frame.village_code
    cols["province"] = np.char.ljust(vc.astype("U2"), 2) if n else vc
    cols["regency"] = vc.astype("U4") if n else vc
    cols["district"] = vc.astype("U6") if n else vc
    cols["village"] = vc
    mask = rule_evaluate(rule, cols, n)
    if region_code and n:
        mask = mask & np.char.startswith(vc.astype(str), region_code)
    return Admitted(frame.household_id[mask], vc[mask], d[mask])
