"""The linkage load reads dates as ISO text from the database (no date objects per row), and a
large bulk update on SQLite drops and rebuilds the indexes on its columns: what either shortcut
skips must not show."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from tepat.core import bulk
from tepat.integration.golden import loading as golden
from tepat.integration.importing import import_file
from tepat.integration.models import StagedRecord
from tepat.integration.services import sources_ensure_builtin
from tepat.registry.loading import registry_load_directory
from tepat.registry.models import Person


def _registry_and_civil_registry(synth_dir: Any, delivered_on: dt.date | None = None) -> None:
    """The synthetic registry loaded and the civil registry's file imported."""
    registry_load_directory(
        acting_user=None, directory=synth_dir / "registry", source="synth", progress=False
    )
    sources_ensure_builtin()
    import_file(
        acting_user=None,
        source_key="dukcapil",
        file_name="dukcapil.csv",
        data=(synth_dir / "sources" / "dukcapil.csv").read_bytes(),
        delivered_on=delivered_on,
    )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def test_the_load_holds_the_dates_of_the_database_as_iso_text(synth_regions, synth_dir):
    _registry_and_civil_registry(synth_dir, delivered_on=dt.date(2025, 3, 1))
    StagedRecord.objects.filter(pk=StagedRecord.objects.order_by("pk")[0].pk).update(
        deceased_on=dt.date(2024, 12, 31)
    )
    frame, recs = golden._load_records()
    by_pk = {(r.source == golden.REGISTRY, r.pk): r for r in recs.values()}
    staged = StagedRecord.objects.filter(current=True).values_list(
        "pk", "birth_date", "deceased_on", "run__delivered_on"
    )
    # Registry birth dates are held encrypted: read back through the model.
    people = [(p.pk, p.birth_date, p.deceased_on) for p in Person.objects.all()]
    assert len(staged) + len(people) == len(recs) == len(frame)
    for pk, born, died, on in staged:
        r = by_pk[False, pk]
        assert (r.values["birth_date"], r.values["deceased_on"]) == (_iso(born), _iso(died))
        assert r.delivered_on == on
        assert isinstance(r.delivered_on, dt.date)
    for pk, born, died in people:
        r = by_pk[True, pk]
        assert (r.values["birth_date"], r.values["deceased_on"]) == (_iso(born), _iso(died))
    assert any(r.values["deceased_on"] == "2024-12-31" for r in recs.values())
    born_of = {uid: r.values["birth_date"] or "" for uid, r in recs.items()}
    assert dict(zip(frame["unique_id"], frame["birth_date"], strict=True)) == born_of


def _indexes() -> dict[str, object]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, StagedRecord._meta.db_table)


def test_a_large_update_keeps_the_indexes_and_sets_every_row(synth_regions, synth_dir, monkeypatch):
    _registry_and_civil_registry(synth_dir)
    before = _indexes()
    pks = list(StagedRecord.objects.order_by("pk").values_list("pk", flat=True))
    person = Person.objects.values_list("pk", flat=True).first()
    # The temporary-table path without thousands of rows.
    monkeypatch.setattr(bulk, "_CHUNK", 10)
    bulk.update_values(
        StagedRecord, ("cluster_id", "person_id"), [(f"c{pk % 7}", person, pk) for pk in pks]
    )
    assert _indexes() == before
    assert StagedRecord.objects.filter(cluster_id="c3").count() == sum(pk % 7 == 3 for pk in pks)
    assert not StagedRecord.objects.exclude(person_id=person).exists()
    # A few rows of a large table: the indexes stay (the update goes row by row through them).
    bulk.update_values(StagedRecord, ("cluster_id",), [(f"d{pk}", pk) for pk in pks[:20]])
    assert _indexes() == before
    assert StagedRecord.objects.filter(cluster_id__startswith="d").count() == 20
