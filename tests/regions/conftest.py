"""Region fixtures: a small hand-made corner of Jawa Barat, or every Kemendagri region."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from tepat.core.models import AuditEvent
from tepat.regions.models import Region, RegionBoundary
from tepat.regions.services import RegionLoadReport, regions_load_detailed


@pytest.fixture
def west_java(db: None) -> dict[str, Region]:
    """Jawa Barat -> Kota Bandung -> Sukasari -> two villages, plus Kab. Bogor and Jawa Tengah."""
    rows = [
        ("32", "32", "Jawa Barat", "province", None),
        ("33", "33", "Jawa Tengah", "province", None),
        ("3201", "32.01", "Kabupaten Bogor", "regency", "32"),
        ("3273", "32.73", "Kota Bandung", "regency", "32"),
        ("327301", "32.73.01", "Sukasari", "district", "3273"),
        ("327302", "32.73.02", "Coblong", "district", "3273"),
        ("3273011001", "32.73.01.1001", "Sukarasa", "village", "327301"),
        ("3273011002", "32.73.01.1002", "Gegerkalong", "village", "327301"),
    ]
    regions = [
        Region(code=c, dotted_code=d, name=n, level=lv, parent_id=p) for c, d, n, lv, p in rows
    ]
    Region.objects.bulk_create(regions)
    return {r.code: r for r in regions}


def _wipe_regions() -> None:
    # Raw deletes: the ORM's collector would walk 91k self-references (PROTECT) one by one.
    with connection.cursor() as cursor:
        for model in (RegionBoundary, Region):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608 (a model's table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Audit rows are append-only (a trigger, core migration 0002); the test database's
            # superuser lifts triggers for this transaction to remove the rows it committed.
            cursor.execute("SET LOCAL session_replication_role = replica")
        AuditEvent.objects.filter(action__startswith="regions.").delete()


@pytest.fixture(scope="module")
def all_regions(django_db_setup: None, django_db_blocker) -> Iterator[RegionLoadReport]:
    """Every region, loaded once per test module (a few seconds) and removed afterwards.

    Committed outside the tests' own transactions, so each test still rolls back its changes;
    removed at the end so other modules start from an empty table.
    """
    with django_db_blocker.unblock():
        _wipe_regions()
        report = regions_load_detailed()
    yield report
    with django_db_blocker.unblock():
        _wipe_regions()
