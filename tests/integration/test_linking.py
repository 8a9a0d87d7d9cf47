from __future__ import annotations

import pytest

from tepat.integration.linkage import normalize_name
from tepat.integration.models import Flag, GoldenRecord, LinkModel, LinkRun, ReviewPair
from tepat.integration.selectors import flags_for_households
from tepat.integration.services import integration_build_from_synth, link_run_execute, review_decide
from tepat.registry.loading import registry_load_directory
from tepat.registry.models import ChangeRecord, Household, Person
from tepat.registry.snapshots import open_records


def test_names_are_folded_to_one_spelling():
    assert normalize_name("Mohammad Rizky, S.Pd.") == normalize_name("MUHAMMAD RIZKI")
    assert normalize_name("Soekarno") == "SUKARNO"


@pytest.mark.slow
def test_synthetic_sources_become_golden_records_flags_and_review_pairs(synth_regions, synth_dir):
    registry_load_directory(
        acting_user=None, directory=synth_dir / "registry", source="synth", progress=False
    )
    # The registry's record of one surveyed household is out of date.
    import csv

    from tepat.core import crypto

    with (synth_dir / "sources" / "survey.csv").open(encoding="utf-8") as fh:
        surveyed_niks = [r["NIK_KRT"] for r in csv.DictReader(fh) if r["NIK_KRT"]]
    stale = next(
        p.household
        for nik in surveyed_niks
        for p in Person.objects.filter(nik_index=crypto.blind_index(nik, purpose="nik"))
    )
    survey_floor = stale.floor_area_m2
    Household.objects.filter(pk=stale.pk).update(floor_area_m2=(survey_floor or 0) + 7)
    report = integration_build_from_synth(synth_dir=synth_dir, progress=False)

    assert report.quarantined > 0
    assert {i["source"] for i in report.imports} == {
        "dukcapil",
        "dtsen",
        "bpjs",
        "asn_payroll",
        "pln",
    }
    run = LinkRun.objects.get()
    assert run.status == "done"
    assert run.model.version == 1
    assert GoldenRecord.objects.exclude(person=None).count() > 0.9 * Person.objects.count()
    golden = GoldenRecord.objects.exclude(person=None).filter(fields__has_key="full_name").first()
    assert golden is not None
    assert golden.fields["full_name"]["source"] == "dukcapil"

    # Deaths the registry missed come from Dukcapil, with the change in the history.
    assert Flag.objects.filter(kind="deceased", source="dukcapil").exists()
    died = ChangeRecord.objects.filter(source__startswith="integration:dukcapil").first()
    assert died is not None
    assert "golden record" in died.reason
    assert Flag.objects.filter(kind="civil_servant", source="asn_payroll").exists()
    # The survey decides the attributes of the households it linked to, with the history.
    surveyed = (
        GoldenRecord.objects.exclude(person=None)
        .filter(fields__has_key="household.floor_material")
        .first()
    )
    assert surveyed is not None
    assert surveyed.fields["household.floor_material"]["source"] == "dtsen"
    assert run.stats["household_updates"] >= 1
    updated = ChangeRecord.objects.get(
        entity_type="household", source="integration:dtsen", entity_id=stale.public_id
    )
    assert updated.before["floor_area_m2"] == (survey_floor or 0) + 7
    assert updated.after["floor_area_m2"] == survey_floor
    stale.refresh_from_db()
    assert stale.floor_area_m2 == survey_floor
    households = list(Household.objects.values_list("id", flat=True))
    flags = flags_for_households(households)
    assert set(flags[households[0]]) == {
        "deceased",
        "duplicate",
        "civil_servant",
        "high_electricity",
        "moved",
        "nik_not_found",
    }
    assert any(f["civil_servant"] for f in flags.values())

    # A second run reuses the saved model and honours clerical decisions.
    pair = ReviewPair.objects.filter(status="open").first()
    assert pair is not None
    review_decide(acting_user=None, pair=pair, accept=True)
    again = integration_build_from_synth(synth_dir=synth_dir, progress=False)
    assert all(i["duplicate"] for i in again.imports)
    assert LinkModel.objects.count() == 1
    latest = LinkRun.objects.order_by("-id").first()
    assert latest.model.version == 1
    from tepat.integration.models import StagedRecord

    def cluster(key: str) -> str | None:
        source, _, rid = key.partition(":")
        if source == "registry":
            return (
                GoldenRecord.objects.filter(person__public_id=rid)
                .values_list("cluster_id", flat=True)
                .first()
            )
        return (
            StagedRecord.objects.filter(source__key=source, record_id=rid, current=True)
            .values_list("cluster_id", flat=True)
            .first()
        )

    assert cluster(pair.left_key) == cluster(pair.right_key)
    assert not ReviewPair.objects.filter(pk=pair.pk, status="open").exists()
    # Running the linkage again changes nothing in the registry.
    changes = ChangeRecord.objects.count()
    link_run_execute(acting_user=None)
    assert ChangeRecord.objects.count() == changes


@pytest.mark.slow
def test_a_new_delivery_links_incrementally_and_its_changes_enter_the_history(
    synth_regions, synth_dir, tmp_path
):
    import csv
    import io

    from tepat.integration.importing import import_file
    from tepat.integration.models import StagedRecord

    registry_load_directory(
        acting_user=None, directory=synth_dir / "registry", source="synth", progress=False
    )
    integration_build_from_synth(synth_dir=synth_dir, progress=False)
    target = (
        StagedRecord.objects.filter(source__key="dukcapil", deceased_on=None)
        .exclude(person=None)
        .select_related("person")
        .first()
    )
    person = target.person
    assert person.deceased_on is None
    with (synth_dir / "sources" / "dukcapil.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames
        row = next(r for r in reader if r["source_record_id"] == target.record_id)
    row["TGL_MATI"] = "01-11-2026"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header)
    writer.writeheader()
    writer.writerow(row)
    delivery = import_file(
        acting_user=None,
        source_key="dukcapil",
        file_name="dukcapil-2026-11.csv",
        data=buf.getvalue().encode(),
    ).run
    assert delivery.accepted_rows == 1

    run = link_run_execute(acting_user=None, incremental=True)
    assert run.mode == "incremental"
    assert run.stats["new_records"] == 1
    assert LinkModel.objects.count() == 1
    person.refresh_from_db()
    assert str(person.deceased_on) == "2026-11-01"
    change = ChangeRecord.objects.filter(entity_id=person.public_id).order_by("-id").first()
    assert change.source == "integration:dukcapil"
    [(before, after)] = open_records([change])  # masks are sealed under the person's key
    assert after["deceased_on"] == "2026-11-01"
    assert after["phone_masked"] == before["phone_masked"]
    assert after["nik_masked"] == before["nik_masked"]
    assert Flag.objects.filter(person=person, kind="deceased", source="dukcapil").exists()
    new_record = StagedRecord.objects.get(run=delivery)
    assert new_record.person_id == person.pk
