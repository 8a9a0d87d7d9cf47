"""Reads for regions: code checks, lookups, children and ancestors, names for display."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from tepat.core.errors import NotFound, TepatError
from tepat.regions.models import CODE_LENGTH, Level, Region

LEVEL_FOR_LENGTH = {length: str(level) for level, length in CODE_LENGTH.items()}
NAMES_CHUNK = 900
CHILD_LEVEL: dict[str | None, str | None] = {
    None: str(Level.PROVINCE),
    str(Level.PROVINCE): str(Level.REGENCY),
    str(Level.REGENCY): str(Level.DISTRICT),
    str(Level.DISTRICT): str(Level.VILLAGE),
    str(Level.VILLAGE): None,
}


def normalize_region_code(raw: object, *, field: str = "region_code") -> str:
    """The undotted code ("32.73.01" -> "327301"); refuses anything that cannot be a code."""
    text = "" if raw is None else str(raw)
    code = text.replace(".", "").replace(" ", "").strip()
    if not code:
        raise TepatError(
            _("Kode wilayah kosong / region code is empty"),
            code="invalid_region_code",
            field=field,
        )
    if not code.isascii() or not code.isdigit():
        raise TepatError(
            _("Kode wilayah hanya boleh angka / region code must be digits: %(code)s")
            % {"code": text},
            code="invalid_region_code",
            field=field,
        )
    if len(code) not in LEVEL_FOR_LENGTH:
        raise TepatError(
            _(
                "Kode wilayah harus 2, 4, 6 atau 10 angka / "
                "region code must have 2, 4, 6 or 10 digits: %(code)s"
            )
            % {"code": text},
            code="invalid_region_code",
            field=field,
        )
    return code


def dotted(region_code: str) -> str:
    """An undotted Kemendagri code of any level, dotted: "3273011001" -> "32.73.01.1001"."""
    c = region_code
    if len(c) not in (4, 6, 10):
        return c
    return ".".join(part for part in (c[:2], c[2:4], c[4:6], c[6:]) if part)


def level_for_code(code: str, *, field: str = "region_code") -> str:
    """The level a code's length implies: province, regency, district or village."""
    return LEVEL_FOR_LENGTH[len(normalize_region_code(code, field=field))]


def ancestor_codes(code: str, *, field: str = "region_code") -> list[str]:
    """Codes from the province down to the code itself ("327301" -> ["32", "3273", "327301"])."""
    clean = normalize_region_code(code, field=field)
    return [clean[:length] for length in sorted(LEVEL_FOR_LENGTH) if length <= len(clean)]


def _unknown(code: str, field: str) -> NotFound:
    error = NotFound(
        _("Kode wilayah tidak dikenal / unknown region code: %(code)s") % {"code": code}
    )
    error.field = field
    error.code = "unknown_region"
    return error


def region_get(code: str, *, field: str = "region_code") -> Region:
    """The region with this code, or a NotFound naming the field."""
    clean = normalize_region_code(code, field=field)
    region = Region.objects.filter(code=clean).first()
    if region is None:
        raise _unknown(clean, field)
    return region


def region_exists(code: object) -> bool:
    """Whether the code names a known region; malformed codes are simply not known."""
    try:
        clean = normalize_region_code(code)
    except TepatError:
        return False
    return Region.objects.filter(code=clean).exists()


def region_children(code: str | None = None, *, field: str = "parent") -> QuerySet[Region]:
    """Direct children in code order; the provinces when `code` is None or empty."""
    if code is None or str(code).strip() == "":
        return Region.objects.filter(level=Level.PROVINCE).order_by("code")
    parent = region_get(code, field=field)
    return Region.objects.filter(parent_id=parent.code).order_by("code")


def region_ancestors(code: str, *, field: str = "region_code") -> list[Region]:
    """The chain from the province down to the region itself (inclusive)."""
    codes = ancestor_codes(code, field=field)
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise _unknown(missing[0], field)
    return [found[c] for c in codes]


def region_names(codes: Iterable[object]) -> dict[str, str]:
    """Names for many codes in one query, keyed by the undotted code; unknown codes are left out.

    Malformed codes are left out too, so a display table never fails on one bad cell.
    """
    clean: set[str] = set()
    for raw in codes:
        try:
            clean.add(normalize_region_code(raw))
        except TepatError:
            continue
    ordered = sorted(clean)
    names: dict[str, str] = {}
    # Chunked so a long list stays under SQLite's limit on parameters per statement.
    for start in range(0, len(ordered), NAMES_CHUNK):
        chunk = ordered[start : start + NAMES_CHUNK]
        names.update(Region.objects.filter(code__in=chunk).values_list("code", "name"))
    return names


def region_counts() -> dict[str, int]:
    """Number of regions per level, every level present (0 when none)."""
    counts = {str(level): 0 for level in Level}
    rows = Region.objects.order_by().values("level").annotate(n=Count("code"))
    for level, count in rows.values_list("level", "n"):
        counts[level] = count
    return counts
