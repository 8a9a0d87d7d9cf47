"""core.bulk: plain-row inserts and updates used by the million-row integration stages, on
both databases (above 5,000 rows updates go through a temporary table and UPDATE ... FROM on
both, and SQLite inserts through a temporary table and INSERT ... SELECT)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tepat.core.bulk import insert_rows, json_text, update_rows, update_values
from tepat.programs.models import Programme, ProgrammeKind
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


PROGRAMME_COLUMNS = (
    "public_id",
    "code",
    "name",
    "kind",
    "eligibility_rule",
    "params",
    "effective_from",
    "effective_to",
    "created_at",
)


def _programmes(count: int) -> list[tuple[object, ...]]:
    start = dt.date(2026, 1, 1)
    at = dt.datetime(2026, 1, 5, 7, 0, tzinfo=dt.UTC)
    return [
        (
            f"pg{i:06d}",
            f"PKH-{i:05d}",
            f"Program {i}",
            ProgrammeKind.PKH,
            "desil <= 4",
            {"amount": i, "note": "bantuan ü", "tags": ["a", None]},
            start + dt.timedelta(days=i % 365),
            None if i % 3 else start,
            at,
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [3, 12001])
def test_json_dates_and_nulls_round_trip(count):
    # Above 5,000 rows SQLite goes through a temporary table: same values, same id order.
    rows = _programmes(count)
    insert_rows(Programme, PROGRAMME_COLUMNS, rows)
    stored = list(
        Programme.objects.order_by("id").values_list(
            "id", "code", "params", "effective_from", "effective_to", "created_at"
        )
    )
    assert [s[1:] for s in stored] == [(r[1], r[5], r[6], r[7], r[8]) for r in rows]
    ids = [s[0] for s in stored]
    # Every row, handed over in reverse: NULLs become dates and dates NULLs, JSON is replaced.
    with CaptureQueriesContext(connection) as queries:
        update_values(
            Programme,
            ("params", "effective_to", "name"),
            [
                (
                    {"amount": -i, "nested": {"k": [1, 2.5]}},
                    None if i % 2 else dt.date(2027, 6, 1),
                    f"P{i}",
                    pk,
                )
                for i, pk in reversed(list(enumerate(ids)))
            ],
        )
    assert any(q["sql"].startswith("UPDATE") and " FROM " in q["sql"] for q in queries) == (
        count > 5000
    )
    # A second batch on the same fields (the temporary table is gone or replaced).
    update_values(Programme, ("name",), [(f"Q{i}", pk) for i, pk in enumerate(ids[::2])])
    after = dict(Programme.objects.values_list("id", "params"))
    assert all(after[pk] == {"amount": -i, "nested": {"k": [1, 2.5]}} for i, pk in enumerate(ids))
    ends = dict(Programme.objects.values_list("id", "effective_to"))
    assert all(ends[pk] == (None if i % 2 else dt.date(2027, 6, 1)) for i, pk in enumerate(ids))
    names = dict(Programme.objects.values_list("id", "name"))
    assert all(names[pk] == f"Q{i}" for i, pk in enumerate(ids[::2]))
    assert all(names[pk] == f"P{i}" for i, pk in enumerate(ids) if i % 2)
    # Untouched columns stay as inserted.
    assert list(Programme.objects.order_by("id").values_list("effective_from", flat=True)) == [
        r[6] for r in rows
    ]


def test_foreign_keys_can_be_cleared_in_bulk():
    Region.objects.create(code="32", dotted_code="32", name="Jawa Barat", level=Level.PROVINCE)
    codes = [f"32{i:04d}" for i in range(6001)]
    insert_rows(
        Region,
        ("code", "dotted_code", "name", "level", "parent_id"),
        [(c, f"{c[:2]}.{c[2:]}", f"Kab {c}", Level.REGENCY, "32") for c in codes],
    )
    # Text primary keys, a NULL foreign key on every other row.
    update_values(
        Region, ("parent_id",), [(None, c) for c in codes[::2]] + [("32", c) for c in codes[1::2]]
    )
    parents = dict(Region.objects.filter(level=Level.REGENCY).values_list("code", "parent_id"))
    assert all(parents[c] is None for c in codes[::2])
    assert all(parents[c] == "32" for c in codes[1::2])


def test_pre_encoded_json_is_stored_as_is():
    rows = _programmes(6001)
    insert_rows(
        Programme,
        PROGRAMME_COLUMNS,
        [(*r[:5], json_text(r[5]), *r[6:]) for r in rows],
        encoded=("params",),
    )
    assert list(Programme.objects.order_by("id").values_list("params", flat=True)) == [
        r[5] for r in rows
    ]
