"""Hybrid targeting rules (tepat.targeting.hybrid): pure numpy, checked by hand on small
villages, then for their limits and fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from tepat.core.errors import ValidationFailed
from tepat.targeting.hybrid import (
    HybridRule,
    hybrid_compare,
    hybrid_select,
    overlap,
    rule_from_dict,
    select_within,
    village_percentile,
)

NAN = float("nan")

# One village of 10 households. The PMT (lower = poorer) orders them 0, 1, ..., 9. The
# meeting ranks household 5 poorest, then 4, 0, 1, 2, 3, 6, 7, 8, 9.
PMT = np.arange(10, dtype=float)
COMMUNITY = np.array([3, 4, 5, 6, 2, 1, 7, 8, 9, 10], dtype=float)
VILLAGE = np.array(["3273011001"] * 10)


def _chosen(selected: np.ndarray) -> list[int]:
    return np.flatnonzero(selected).tolist()


def test_the_pmt_alone_selects_the_lowest_scores_in_each_village() -> None:
    o = hybrid_select(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("pmt_only"))
    assert _chosen(o.selected) == [0, 1, 2]


def test_the_community_alone_selects_its_own_poorest() -> None:
    o = hybrid_select(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("community_only"))
    assert _chosen(o.selected) == [0, 4, 5]


def test_the_shortlist_lets_the_community_rerank_the_pmt_s_longer_list() -> None:
    # k = 2: the PMT shortlists 6 households (0..5); the meeting's order among them is
    # 5, 4, 0, 1, 2, 3, so 5, 4 and 0 are chosen.
    o = hybrid_select(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("shortlist", k=2))
    assert _chosen(o.selected) == [0, 4, 5]
    # k = 1.7: the shortlist is 0..4 (5.1 households: those mostly inside), so 4, 0, 1.
    o = hybrid_select(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("shortlist", k=1.7))
    assert _chosen(o.selected) == [0, 1, 4]
    # k = 1.5: 4.5 households, so 0..3 (the fifth would start at 4 of 4.5): the meeting's order
    # among them is the PMT's.
    o = hybrid_select(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("shortlist", k=1.5))
    assert _chosen(o.selected) == [0, 1, 2]


def test_a_shortlist_of_k_1_is_the_pmt() -> None:
    a = hybrid_select(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("shortlist", k=1))
    assert _chosen(a.selected) == [0, 1, 2]


@pytest.mark.parametrize(
    ("weight", "expected"), [(0.0, [0, 1, 2]), (1.0, [0, 4, 5]), (0.5, [0, 1, 4])]
)
def test_the_weighted_rule_moves_from_the_pmt_to_the_community(
    weight: float, expected: list[int]
) -> None:
    # Weight 0.5: average percentiles (x10 - 0.5): 0 -> (0.5+2.5)/2 = 1.5, 1 -> 2.5,
    # 4 -> (4.5+1.5)/2 = 3.0, 5 -> (5.5+0.5)/2 = 3.0, 2 -> 3.5: ties broken by the PMT (4 < 5).
    o = hybrid_select(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("weighted", weight=weight))
    assert _chosen(o.selected) == expected


def test_the_community_veto_removes_whom_the_meeting_ranks_well_off() -> None:
    # k = 1.4: the meeting's poorest 42 % (mid-rank percentile <= 0.42) are 5, 4, 0, 1; the PMT
    # then picks 0 and 1, skips the vetoed 2 and 3, and takes 4.
    o = hybrid_select(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("community_veto", k=1.4))
    assert _chosen(o.selected) == [0, 1, 4]


def test_a_yes_no_list_is_an_order_with_ties_broken_by_the_pmt() -> None:
    chosen = np.array([1, 1, 1, 1, 0, 0, 1, 1, 1, 0], dtype=float)  # 0 = chosen: 4, 5, 9
    o = hybrid_select(PMT, chosen, VILLAGE, 0.3, HybridRule("community_only"))
    assert _chosen(o.selected) == [4, 5, 9]
    o = hybrid_select(PMT, chosen, VILLAGE, 0.4, HybridRule("community_only"))
    assert _chosen(o.selected) == [0, 4, 5, 9]  # the fourth place goes to the PMT's poorest


def test_households_missing_from_a_village_s_list_rank_after_the_listed_ones() -> None:
    community = COMMUNITY.copy()
    community[[0, 4]] = NAN
    o = hybrid_select(PMT, community, VILLAGE, 0.3, HybridRule("community_only"))
    assert _chosen(o.selected) == [1, 2, 5]
    assert not o.fallback.any()


def test_a_village_without_a_ranking_falls_back_to_the_pmt_for_every_rule() -> None:
    pmt = np.r_[PMT, PMT]
    community = np.r_[COMMUNITY, np.full(10, NAN)]
    village = np.r_[VILLAGE, np.array(["3273011002"] * 10)]
    for kind in ("shortlist", "weighted", "community_veto", "community_only"):
        o = hybrid_select(pmt, community, village, 0.3, HybridRule(kind))
        assert _chosen(o.selected)[3:] == [10, 11, 12], kind
        assert o.fallback.tolist() == [False] * 10 + [True] * 10


def test_the_comparison_reports_three_lists_errors_agreement_and_fallbacks() -> None:
    pmt = np.r_[PMT, PMT]
    community = np.r_[COMMUNITY, np.full(10, NAN)]
    village = np.r_[VILLAGE, np.array(["3273011002"] * 10)]
    # Truth: in the ranked village the poorest are 5, 4, 0 (the meeting was right); in the
    # other, 10, 11, 12 (the PMT's choice).
    truth = np.r_[[3, 5, 6, 7, 2, 1, 8, 9, 10, 11], np.arange(1, 11)].astype(float) * 1000
    r = hybrid_compare(pmt, community, village, 0.3, HybridRule("shortlist", k=2), truth=truth)
    assert r["villages"] == {"total": 2, "with_community": 1, "fallback": 1}
    assert r["households"] == {"total": 20, "ranked": 10, "in_fallback_villages": 10,
                               "with_truth": 20}  # fmt: skip
    assert [r["lists"][k]["selected"] for k in ("pmt", "community", "hybrid")] == [6, 6, 6]
    # Target: the poorest 30 % by truth over everyone: 1000 x {1, 1, 2, 2, 3, 3} = households
    # 5, 10, 4, 11, 0, 12. The PMT selects 0, 1, 2, 10, 11, 12: 2 of 6 wrong each way.
    pmt_errors = r["lists"]["pmt"]["all"]
    assert pmt_errors["mistargeting"] == pytest.approx(4 / 20, abs=1e-4)
    assert pmt_errors["exclusion_error"] == pytest.approx(2 / 6, abs=1e-4)
    assert pmt_errors["inclusion_error"] == pytest.approx(2 / 14, abs=1e-4)
    assert r["lists"]["community"]["all"]["mistargeting"] == 0.0
    assert r["lists"]["hybrid"]["ranked_villages"]["mistargeting"] == 0.0
    assert r["lists"]["pmt"]["ranked_villages"]["mistargeting"] == pytest.approx(4 / 10, abs=1e-4)
    assert r["agreement"]["pmt_community"] == pytest.approx(4 / 6, abs=1e-4)
    assert r["agreement"]["community_hybrid"] == 1.0
    assert r["rank_correlation"]["community"] > r["rank_correlation"]["pmt"]
    assert r["target_share"] == 0.3


def test_without_truth_the_comparison_reports_selections_only() -> None:
    r = hybrid_compare(PMT, COMMUNITY, VILLAGE, 0.3, HybridRule("weighted"))
    assert r["target_share"] is None
    assert r["rank_correlation"] is None
    assert "all" not in r["lists"]["pmt"]


def test_quotas_may_differ_per_village() -> None:
    pmt = np.r_[PMT, PMT]
    community = np.r_[COMMUNITY, COMMUNITY]
    village = np.r_[VILLAGE, np.array(["3273011002"] * 10)]
    quota = np.r_[np.full(10, 0.2), np.full(10, 0.5)]
    o = hybrid_select(pmt, community, village, quota, HybridRule("pmt_only"))
    assert _chosen(o.selected) == [0, 1, 10, 11, 12, 13, 14]
    assert hybrid_compare(pmt, community, village, quota, HybridRule())["quota"] == "per_village"


def test_person_weights_fill_the_quota_by_persons() -> None:
    weight = np.r_[5.0, np.ones(9)]  # the poorest household holds 5 of 14 persons
    sel = select_within((PMT,), VILLAGE, 0.3, weight)
    assert _chosen(sel) == [0]  # 5 persons of a 4.2 quota: household 1 would start past it


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"kind": "majority"}, "rule"),
        ({"kind": "shortlist", "k": 0.5}, "k"),
        ({"kind": "weighted", "weight": 1.5}, "weight"),
        ({"kind": "weighted", "wieght": 0.3}, "wieght"),
    ],
)
def test_a_wrong_rule_is_refused_naming_the_field(rule: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rule_from_dict(rule)
    assert exc.value.field == field


@pytest.mark.parametrize("quota", [0.0, -0.1, 1.5, NAN])
def test_a_quota_outside_0_1_is_refused(quota: float) -> None:
    with pytest.raises(ValidationFailed) as exc:
        hybrid_select(PMT, COMMUNITY, VILLAGE, quota, HybridRule())
    assert exc.value.field == "quota"


def test_a_missing_pmt_score_is_refused() -> None:
    pmt = PMT.copy()
    pmt[3] = NAN
    with pytest.raises(ValidationFailed) as exc:
        hybrid_select(pmt, COMMUNITY, VILLAGE, 0.3, HybridRule())
    assert exc.value.field == "pmt"


def test_percentiles_share_ties_and_put_missing_values_last() -> None:
    pct = village_percentile(np.array([1.0, 1.0, 2.0, NAN]), np.array(["a"] * 4))
    assert pct.tolist() == [0.25, 0.25, 0.625, 0.875]


def test_the_overlap_of_two_lists() -> None:
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    assert overlap(a, b) == 0.5
    assert overlap(a, a) == 1.0
    assert overlap(a & False, b & False) is None


def test_the_rule_round_trips_as_data() -> None:
    rule = HybridRule("weighted", weight=0.3)
    assert rule_from_dict(rule.as_dict()) == rule
    assert rule.label == "weighted (community weight=0.3)"


def test_the_hybrid_beats_both_when_each_sees_part_of_welfare() -> None:
    # 200 villages of 30: the PMT sees assets, neighbours see income shocks; each is noisy.
    rng = np.random.default_rng(20261128)
    n, per = 6000, 30
    village = np.repeat(np.arange(n // per), per).astype(str)
    assets, shocks = rng.normal(0, 1, n), rng.normal(0, 1, n)
    log_c = assets + shocks
    pmt = assets + rng.normal(0, 0.5, n)
    community = shocks + 0.6 * assets + rng.normal(0, 0.8, n)
    r = hybrid_compare(pmt, community, village, 0.3, HybridRule("weighted"), truth=np.exp(log_c))
    err = {k: v["all"]["mistargeting"] for k, v in r["lists"].items()}
    assert err["hybrid"] < min(err["pmt"], err["community"])
