"""Settings of the public outputs, read at call time so tests can override them."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

DEFAULT_THRESHOLD = 10


def suppression_threshold() -> int:
    """The smallest count published: TRANSPARENCY_SUPPRESSION_THRESHOLD, else
    TEPAT_SUPPRESSION_THRESHOLD, else 10. Below 2 would publish single households."""
    raw = getattr(settings, "TRANSPARENCY_SUPPRESSION_THRESHOLD", None)
    if raw is None:
        raw = os.environ.get("TEPAT_SUPPRESSION_THRESHOLD", str(DEFAULT_THRESHOLD))
    value = int(str(raw))
    if value < 2:
        raise ValueError("the suppression threshold must be at least 2")
    return value


def opendata_dir() -> Path:
    """Where `transparency export` writes by default: <var>/opendata."""
    return Path(getattr(settings, "TRANSPARENCY_OPENDATA_DIR", settings.VAR_DIR / "opendata"))
