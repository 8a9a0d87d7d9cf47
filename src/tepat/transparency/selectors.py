"""Reads of the public side. Everything here is safe to show to anyone: hidden cells come out as
None, and nothing below the village or about a single person is read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tepat.core.errors import NotFound
from tepat.ledger import selectors as ledger_selectors
from tepat.regions.models import Region, RegionBoundary
from tepat.regions.selectors import (
    CHILD_LEVEL,
    level_for_code,
    normalize_region_code,
    region_names,
)
from tepat.transparency import conf
from tepat.transparency.models import AggregateCell, OpenDataRelease, RefreshRun


@dataclass(frozen=True)
class PublicCycle:
    public_id: str
    programme_code: str
    programme_name: str
    cycle_code: str
    period_start: dt.date
    period_end: dt.date


@dataclass(frozen=True)
class PublicCell:
    region_code: str
    region_name: str
    level: str
    recipients: int | None
    amount: int | None
    paid: int | None
    amount_paid: int | None

    @property
    def progress(self) -> int | None:
        """Percent of recipients paid, only where both counts are published."""
        if self.recipients is None or self.paid is None or not self.recipients:
            return None
        return round(100 * self.paid / self.recipients)

    def as_dict(self) -> dict[str, Any]:
        return {
            "region_code": self.region_code,
            "region_name": self.region_name,
            "level": self.level,
            "recipients": self.recipients,
            "amount": self.amount,
            "paid": self.paid,
            "amount_paid": self.amount_paid,
            "progress": self.progress,
        }


@dataclass(frozen=True)
class RegionTable:
    cycle: PublicCycle
    region: PublicCell
    trail: list[tuple[str, str]]  # (code, name) from the nation down to the region
    child_level: str | None
    children: list[PublicCell]


def public_cycles() -> list[PublicCycle]:
    """The cycles the last refresh published, newest first."""
    from tepat.programs.models import Cycle

    ids = AggregateCell.objects.filter(region_code="").values_list("cycle_id", flat=True)
    cycles = Cycle.objects.filter(pk__in=list(ids)).select_related("programme")
    return [
        PublicCycle(
            public_id=c.public_id,
            programme_code=c.programme.code,
            programme_name=c.programme.name,
            cycle_code=c.code,
            period_start=c.period_start,
            period_end=c.period_end,
        )
        for c in sorted(cycles, key=lambda c: (c.period_start, c.programme.code), reverse=True)
    ]


def public_cycle(public_id: str | None) -> PublicCycle:
    cycles = public_cycles()
    if not cycles:
        raise NotFound("Belum ada data yang diterbitkan / nothing published yet")
    if not public_id:
        return cycles[0]
    for c in cycles:
        if c.public_id == public_id:
            return c
    raise NotFound("Tahap tidak ditemukan / cycle not found")


def cycle_has_region(*, cycle_id: str, region_code: str) -> bool:
    return AggregateCell.objects.filter(cycle__public_id=cycle_id, region_code=region_code).exists()


def _public(cell: AggregateCell, name: str) -> PublicCell:
    return PublicCell(
        region_code=cell.region_code,
        region_name=name,
        level=cell.level,
        recipients=None if cell.recipients_hidden else cell.recipients,
        amount=None if cell.recipients_hidden else cell.amount,
        paid=None if cell.paid_hidden else cell.paid,
        amount_paid=None if cell.paid_hidden else cell.amount_paid,
    )


def region_table(*, cycle_id: str | None, region_code: str | None) -> RegionTable:
    """A region's published cell in one cycle and its children's, for drill-down."""
    cycle = public_cycle(cycle_id)
    code = normalize_region_code(region_code, field="wilayah") if region_code else ""
    level = level_for_code(code) if code else None
    child_length = {None: 2, "province": 4, "regency": 6, "district": 10, "village": None}[level]
    cells = AggregateCell.objects.filter(cycle__public_id=cycle.public_id)
    own = cells.filter(region_code=code).first()
    if own is None:
        raise NotFound("Tidak ada data untuk wilayah ini / no data for this region")
    kids: list[AggregateCell] = []
    if child_length is not None:
        kids = list(
            cells.filter(region_code__startswith=code, level=LEVELS[child_length]).order_by(
                "region_code"
            )
        )
    trail_codes = [code[:n] for n in (2, 4, 6, 10) if n <= len(code)]
    names = region_names([*trail_codes, *(k.region_code for k in kids)])
    trail = [("", "Indonesia"), *((c, names.get(c, c)) for c in trail_codes)]
    return RegionTable(
        cycle=cycle,
        region=_public(own, names.get(code, "Indonesia") if code else "Indonesia"),
        trail=trail,
        child_level=CHILD_LEVEL.get(level),
        children=[_public(k, names.get(k.region_code, k.region_code)) for k in kids],
    )


LEVELS = {2: "province", 4: "regency", 6: "district", 10: "village"}


def boundaries(*, table: RegionTable) -> dict[str, Any] | None:
    """A GeoJSON FeatureCollection of the loaded boundaries of the region's children, with the
    published values of those that have any (`has_data` false for the others, drawn blank), or
    None when no child of this region has a boundary loaded."""
    if table.child_level is None:
        return None
    by_code = {c.region_code: c for c in table.children}
    rows = RegionBoundary.objects.filter(region__level=table.child_level)
    if table.region.region_code:
        rows = rows.filter(region__parent_id=table.region.region_code)
    features = []
    for code, name, geometry in rows.values_list("region_id", "region__name", "geometry"):
        cell = by_code.get(code)
        if cell is not None:
            properties = {**cell.as_dict(), "has_data": True}
        else:
            properties = {"region_code": code, "region_name": name, "level": table.child_level}
            properties.update(recipients=None, progress=None, has_data=False)
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    if not features:
        return None
    return {"type": "FeatureCollection", "features": features}


def provinces() -> list[tuple[str, str]]:
    return list(Region.objects.filter(level="province").values_list("code", "name"))


def ledger_panel() -> dict[str, Any]:
    """The transparency log at a glance: entries, latest signed checkpoint and when."""
    checkpoint = ledger_selectors.latest_checkpoint()
    return {
        "log_size": ledger_selectors.log_size(),
        "checkpoint_size": checkpoint.size if checkpoint else None,
        "checkpoint_at": checkpoint.created_at if checkpoint else None,
        "checkpoint_note": checkpoint.note if checkpoint else "",
    }


def last_refresh() -> RefreshRun | None:
    return RefreshRun.objects.first()


def releases() -> list[OpenDataRelease]:
    return list(OpenDataRelease.objects.all()[:60])


def release_get(public_id: str) -> OpenDataRelease:
    release = OpenDataRelease.objects.filter(public_id=public_id).first()
    if release is None:
        raise NotFound()
    return release


def release_file(*, public_id: str, path: str) -> Path:
    """A file of a release, only if the release lists it (no path is ever taken from the URL)
    and it lies, symlinks resolved, inside the open-data root: a release row pointing elsewhere
    (var/keys, /etc) serves nothing."""
    release = release_get(public_id)
    for package in release.packages:
        for f in package["files"]:
            if f["path"] == path:
                full = conf.inside_opendata_root(Path(release.directory) / path)
                if full is not None and full.is_file():
                    return full
    raise NotFound()
