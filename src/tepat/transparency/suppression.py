"""Small-cell suppression for counts published over the region hierarchy.

Every published table is a slice of one tree per cycle and measure: the nation, its provinces,
regencies, districts and villages, each node the sum of its children. Primary suppression hides
any count in 1..threshold-1. Secondary suppression then makes sure that in every relation "a
parent equals the sum of its children" either nothing or at least two of its members are hidden.
The relations form a tree, so that rule is enough: a hidden value can always be moved by some
amount and balanced by another hidden value of each relation it is in, without touching anything
published (the property test in tests/transparency/test_suppression.py checks it with linear
algebra). Decisions are taken top-down, so a value published at a higher level is never hidden
below it, and the same flags serve the dashboard, the API and the open-data files alike.

Zero is published: an empty cell says that nobody there receives, which identifies nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

ROOT = ""  # the nation
_PARENT_LENGTH = {2: 0, 4: 2, 6: 4, 10: 6}


def parent_code(code: str) -> str | None:
    """ "3273011001" -> "327301" -> "3273" -> "32" -> "" (the nation) -> None."""
    if code == ROOT:
        return None
    return code[: _PARENT_LENGTH[len(code)]]


def is_small(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def suppress_tree(
    values: Mapping[str, int],
    children: Mapping[str, list[str]],
    *,
    threshold: int,
    root: str = ROOT,
    forced: AbstractSet[str] = frozenset(),
) -> set[str]:
    """The codes whose value must be hidden. `values` holds every node of the tree, `children`
    each internal node's children; each parent's value is the sum of its children's. `forced`
    codes are hidden as if they were small (e.g. where a related count is small)."""
    hidden: set[str] = set()
    if is_small(values.get(root, 0), threshold) or root in forced:
        hidden.add(root)
    queue = [root]
    while queue:
        parent = queue.pop()
        kids = children.get(parent, [])
        if not kids:
            continue
        for kid in kids:
            if is_small(values[kid], threshold) or kid in forced:
                hidden.add(kid)
        in_relation = (parent in hidden) + sum(1 for kid in kids if kid in hidden)
        if in_relation == 1:
            # One hidden member would be the parent minus the others: hide one more child, the
            # smallest non-zero one (least information lost), a zero one only if nothing else.
            candidates = sorted(
                (kid for kid in kids if kid not in hidden),
                key=lambda kid: (values[kid] == 0, values[kid], kid),
            )
            if candidates:
                hidden.add(candidates[0])
        queue.extend(kids)
    return hidden


def tree_of(leaf_values: Mapping[str, int]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Roll village (or any leaf) values up to the nation: every node's value and children."""
    values: dict[str, int] = {}
    children: dict[str, set[str]] = {}
    for code, value in leaf_values.items():
        node: str | None = code
        child: str | None = None
        while node is not None:
            values[node] = values.get(node, 0) + value
            if child is not None:
                children.setdefault(node, set()).add(child)
            child, node = node, parent_code(node)
    values.setdefault(ROOT, 0)
    return values, {k: sorted(v) for k, v in children.items()}
