"""Small-cell disclosure control over the region hierarchy, shared by every public output.

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

The transparency log follows the same rule through `published_areas`: it never names a region
whose count the open data hides, and every region it names holds 0 or at least `threshold`
of the cycle's payments, counted after its published sub-regions are taken out (so differencing
two published areas cannot give a small count either). It lives in the shared kernel because the
apps that write the log (payments) sit below the transparency pages that publish the open data.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from django.conf import settings

ROOT = ""  # the nation
_PARENT_LENGTH = {2: 0, 4: 2, 6: 4, 10: 6}
DEFAULT_THRESHOLD = 10
DISTRICT = 6  # the length of an undotted district (kecamatan) code


def suppression_threshold() -> int:
    """The smallest count published: TRANSPARENCY_SUPPRESSION_THRESHOLD, else
    TEPAT_SUPPRESSION_THRESHOLD, else 10. Below 2 would publish single households."""
    raw = getattr(settings, "TRANSPARENCY_SUPPRESSION_THRESHOLD", None)
    if raw is None:
        # The environment's TEPAT_SUPPRESSION_THRESHOLD, read by the settings when named.
        raw = getattr(settings, "TEPAT_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD)
    value = int(str(raw))
    if value < 2:
        raise ValueError("the suppression threshold must be at least 2")
    return value


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


def published_areas(
    leaf_values: Mapping[str, int], *, threshold: int, deepest: int = DISTRICT
) -> dict[str, str]:
    """Each village's published area for one cycle: village code -> area code ("" = nation).

    Candidate areas are the nodes at most `deepest` long (districts by default: never a village)
    that the open data publishes for the same counts (`suppress_tree`), and the nation. An area's
    published count is what is left of it once its published sub-areas are taken out; bottom-up,
    an area whose remainder would be small (1..threshold-1) absorbs its sub-area with the smallest
    remainder (each of which is already 0 or >= threshold) until its own remainder is 0 or large
    enough. So every published count, and every sum or difference of them, is 0 or >= threshold,
    and each is a difference of values the open data publishes: nothing hidden there follows
    from the log. Only the nation may stay small (a cycle's total is public in `cycle.approved`).
    """
    values, children = tree_of(leaf_values)
    hidden = suppress_tree(values, children, threshold=threshold)
    areas = {
        code
        for code, n in values.items()
        if code != ROOT and len(code) <= deepest and n > 0 and code not in hidden
    }
    areas.add(ROOT)

    def area_above(code: str) -> str:
        up = parent_code(code)
        while up is not None and up not in areas:
            up = parent_code(up)
        return up if up is not None else ROOT

    subs: dict[str, set[str]] = {a: set() for a in areas}
    for a in areas:
        if a != ROOT:
            subs[area_above(a)].add(a)

    def remainder(a: str) -> int:
        return values[a] - sum(values[s] for s in subs[a])

    for area in [*sorted(areas - {ROOT}, key=lambda c: (-len(c), c)), ROOT]:
        while is_small(remainder(area), threshold) and subs[area]:
            rest = {s: remainder(s) for s in subs[area]}
            positive = [s for s in rest if rest[s] > 0]
            pick = min(positive or rest, key=lambda s: (rest[s], values[s], s))
            subs[area].discard(pick)
            subs[area] |= subs.pop(pick)
            areas.discard(pick)
    out: dict[str, str] = {}
    for village in leaf_values:
        node: str | None = village
        while node is not None and node not in areas:
            node = parent_code(node)
        out[village] = node if node is not None else ROOT
    return out
