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


def opendata_root() -> Path:
    """The one folder release files are written to and served from, symlinks resolved. It may
    not hold the rest of var/ (keys, the database): a root of var/ itself is refused."""
    root = opendata_dir().resolve()
    var = Path(settings.VAR_DIR).resolve()
    if var.is_relative_to(root):
        raise ValueError(f"the open-data folder {root} must not contain {var}")
    return root


def inside_opendata_root(path: Path) -> Path | None:
    """`path` with symlinks resolved (relative paths taken from the root) if it lies inside the
    open-data root, else None."""
    root = opendata_root()
    full = (path if path.is_absolute() else root / path).resolve()
    return full if full.is_relative_to(root) else None
