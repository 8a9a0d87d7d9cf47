"""Small-count protection for the counts targeting shows to staff (rule checks, scenario results).

A rule check is a query over personal data: `village == "3273011001" and head_age == 35` that
counts 1, then `... and n_severe_disability > 0`, reads one person's disability. So a count is
shown only when it lies in [threshold, total - threshold]; otherwise it is hidden ("< 10" or
"> total - 10"). Zero is hidden too (unlike the published tables): with a rule known to match
one household, 0 against 1 would answer the question just as well. Hiding the complement stops
the same trick from the other side (a rule that matches everyone but one). Whether a count is
hidden depends only on the range it falls in, so the hiding itself says no more than the range.

What this does not stop: differencing two large counts (57 against 56). Every check is audited
with its rule text and scope, which is the control for that (docs/threat-model.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

DEFAULT_MIN_CELL = 10


def min_cell() -> int:
    """TEPAT_MIN_CELL: the smallest count shown (default 10; below 2 would show single people)."""
    value = int(getattr(settings, "TEPAT_MIN_CELL", DEFAULT_MIN_CELL))
    if value < 2:
        raise ValueError("TEPAT_MIN_CELL must be at least 2")
    return value


@dataclass(frozen=True)
class Shown:
    """A count as shown: the number, or None and a range in words when hidden."""

    value: int | None
    text: str

    @property
    def hidden(self) -> bool:
        return self.value is None


def count_shown(count: int, total: int, threshold: int) -> Shown:
    """`count` out of `total`, hidden when it or its complement is under `threshold`."""
    if total < threshold or count < threshold:
        return Shown(None, f"< {threshold}")
    if total - count < threshold:
        return Shown(None, f"> {total - threshold}")
    return Shown(count, str(count))


def total_shown(total: int, threshold: int) -> Shown:
    if total < threshold:
        return Shown(None, f"< {threshold}")
    return Shown(total, str(total))


_COUNTS = ("eligible", "selected")
_TRUTH_RATES = ("inclusion_error", "exclusion_error", "leakage", "with_truth")


def _row_suppressed(row: dict[str, Any], threshold: int) -> dict[str, Any]:
    """One group's metrics with small counts hidden (None) and the names of what was hidden.

    A group under the threshold shows nothing but that it is small; a hidden selected count also
    hides coverage (coverage times households gives it back); error rates need at least
    `threshold` households with known truth."""
    households = int(row.get("households", 0))
    out: dict[str, Any] = {"households": total_shown(households, threshold).value}
    hidden: list[str] = []
    if out["households"] is None:
        hidden = ["households", *(k for k in row if k != "households")]
        out.update(dict.fromkeys(row.keys() - {"households"}))
        out["hidden"] = sorted(hidden)
        return out
    for key in _COUNTS:
        if key in row:
            shown = count_shown(int(row[key]), households, threshold)
            out[key] = shown.value
            if shown.hidden:
                hidden.append(key)
    if "coverage" in row:
        out["coverage"] = None if "selected" in hidden else row["coverage"]
        if out["coverage"] is None:
            hidden.append("coverage")
    if "with_truth" in row:
        truth_small = int(row["with_truth"]) < threshold
        for key in _TRUTH_RATES:
            if key in row:
                out[key] = None if truth_small else row[key]
                if truth_small:
                    hidden.append(key)
    for key, value in row.items():
        out.setdefault(key, value)
    if hidden:
        out["hidden"] = sorted(set(hidden))
    return out


def results_suppressed(results: dict[str, Any], threshold: int) -> dict[str, Any]:
    """A scenario evaluation's results as staff may see them: every group's small counts hidden.

    The stored results keep the exact figures (read only through the database by those who run
    it); pages and the API show this."""
    out: dict[str, Any] = {}
    for key, value in results.items():
        if key == "overall" and isinstance(value, dict):
            out[key] = _row_suppressed(value, threshold)
        elif key.startswith("by_") and isinstance(value, dict):
            out[key] = {
                g: _row_suppressed(m, threshold) if isinstance(m, dict) else m
                for g, m in value.items()
            }
        elif key == "truth_households":
            out[key] = total_shown(int(value), threshold).value
        else:
            out[key] = value
    out["threshold"] = threshold
    return out
