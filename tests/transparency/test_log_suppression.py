"""Issue 17: the transparency log follows the open data's small-cell rule.

Before, each `payment.sent` entry named its village, so anyone reading the log tiles counted
villages that the open data hides (fewer than 10 recipients). Now payment entries name no region,
and where the money goes is published once per cycle and area (`payments.issued`) at areas chosen
by `published_areas` over the same counts and the same `suppress_tree` as the open data.

The check is the open data's own: with the village counts as unknowns, every count the log and
the open data publish together is a linear equation over them; no count the open data hides (every
small one among them) may follow from those equations, by differencing or otherwise, and every
count the log publishes is 0 or at least the threshold. It runs on a real cycle read back from the
public log tiles, on random trees (hypothesis), and, to show it can fail, on the log as version-1
entries wrote it (one region per payment: the village).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.accounts.models import Role
from tepat.core.disclosure import ROOT, published_areas, suppress_tree, tree_of
from tepat.ledger import tiles
from tepat.ledger.selectors import log_size
from tepat.ledger.services import ledger_sequence
from tepat.payments import services as payments
from tepat.programs import services as programs
from tepat.programs.models import Cycle
from tepat.regions.models import Level, Region
from tepat.transparency.models import AggregateCell
from tepat.transparency.services import aggregates_refresh
from tests.conftest import make_staff

K = 10

# The synthetic cycle: villages of Jawa Barat, some with fewer than 10 recipients.
VILLAGES = {
    "3273011001": 25,  # Sukarasa
    "3273011002": 4,  # Gegerkalong: small
    "3273021001": 12,
    "3273021002": 3,  # small
    "3201011001": 12,  # Pondok Rajeg
    "3201021001": 15,
    "3201031001": 2,  # small
    "3201041001": 3,  # small
}
EXTRA_REGIONS = [
    ("327302", "32.73.02", "Cidadap", Level.DISTRICT, "3273"),
    ("3273021001", "32.73.02.1001", "Hegarmanah", Level.VILLAGE, "327302"),
    ("3273021002", "32.73.02.1002", "Ciumbuleuit", Level.VILLAGE, "327302"),
    ("320102", "32.01.02", "Citeureup", Level.DISTRICT, "3201"),
    ("3201021001", "32.01.02.1001", "Puspanegara", Level.VILLAGE, "320102"),
    ("320103", "32.01.03", "Cileungsi", Level.DISTRICT, "3201"),
    ("3201031001", "32.01.03.1001", "Limus Nunggal", Level.VILLAGE, "320103"),
    ("320104", "32.01.04", "Gunung Putri", Level.DISTRICT, "3201"),
    ("3201041001", "32.01.04.1001", "Wanaherang", Level.VILLAGE, "320104"),
]


def _indicator(villages: list[str], members: set[str]) -> np.ndarray:
    return np.array([1.0 if v in members else 0.0 for v in villages])


def derivable_secrets(
    leaves: Mapping[str, int],
    *,
    published: Mapping[str, int],
    log_areas: Mapping[str, str],
    secret: set[str],
) -> set[str]:
    """The `secret` nodes (region codes) whose count follows from the published open-data
    cells (`published`: node -> count) and the log's count per area (`log_areas`: village ->
    the area its payments are counted under). Unknowns are the village counts; a node's count is
    determined iff its indicator lies in the row space of what is published."""
    villages = sorted(leaves)

    def under(node: str) -> set[str]:
        return {v for v in villages if v.startswith(node)}

    rows = [_indicator(villages, under(node)) for node in published]
    for area in set(log_areas.values()):
        rows.append(_indicator(villages, {v for v, a in log_areas.items() if a == area}))
    matrix = np.array(rows) if rows else np.zeros((1, len(villages)))
    rank = np.linalg.matrix_rank(matrix)
    found = set()
    for node in secret:
        target = _indicator(villages, under(node))
        if np.linalg.matrix_rank(np.vstack([matrix, target])) == rank:
            found.add(node)
    return found


def area_counts(leaves: Mapping[str, int], log_areas: Mapping[str, str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for village, n in leaves.items():
        counts[log_areas[village]] += n
    return counts


def leaks(leaves: Mapping[str, int], log_areas: Mapping[str, str], threshold: int) -> list[str]:
    """Everything the log gives away that the open data's rule forbids. The nation's total is
    public whatever its size (`cycle.approved`), so what follows from it and the open data
    alone is the open data's business, not the log's."""
    values, children = tree_of(leaves)
    hidden = suppress_tree(values, children, threshold=threshold)
    published = {n: v for n, v in values.items() if n not in hidden} | {ROOT: values[ROOT]}
    out = [
        f"the log counts {n} in {area or 'the nation'}"
        for area, n in area_counts(leaves, log_areas).items()
        if 0 < n < threshold and area != ROOT
    ]
    before = derivable_secrets(leaves, published=published, log_areas={}, secret=hidden)
    after = derivable_secrets(leaves, published=published, log_areas=log_areas, secret=hidden)
    out += [f"{node} ({values[node]}) follows from the log" for node in sorted(after - before)]
    return out


# --- the rule on its own -------------------------------------------------------------------


def test_version_one_entries_counted_the_villages_the_open_data_hides():
    """What the check finds in the old log (one entry per payment with its village)."""
    found = leaks(VILLAGES, {v: v for v in VILLAGES}, K)
    assert "the log counts 4 in 3273011002" in found
    assert "3273011002 (4) follows from the log" in found


def test_district_level_alone_would_still_publish_small_districts():
    """Why the log does not simply name districts: three of these have 2, 3 and 3 recipients."""
    found = leaks(VILLAGES, {v: v[:6] for v in VILLAGES}, K)
    assert "the log counts 2 in 320103" in found


def test_the_published_areas_of_the_cycle_leak_nothing():
    areas = published_areas(VILLAGES, threshold=K)
    assert leaks(VILLAGES, areas, K) == []
    counts = area_counts(VILLAGES, areas)
    assert all(n >= K for n in counts.values())
    assert set(areas.values()) <= {"327301", "327302", "3201", "32", ROOT, "3273", "320101",
                                   "320102"}  # fmt: skip


villages_st = st.dictionaries(
    keys=st.tuples(
        st.sampled_from(["32", "36"]),
        st.sampled_from(["01", "73"]),
        st.sampled_from(["01", "02", "03"]),
        st.sampled_from(["1001", "1002", "2001"]),
    ).map("".join),
    values=st.integers(min_value=1, max_value=40),
    min_size=1,
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(leaves=villages_st, threshold=st.sampled_from([3, 5, 10]))
def test_no_count_below_the_threshold_follows_from_the_log_on_any_tree(leaves, threshold):
    areas = published_areas(leaves, threshold=threshold)
    assert leaks(leaves, areas, threshold) == []
    assert all(len(a) <= 6 for a in areas.values())  # never finer than a district
    total = sum(leaves.values())
    for area, n in area_counts(leaves, areas).items():
        assert n >= threshold or (area == ROOT and n == total)


# --- a real cycle, read back from the public log tiles ----------------------------------------


@pytest.fixture
def cycle(regions, supervisor, admin_user) -> Cycle:
    from tests.conftest import register_household

    for code, dotted, name, level, parent in EXTRA_REGIONS:
        Region.objects.create(code=code, dotted_code=dotted, name=name, level=level,
                              parent_id=parent)  # fmt: skip
    maker = make_staff("op_jabar", Role.OPERATOR, ("32",))
    serial = 0
    households = []
    for village, n in VILLAGES.items():
        for _ in range(n):
            serial += 1
            households.append(register_household(serial, village=village, bank=None))
    programme = programs.programme_create(
        acting_user=admin_user, code="PKH-2026", name="PKH 2026", kind="pkh",
        eligibility_rule="desil <= 4", effective_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    c = programs.cycle_create(
        acting_user=maker, programme=programme, code="2026-T1", instalment=1,
        period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31), control_count=1000,
        control_amount=10**10, region_code="32",
    )  # fmt: skip
    programs.cycle_compute(acting_user=maker, cycle=c, desil={h.id: 1 for h in households})
    programs.cycle_submit(acting_user=maker, cycle=c)
    programs.cycle_approve(acting_user=supervisor, cycle=c)
    payments.payments_issue(acting_user=maker, cycle=c)
    ledger_sequence(max_batch=10_000)
    return c


def _log_from_tiles(client: Any) -> list[dict[str, Any]]:
    """Every entry of the log as anyone downloads it: the public entry bundles."""
    size = log_size()
    out = []
    for index in range(0, (size + tiles.WIDTH - 1) // tiles.WIDTH):
        width = min(tiles.WIDTH, size - index * tiles.WIDTH)
        r = client.get("/ledger/" + tiles.tile_path("entries", index, width))
        assert r.status_code == 200
        out += [json.loads(b) for b in tiles.parse_entry_bundle(r.content)]
    return out


def test_the_log_of_a_cycle_with_small_villages_passes_the_open_datas_rule(cycle, client):
    logged = _log_from_tiles(client)
    assert len(logged) == log_size() > 0
    # Only the per-area entries say where money goes; no other entry names a region.
    issued = [e for e in logged if e["kind"] == "payments.issued"]
    assert issued
    for e in logged:
        if e["kind"] != "payments.issued":
            assert "region" not in e
            assert "area" not in e
    counts = {e.get("area", "").replace(".", ""): e["payments"] for e in issued}
    assert sum(counts.values()) == sum(VILLAGES.values())
    assert all(n >= K for n in counts.values()), counts
    # The open data of the same cycle, from the real refresh (dashboard, API and files).
    aggregates_refresh(threshold=K)
    cells = AggregateCell.objects.filter(cycle=cycle)
    published = {c.region_code: c.recipients for c in cells if not c.recipients_hidden}
    hidden = {c.region_code for c in cells if c.recipients_hidden}
    assert {"3273011002", "3273021002", "3201031001", "3201041001"} <= hidden
    # Every village counted under the area the log names for it: the area that holds it.
    village_area = {}
    for v in VILLAGES:
        village_area[v] = max((a for a in counts if v.startswith(a)), key=len)
    assert area_counts(VILLAGES, village_area) == Counter(counts)
    assert derivable_secrets(VILLAGES, published=published, log_areas=village_area,
                             secret=hidden) == set()  # fmt: skip
    # Cycle totals stay exact: the areas add up to what was approved.
    approved = next(e for e in logged if e["kind"] == "cycle.approved")
    assert sum(e["total_amount"] for e in issued) == approved["total_amount"]


def test_the_dashboard_shows_no_count_the_log_would_need_hidden(cycle, client):
    """The dashboard and the log agree: every area the log names is a cell the dashboard
    publishes, so a reader of both learns nothing that either hides."""
    aggregates_refresh(threshold=K)
    visible = set(
        AggregateCell.objects.filter(cycle=cycle, recipients_hidden=False).values_list(
            "region_code", flat=True
        )
    )
    areas = {e.get("area", "").replace(".", "") for e in _log_from_tiles(client)
             if e["kind"] == "payments.issued"}  # fmt: skip
    assert areas <= visible | {ROOT}
    assert client.get("/transparansi/").status_code == 200
