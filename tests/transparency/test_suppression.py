"""Small-cell suppression: nothing below the threshold is published, and no hidden value can be
recomputed from the published ones (checked with linear algebra over every relation)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.transparency.suppression import parent_code, suppress_tree, tree_of

K = 10


def _determined(
    values: dict[str, int], children: dict[str, list[str]], hidden: set[str]
) -> set[str]:
    """Hidden codes whose value follows from the published values: x_i is determined iff the
    unit vector e_i lies in the row space of the relations restricted to the hidden values."""
    unknowns = sorted(hidden)
    if not unknowns:
        return set()
    index = {code: i for i, code in enumerate(unknowns)}
    rows = []
    for parent, kids in children.items():
        row = np.zeros(len(unknowns))
        if parent in index:
            row[index[parent]] = 1
        for kid in kids:
            if kid in index:
                row[index[kid]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    out = set()
    for code, i in index.items():
        unit = np.zeros(len(unknowns))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            out.add(code)
    return out


def test_parent_codes_climb_to_the_nation() -> None:
    assert parent_code("3273011001") == "327301"
    assert parent_code("327301") == "3273"
    assert parent_code("3273") == "32"
    assert parent_code("32") == ""
    assert parent_code("") is None


def test_a_small_village_and_its_only_sibling_are_both_hidden() -> None:
    values, children = tree_of({"3273011001": 25, "3273011002": 4})
    hidden = suppress_tree(values, children, threshold=K)
    assert hidden == {"3273011001", "3273011002"}
    assert values["327301"] == 29


def test_the_smallest_sibling_is_chosen_as_the_complement() -> None:
    values, children = tree_of({"3273011001": 50, "3273011002": 3, "3273011003": 20})
    assert suppress_tree(values, children, threshold=K) == {"3273011002", "3273011003"}


def test_two_small_siblings_need_no_complement() -> None:
    values, children = tree_of({"3273011001": 50, "3273011002": 3, "3273011003": 2})
    assert suppress_tree(values, children, threshold=K) == {"3273011002", "3273011003"}


def test_zero_is_published() -> None:
    values, children = tree_of({"3273011001": 50, "3273011002": 0})
    assert suppress_tree(values, children, threshold=K) == set()


def test_a_hidden_district_forces_suppression_down_to_its_villages() -> None:
    # The district (12) is the complement of its small sibling district (3); in its own
    # relation it and its small village (1) are then two hidden members, so the village of 11
    # may stay published: 12 and 1 remain unknown.
    values, children = tree_of(
        {"3273011001": 11, "3273011002": 1, "3273021001": 3, "3273031001": 40}
    )
    hidden = suppress_tree(values, children, threshold=K)
    assert hidden == {"327302", "3273021001", "327301", "3273011002"}
    assert _determined(values, children, hidden) == set()


def test_a_small_nation_hides_everything_that_could_reveal_it() -> None:
    values, children = tree_of({"3273011001": 3})
    hidden = suppress_tree(values, children, threshold=K)
    assert hidden == {"", "32", "3273", "327301", "3273011001"}


def test_forced_codes_are_hidden_with_a_complement() -> None:
    values, children = tree_of({"3273011001": 50, "3273011002": 40, "3273011003": 60})
    hidden = suppress_tree(values, children, threshold=K, forced={"3273011003"})
    assert hidden == {"3273011003", "3273011002"}


codes = st.builds(
    lambda p, r, d, v: f"{p:02d}{r:02d}{d:02d}{v:04d}",
    st.integers(11, 13),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1001, 1004),
)


@settings(max_examples=300, deadline=None)
@given(
    leaves=st.dictionaries(
        codes, st.one_of(st.integers(0, 12), st.integers(0, 400)), min_size=1, max_size=30
    ),
    threshold=st.integers(2, 15),
)
def test_no_hidden_count_can_be_recomputed_from_published_totals(
    leaves: dict[str, int], threshold: int
) -> None:
    values, children = tree_of(leaves)
    hidden = suppress_tree(values, children, threshold=threshold)
    published = {c: v for c, v in values.items() if c not in hidden}
    assert all(v == 0 or v >= threshold for v in published.values())
    assert _determined(values, children, hidden) == set()
    # Every relation hides nothing or at least two of its members.
    for parent, kids in children.items():
        in_relation = (parent in hidden) + sum(k in hidden for k in kids)
        assert in_relation != 1
