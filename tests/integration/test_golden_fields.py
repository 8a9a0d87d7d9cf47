"""The golden-record shortcuts of `golden.apply._apply` against the plain rules they stand
for: the one-pass pick of the person fields against `_pick` field by field, and the ASCII name
key against `name_search_key`. No database."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from tepat.integration.golden import APPLIED_FIELDS, GOLDEN_PERSON_FIELDS, REGISTRY
from tepat.integration.golden.loading import _Rec
from tepat.integration.golden.survivorship import _json, _person_fields, _pick, _SourceRules
from tepat.integration.golden.writeback import _name_key
from tepat.registry.cleaning import name_search_key

RULES = {
    "dukcapil": _SourceRules(
        precedence=100,
        authoritative=frozenset({"full_name", "birth_date", "sex", "deceased_on", "kk"}),
        flags=(),
        nik_reference=True,
    ),
    # Same precedence as the civil registry for a name: the two tie.
    "capil2": _SourceRules(100, frozenset({"full_name", "address"}), (), False),
    "bpjs": _SourceRules(50, frozenset({"sex", "village_code", "address"}), (), False),
    "pln": _SourceRules(30, frozenset(), (), False),
}
VALUES: dict[str, list[Any]] = {
    "full_name": ["BUDI SANTOSO", "Budi Santoso", "SITI AMINAH", "", None],
    "sex": ["M", "F", "", None],
    "birth_date": [dt.date(1980, 1, 2), dt.date(1981, 3, 4), None],
    "deceased_on": [dt.date(2025, 5, 6), None, None],
    "village_code": ["3273010001", "3273010002", ""],
    "address": ["JL. MERDEKA 1", "Jl. Merdeka 1", ""],
}


def _record(rng: random.Random, n: int, source: str) -> _Rec:
    values = {field: rng.choice(options) for field, options in VALUES.items()}
    return _Rec(f"{source}:R{n}", source, n, None, values, {})


def _by_pick(ruled: list[tuple[_Rec, _SourceRules]], reg: _Rec | None) -> dict[str, Any]:
    """The loop `_person_fields` replaced: one `_pick` per wanted field."""
    fields: dict[str, Any] = {}
    wanted = frozenset().union(*(rl.authoritative for _, rl in ruled))
    for name in GOLDEN_PERSON_FIELDS:
        if name not in wanted:
            continue
        current = reg.values.get(name) if reg is not None and name in APPLIED_FIELDS else None
        picked = _pick(name, ruled, current)
        if picked is not None:
            value, src, rid = picked
            fields[name] = {"value": _json(value), "source": src, "record": rid}
    return fields


def test_one_pass_pick_equals_the_pick_of_each_field():
    rng = random.Random(5)
    authoritative = {
        key: tuple(n for n in GOLDEN_PERSON_FIELDS if n in rl.authoritative)
        for key, rl in RULES.items()
    }
    for n in range(3000):
        sources = rng.choices([*RULES, REGISTRY], k=rng.randint(1, 6))
        group = [_record(rng, n * 10 + i, s) for i, s in enumerate(sources)]
        regs = [r for r in group if r.source == REGISTRY]
        reg = regs[0] if len(regs) == 1 else None
        ruled = [(r, RULES[r.source]) for r in group if r.source in RULES]
        got = _person_fields(ruled, reg, authoritative)
        want = _by_pick(ruled, reg)
        assert got == want
        assert list(got) == list(want)  # the same key order: the same JSON text


@pytest.mark.parametrize(
    "name",
    [
        "BUDI  SANTOSO",
        "  Siti Nur'aini\t",
        "a\x1cb\x1fc\x0bd\x0ce\r\nf",
        "".join(map(chr, range(128))),
        *map(chr, range(128)),
        "José Ramírez",
        "ＢＵＤＩ ｓａｎｔｏｓｏ",
        "İbrahim ﬁrdaus",
        "Nguyễn\u00a0Văn",
        "",
    ],
)
def test_name_key_is_name_search_key(name):
    assert _name_key(name) == name_search_key(name)
