"""core.bulk: plain-row inserts and updates used by the million-row integration stages, on
both databases (the PostgreSQL update path switches to COPY + UPDATE ... FROM above 5,000 rows)."""

from __future__ import annotations

import datetime as dt

import pytest

from tepat.core.bulk import insert_rows, update_rows, update_values
from tepat.regions.models import Level, Region, RegionBoundary

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("count", [3, 12001])
def test_rows_are_inserted_and_updated_by_primary_key(count):
    Region.objects.create(code="32", dotted_code="32", name="Jawa Barat", level=Level.PROVINCE)
    codes = [f"32{i:04d}" for i in range(count)]
    insert_rows(
        Region,
        ("code", "dotted_code", "name", "level", "parent_id"),
        [(c, f"{c[:2]}.{c[2:]}", f"Kab {c}", Level.REGENCY, "32") for c in codes],
    )
    assert Region.objects.filter(parent_id="32").count() == count
    # Every other row renamed; the rest untouched.
    update_values(Region, ("name",), [(f"Kota {c}", c) for c in codes[::2]])
    names = dict(Region.objects.filter(parent_id="32").values_list("code", "name"))
    assert all(names[c] == f"Kota {c}" for c in codes[::2])
    assert all(names[c] == f"Kab {c}" for c in codes[1::2])


def test_json_and_datetime_values_are_adapted():
    region = Region.objects.create(
        code="32", dotted_code="32", name="Jawa Barat", level=Level.PROVINCE
    )
    at = dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)
    insert_rows(
        RegionBoundary,
        ("region_id", "geometry", "source", "loaded_at"),
        [("32", {"type": "Point", "coordinates": [107.6, -6.9]}, "BIG", at)],
    )
    boundary = RegionBoundary.objects.get(region=region)
    assert boundary.geometry == {"type": "Point", "coordinates": [107.6, -6.9]}
    assert boundary.loaded_at == at
    boundary.geometry = {"type": "Point", "coordinates": [0, 0]}
    boundary.loaded_at = at + dt.timedelta(days=1)
    update_rows(RegionBoundary, [boundary], ["geometry", "loaded_at"])
    boundary.refresh_from_db()
    assert boundary.geometry["coordinates"] == [0, 0]
    assert boundary.loaded_at == at + dt.timedelta(days=1)
