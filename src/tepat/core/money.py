"""Money is integer rupiah everywhere; this formats it for people."""

from __future__ import annotations


def format_rupiah(amount: int) -> str:
    """``1500000`` -> ``Rp1.500.000`` (Indonesian thousands separator)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")
