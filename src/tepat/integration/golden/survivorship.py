"""Survivorship: the golden value of each field of a cluster, with its provenance. The
authoritative source with the highest precedence wins; within it the most common value, the
registry's current value winning a tie."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tepat.integration.golden.loading import _Rec
from tepat.integration.models import Source
from tepat.integration.sources import HOUSEHOLD_FIELDS
from tepat.registry.models import Household

# Person fields a golden record may write back to the registry.
APPLIED_FIELDS = ("full_name", "sex", "birth_date", "deceased_on")
# The fields of a golden record's person: the applied ones, then where the person lives.
GOLDEN_PERSON_FIELDS = (*APPLIED_FIELDS, "village_code", "address")


@dataclass(frozen=True)
class _SourceRules:
    precedence: int
    authoritative: frozenset[str]
    flags: tuple[dict[str, Any], ...]
    nik_reference: bool


def _source_rules() -> dict[str, _SourceRules]:
    return {
        s.key: _SourceRules(
            precedence=s.precedence,
            authoritative=frozenset(s.config.get("authoritative_for", [])),
            flags=tuple(s.config.get("flags", [])),
            nik_reference=bool(s.config.get("nik_reference")),
        )
        for s in Source.objects.all()
    }


def _person_value(r: _Rec, field: str) -> Any:
    return r.values.get(field)


def _household_value(r: _Rec, field: str) -> Any:
    return (r.attrs.get("household") or {}).get(field)


def _pick(
    field: str,
    members: list[tuple[_Rec, _SourceRules]],
    current: Any,
    get: Any = _person_value,
) -> tuple[Any, str, str] | None:
    """The golden value of one field: the authoritative source with the highest precedence;
    within it the most common value, the registry's current value winning a tie."""
    best: list[tuple[_Rec, Any]] = []
    best_prec = None
    for r, rules in members:
        if field not in rules.authoritative:
            continue
        value = get(r, field)
        if value is None or value == "":
            continue
        if best_prec is None or rules.precedence > best_prec:
            best, best_prec = [(r, value)], rules.precedence
        elif rules.precedence == best_prec:
            best.append((r, value))
    if not best:
        return None
    rec, value = best[0] if len(best) == 1 else _resolve(best, current)
    return value, rec.source, rec.uid.split(":", 1)[1]


def _resolve(best: list[tuple[_Rec, Any]], current: Any) -> tuple[_Rec, Any]:
    """Several candidates of the same precedence: the most common value, the registry's current
    value winning a tie (else the smallest as text), from the first record that holds it."""
    counts = Counter(v for _, v in best)
    top = max(counts.values())
    winners = [v for v, n in counts.items() if n == top]
    value = current if current in winners else sorted(winners, key=str)[0]
    return next((r, v) for r, v in best if v == value)


def _person_fields(
    ruled: list[tuple[_Rec, _SourceRules]],
    reg: _Rec | None,
    authoritative: dict[str, tuple[str, ...]],
) -> dict[str, Any]:
    """`_pick` of every golden person field, in one pass over the cluster's records instead of
    one per field: this runs once per cluster, half a million times on a full run.
    `authoritative` holds each source's golden person fields; the result keeps
    GOLDEN_PERSON_FIELDS order (the order of the stored JSON)."""
    candidates: dict[str, tuple[int, list[tuple[_Rec, Any]]]] = {}
    for r, rules in ruled:
        names = authoritative[r.source]
        if not names:
            continue
        values = r.values
        precedence = rules.precedence
        for name in names:
            value = values.get(name)
            if value is None or value == "":
                continue
            held = candidates.get(name)
            if held is None or precedence > held[0]:
                candidates[name] = (precedence, [(r, value)])
            elif precedence == held[0]:
                held[1].append((r, value))
    fields: dict[str, Any] = {}
    if not candidates:
        return fields
    for name in GOLDEN_PERSON_FIELDS:
        held = candidates.get(name)
        if held is None:
            continue
        best = held[1]
        if len(best) == 1:
            rec, value = best[0]
        else:
            current = reg.values.get(name) if reg is not None and name in APPLIED_FIELDS else None
            rec, value = _resolve(best, current)
        fields[name] = {
            "value": _json(value),
            "source": rec.source,
            "record": rec.uid.split(":", 1)[1],
        }
    return fields


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _households_now(ids: set[int]) -> dict[int, dict[str, Any]]:
    """Current attribute values of the registry households that a survey record reached."""
    out: dict[int, dict[str, Any]] = {}
    ordered = sorted(ids)
    for i in range(0, len(ordered), 900):
        for row in Household.objects.filter(pk__in=ordered[i : i + 900]).values(
            "pk", *HOUSEHOLD_FIELDS
        ):
            out[row.pop("pk")] = row
    return out
