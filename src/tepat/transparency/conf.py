"""Settings of the public outputs, read at call time so tests can override them."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from tepat.core.disclosure import DEFAULT_THRESHOLD, suppression_threshold

# The threshold is the shared kernel's, so that the log and the open data use one number.
__all__ = [
    "DEFAULT_THRESHOLD",
    "inside_opendata_root",
    "opendata_dir",
    "opendata_root",
    "suppression_threshold",
]


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
