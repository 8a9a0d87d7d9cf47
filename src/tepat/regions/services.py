"""Writes for regions: loading the vendored Kemendagri code list and importing boundaries."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, Problems, TepatError, ValidationFailed
from tepat.regions.models import CODE_LENGTH, Level, Region, RegionBoundary
from tepat.regions.selectors import region_counts

if TYPE_CHECKING:
    # Below accounts in the layers: the concrete user model is not ours to name here.
    from django.contrib.auth.base_user import AbstractBaseUser as User


DATA_FILE = Path(__file__).resolve().parent / "data" / "wilayah.csv.gz"
DATA_COLUMNS = ["code", "dotted_code", "name", "level", "parent_code"]

# Rows per upsert statement (PostgreSQL: five arrays; SQLite: one executemany), small enough
# that the progress bar moves and memory stays flat.
UPSERT_BATCH_SIZE = 10000
UPSERT_COLUMNS = ("code", "dotted_code", "name", "level", "parent_id")  # RegionRow's order
BOUNDARY_BATCH_SIZE = 50
BOUNDARY_LEVELS = (Level.PROVINCE, Level.REGENCY)
GEOMETRY_TYPES = {"Polygon", "MultiPolygon"}
LIST_LIMIT = 20  # how many codes a report names before it says "and N more"

RegionRow = tuple[str, str, str, str, str | None]  # code, dotted_code, name, level, parent_code


@dataclass
class RegionLoadReport:
    """What `regions_load_detailed` did: counts per level afterwards, and rows written."""

    counts: dict[str, int]
    created: int
    updated: int
    unchanged: int
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class BoundaryLoadReport:
    """What `regions_load_boundaries` did, and which codes did not join."""

    level: str
    features: int
    created: int
    updated: int
    # (feature index, code as written in the file) for features naming no region at this level.
    unmatched: list[tuple[int, str]] = field(default_factory=list)
    # Codes of regions at this level that the file has no feature for.
    missing: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return self.created + self.updated


def read_region_rows(path: Path = DATA_FILE) -> Iterator[RegionRow]:
    """Rows of the vendored code list, checked for shape; a damaged file fails loudly."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != DATA_COLUMNS:
            raise TepatError(
                _("Berkas data wilayah rusak / region data file is damaged: header %(header)s")
                % {"header": header},
                code="region_data_damaged",
                field="header",
            )
        levels = {str(level): length for level, length in CODE_LENGTH.items()}
        seen: set[str] = set()
        for line, record in enumerate(reader, start=2):
            if len(record) != len(DATA_COLUMNS):
                raise TepatError(
                    _("Berkas data wilayah rusak / region data file is damaged: line %(line)d")
                    % {"line": line},
                    code="region_data_damaged",
                    row=line,
                )
            code, dotted, name, level, parent = record
            if levels.get(level) != len(code) or not code.isdigit():
                raise TepatError(
                    _(
                        "Berkas data wilayah rusak / region data file is damaged: "
                        "line %(line)d, code %(code)s, level %(level)s"
                    )
                    % {"line": line, "code": code, "level": level},
                    code="region_data_damaged",
                    field="code",
                    row=line,
                )
            if code in seen:
                raise TepatError(
                    _(
                        "Berkas data wilayah rusak / region data file is damaged: "
                        "line %(line)d repeats code %(code)s"
                    )
                    % {"line": line, "code": code},
                    code="region_data_damaged",
                    field="code",
                    row=line,
                )
            seen.add(code)
            yield code, dotted, name, level, parent or None


def regions_load(*, progress: bool = False, acting_user: User | None = None) -> dict[str, int]:
    """Load (or refresh) every Kemendagri region; returns the count per level afterwards."""
    return regions_load_detailed(progress=progress, acting_user=acting_user).counts


def regions_load_detailed(
    *, progress: bool = False, acting_user: User | None = None, path: Path = DATA_FILE
) -> RegionLoadReport:
    """Upsert the vendored code list: new codes are created, renamed or moved ones updated.

    Only rows that differ are written, so a second run writes nothing. Codes that disappear
    from the list are kept: households and history may still point at them.
    """
    started = time.perf_counter()
    rows = list(read_region_rows(path))
    with transaction.atomic(durable=True):
        existing = {
            code: (dotted, name, level, parent)
            for code, dotted, name, level, parent in Region.objects.values_list(
                "code", "dotted_code", "name", "level", "parent_id"
            ).iterator(chunk_size=10000)
        }
        to_write: list[RegionRow] = []
        created = 0
        for row in rows:
            before = existing.get(row[0])
            if before == row[1:]:
                continue
            if before is None:
                created += 1
            to_write.append(row)
        _upsert_regions(to_write, progress=progress)
        counts = region_counts()
        updated = len(to_write) - created
        if to_write:
            audit_record(
                actor=acting_user,
                action="regions.load",
                target_type="region",
                detail={"created": created, "updated": updated, "counts": counts},
            )
    return RegionLoadReport(
        counts=counts,
        created=created,
        updated=updated,
        unchanged=len(rows) - len(to_write),
        seconds=time.perf_counter() - started,
    )


def _upsert_regions(rows: list[RegionRow], *, progress: bool) -> None:
    """Insert-or-update rows in batches with one statement per batch.

    Plain SQL instead of `bulk_create`: building 91k model instances and compiling their
    placeholders cost more than the database's own work (measured: 2.9 s vs 0.8 s on SQLite).
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(Region._meta.db_table)
    columns = [quote(name) for name in UPSERT_COLUMNS]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
    head = f"INSERT INTO {table} ({', '.join(columns)})"
    tail = f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"
    bar = _progress_bar(total=len(rows), enabled=progress, desc=_("Memuat wilayah"))
    try:
        with connection.cursor() as cursor:
            for start in range(0, len(rows), UPSERT_BATCH_SIZE):
                batch = rows[start : start + UPSERT_BATCH_SIZE]
                if connection.vendor == "postgresql":
                    # One statement per batch, one array parameter per column.
                    arrays = [list(column) for column in zip(*batch, strict=True)]
                    source = "SELECT * FROM UNNEST(%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[])"
                    cursor.execute(f"{head} {source} {tail}", arrays)
                else:
                    values = ", ".join(["%s"] * len(columns))
                    cursor.executemany(f"{head} VALUES ({values}) {tail}", batch)
                bar.update(len(batch))
    finally:
        bar.close()


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(*, total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=_("wilayah"))


# --- Boundaries -------------------------------------------------------------------------------


def regions_load_boundaries(
    *,
    path: str | Path,
    level: str,
    code_property: str,
    source: str = "",
    strict: bool = False,
    acting_user: User | None = None,
) -> BoundaryLoadReport:
    """Import boundary geometries from a GeoJSON FeatureCollection, joined on Kemendagri codes.

    Codes may be dotted ("32.73") or undotted ("3273"). Features naming no known region are
    reported (or refused with `strict`); regions without a feature are reported. Any malformed
    feature refuses the whole file, so nothing is half-saved.
    """
    if level not in {str(lv) for lv in BOUNDARY_LEVELS}:
        raise TepatError(
            _(
                "Tingkat batas wilayah harus province atau regency / "
                "boundary level must be province or regency: %(level)s"
            )
            % {"level": level},
            code="invalid_level",
            field="level",
        )
    file_path = Path(path)
    collection = _read_geojson(file_path)
    features = _features_of(collection)
    length = CODE_LENGTH[Level(level)]
    known = set(Region.objects.filter(level=level).values_list("code", flat=True))
    if not known:
        raise TepatError(
            _(
                "Belum ada wilayah tingkat %(level)s; jalankan `tepat regions load` dulu / "
                "no %(level)s regions yet; run `tepat regions load` first"
            )
            % {"level": level},
            code="regions_not_loaded",
            field="level",
        )

    problems = Problems()
    geometries: dict[str, dict[str, Any]] = {}
    first_index: dict[str, int] = {}
    unmatched: list[tuple[int, str]] = []
    for index, feature in enumerate(features):
        code = _feature_code(feature, index, code_property, length, problems)
        geometry = _feature_geometry(feature, index, problems)
        if code is None or geometry is None:
            continue
        if code in first_index:
            problems.error(
                f"features[{index}].properties.{code_property}",
                "duplicate_code",
                _(
                    "kode %(code)s sudah dipakai fitur %(first)d / code already used by feature %(first)d"
                )
                % {"code": code, "first": first_index[code]},
                row=index,
            )
            continue
        first_index[code] = index
        if code not in known:
            unmatched.append((index, str(feature["properties"][code_property])))
            continue
        geometries[code] = geometry
    if strict:
        for index, raw in unmatched:
            problems.error(
                f"features[{index}].properties.{code_property}",
                "unknown_region",
                _("kode wilayah tidak dikenal / unknown region code: %(code)s") % {"code": raw},
                row=index,
            )
    problems.raise_if_errors()

    label = source or file_path.name
    with transaction.atomic(durable=True):
        had_boundary = set(
            RegionBoundary.objects.filter(region_id__in=geometries).values_list(
                "region_id", flat=True
            )
        )
        now = timezone.now()
        RegionBoundary.objects.bulk_create(
            [
                RegionBoundary(region_id=code, geometry=geom, source=label, loaded_at=now)
                for code, geom in geometries.items()
            ],
            batch_size=BOUNDARY_BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["region"],
            update_fields=["geometry", "source", "loaded_at"],
        )
        report = BoundaryLoadReport(
            level=level,
            features=len(features),
            created=len(geometries) - len(had_boundary),
            updated=len(had_boundary),
            unmatched=unmatched,
            missing=sorted(known - set(geometries)),
        )
        audit_record(
            actor=acting_user,
            action="regions.load_boundaries",
            target_type="region_boundary",
            detail={
                "level": level,
                "source": label,
                "created": report.created,
                "updated": report.updated,
                "unmatched": [raw for _i, raw in unmatched[:LIST_LIMIT]],
                "missing": report.missing[:LIST_LIMIT],
            },
        )
    return report


def _read_geojson(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TepatError(
            _("Berkas tidak dapat dibaca / file cannot be read: %(path)s (%(reason)s)")
            % {"path": path, "reason": exc.strerror or exc},
            code="file_unreadable",
            field="file",
        ) from exc
    try:
        return json.load(io.BytesIO(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TepatError(
            _("Berkas bukan JSON yang sah / file is not valid JSON: %(path)s (%(reason)s)")
            % {"path": path, "reason": exc},
            code="invalid_geojson",
            field="file",
        ) from exc


def _features_of(collection: Any) -> list[Any]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise ValidationFailed(
            [
                FieldProblem(
                    "type",
                    "invalid_geojson",
                    _(
                        "berkas harus GeoJSON FeatureCollection / file must be a GeoJSON FeatureCollection"
                    ),
                )
            ]
        )
    features = collection.get("features")
    if not isinstance(features, list):
        raise ValidationFailed(
            [
                FieldProblem(
                    "features",
                    "invalid_geojson",
                    _("`features` harus berupa daftar / `features` must be a list"),
                )
            ]
        )
    return features


def _feature_code(
    feature: Any, index: int, code_property: str, length: int, problems: Problems
) -> str | None:
    where = f"features[{index}]"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.error(
            where, "invalid_feature", _("bukan GeoJSON Feature / not a GeoJSON Feature"), row=index
        )
        return None
    properties = feature.get("properties")
    if not isinstance(properties, dict) or properties.get(code_property) in (None, ""):
        problems.error(
            f"{where}.properties.{code_property}",
            "missing_code",
            _("properti kode tidak ada / code property is missing"),
            row=index,
        )
        return None
    raw = str(properties[code_property])
    code = raw.replace(".", "").replace(" ", "").strip()
    if not code.isdigit() or len(code) != length:
        problems.error(
            f"{where}.properties.{code_property}",
            "invalid_code",
            _(
                "kode %(code)s bukan kode %(digits)d angka untuk tingkat ini / "
                "code %(code)s is not a %(digits)d-digit code for this level"
            )
            % {"code": raw, "digits": length},
            row=index,
        )
        return None
    return code


def _feature_geometry(feature: Any, index: int, problems: Problems) -> dict[str, Any] | None:
    if not isinstance(feature, dict):
        return None
    geometry = feature.get("geometry")
    if (
        not isinstance(geometry, dict)
        or geometry.get("type") not in GEOMETRY_TYPES
        or not isinstance(geometry.get("coordinates"), list)
        or not geometry["coordinates"]
    ):
        problems.error(
            f"features[{index}].geometry",
            "invalid_geometry",
            _(
                "geometri harus Polygon atau MultiPolygon dengan koordinat / "
                "geometry must be a Polygon or MultiPolygon with coordinates"
            ),
            row=index,
        )
        return None
    return geometry
