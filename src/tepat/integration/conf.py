"""Integration settings, read from Django settings with these defaults (see the report/operations
doc for the environment variables the lead maps onto them)."""

from __future__ import annotations

import re

from django.conf import settings


def match_threshold() -> float:
    """Pairs at or above this match probability are the same person."""
    return float(getattr(settings, "TEPAT_LINK_MATCH_THRESHOLD", 0.95))


def review_threshold() -> float:
    """Pairs between this and the match threshold go to the clerical review queue."""
    return float(getattr(settings, "TEPAT_LINK_REVIEW_THRESHOLD", 0.5))


def max_upload_bytes() -> int:
    """The largest delivery the pages and the API accept in one upload (held in memory)."""
    return int(getattr(settings, "TEPAT_INTEGRATION_MAX_UPLOAD_BYTES", 200 * 1024 * 1024))


def stale_import_seconds() -> int:
    """An import that has not reported progress for this long is taken as interrupted (its
    process was killed or the server restarted): it is marked failed and can be uploaded again.
    Validation reports progress every 2,000 rows, far more often than this."""
    return int(getattr(settings, "TEPAT_IMPORT_STALE_SECONDS", 600))


def duckdb_memory_limit() -> str:
    """DuckDB's memory bound during linkage (it spills to a temporary directory beyond it)."""
    # The engine also runs without Django settings (benchmarks/bench_integration.py --engine-only).
    value = (
        str(getattr(settings, "TEPAT_LINK_DUCKDB_MEMORY", "2GB")) if settings.configured else "2GB"
    )
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip()):
        raise ValueError(f"TEPAT_LINK_DUCKDB_MEMORY: {value!r} is not a size such as 2GB")
    return value.strip()
