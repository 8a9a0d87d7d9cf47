"""Less to steal: the registry keeps only the birth year in clear; the full birth date is
encrypted (bound to the person's row), because a NIK is district + birth date + a serial that
is nearly always 0001, and a clear date beside the NIK's blind index gave the NIK away.

Everything that needs exact ages (PKH components, PMT features, the household page) still gets
the same answers: checked against dates set here and against a synthetic region's own files."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from tepat.core import crypto
from tepat.core.models import AuditEvent
from tepat.registry import sealed, selectors
from tepat.registry.loading import registry_load_directory
from tepat.registry.models import Household, Person
from tepat.registry.services import household_register, person_update
from tests.conftest import make_household, make_members

ON = dt.date(2026, 11, 28)


def _raw_person(pk: int) -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_person WHERE id = %s", [pk])
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.mark.django_db
def test_the_stored_row_holds_the_birth_year_and_no_full_birth_date(bandung_household):
    head = bandung_household.members.get(relationship="head")  # born 1980-05-12
    row = _raw_person(head.pk)
    assert "birth_date" not in row
    assert row["birth_year"] == 1980
    text = " ".join(str(v) for v in row.values())
    for clear in ("1980-05-12", "12-05-1980", "120580", "1980-5-12"):
        assert clear not in text
    assert sealed.unseal(
        str(row["birth_date_enc"]), context=sealed.BIRTH_DATE, row=head.public_id
    ) == ("1980-05-12")


@pytest.mark.django_db
def test_one_persons_birth_date_reads_back_through_the_model(bandung_household):
    head = Person.objects.get(household=bandung_household, relationship="head")
    assert head.birth_date == dt.date(1980, 5, 12)
    assert head.birth_year == 1980


@pytest.mark.django_db
def test_birth_dates_of_many_persons_come_back_in_bulk(bandung_household, bogor_household):
    ids = list(Person.objects.order_by("id").values_list("id", flat=True))
    dates = selectors.birth_dates(person_ids=ids)
    assert len(dates) == 6
    assert sorted({d.isoformat() for d in dates.values()}) == [
        "1980-05-12",
        "1984-02-03",
        "2014-07-20",
    ]


@pytest.mark.django_db
def test_a_corrected_birth_date_changes_the_year_and_the_sealed_date(
    bandung_operator, bandung_household
):
    child = bandung_household.members.get(relationship="child")
    person_update(
        acting_user=bandung_operator,
        person=child,
        changes={"birth_date": "2015-01-31"},
        source="test",
        reason="akta kelahiran",
    )
    row = _raw_person(child.pk)
    assert row["birth_year"] == 2015
    assert "2015-01-31" not in str(row["birth_date_enc"])
    assert Person.objects.get(pk=child.pk).birth_date == dt.date(2015, 1, 31)


@pytest.mark.django_db
def test_members_are_listed_eldest_first_by_full_date_within_a_year(regions):
    members = make_members()
    members[1]["birth_date"] = "1980-02-03"  # the wife: same year as the head, earlier
    members[1]["nik"] = "3273014302800001"
    h = household_register(
        acting_user=None, source="test", household=make_household(), members=members
    )
    view = selectors.household_view(household=h, today=ON)
    assert [m.person.full_name for m in view.members] == [
        "Siti Nurhaliza",
        "Asep Sunandar",
        "Muhammad Rizki",
    ]
    assert [m.age for m in view.members] == [46, 46, 12]


@pytest.mark.django_db
def test_the_api_still_gives_authorised_readers_the_full_date_and_audits_it(
    staff_client, bandung_operator, bandung_household
):
    data = (
        staff_client(bandung_operator)
        .get(f"/api/registry/households/{bandung_household.public_id}")
        .json()
    )
    assert {m["full_name"]: m["birth_date"] for m in data["members"]} == {
        "Asep Sunandar": "1980-05-12",
        "Siti Nurhaliza": "1984-02-03",
        "Muhammad Rizki": "2014-07-20",
    }
    assert AuditEvent.objects.filter(
        action="household.view", target_id=bandung_household.public_id
    ).exists()


def _household_with_ages(serial: int, dates: list[str]) -> Household:
    members = []
    for i, born in enumerate(dates):
        d = dt.date.fromisoformat(born)
        members.append(
            {
                "nik": f"327301{d:%d%m%y}{serial * 10 + i:04d}",
                "full_name": f"Warga {'ABCDEFGH'[serial]}{'abcdefgh'[i]}",
                "sex": "M",
                "birth_date": born,
                "relationship": "head" if i == 0 else "child",
            }
        )
    return household_register(
        acting_user=None,
        source="test",
        household=make_household(serial=serial),
        members=members,
    )


@pytest.mark.django_db
def test_pkh_components_count_ages_to_the_day(regions):
    """Exact ages at the reference date: a birthday today counts, tomorrow's does not; the
    birth year alone would get every one of these wrong one way or the other."""
    from tepat.programs.calc import pkh_counts

    a = _household_with_ages(1, ["1966-11-28", "2020-11-28", "2019-11-29"])  # 60, 6, 6
    b = _household_with_ages(2, ["1966-11-29", "2019-11-28", "2020-11-29"])  # 59, 7, 5
    ids = np.array(sorted([a.pk, b.pk]), dtype=np.int64)
    counts = pkh_counts(ids, ON, 60)
    got = {
        hid: (int(counts["elderly"][i]), int(counts["child_0_6"][i])) for i, hid in enumerate(ids)
    }
    assert got == {a.pk: (1, 2), b.pk: (0, 1)}


@pytest.mark.django_db
def test_targeting_features_use_the_full_birth_date(regions):
    from tepat.targeting.features import household_features

    a = _household_with_ages(1, ["1966-11-28", "2021-11-29", "2021-11-28"])
    frame = household_features(household_ids=[a.pk], on=ON)
    col = frame.columns
    head_days = (ON - dt.date(1966, 11, 28)).days
    assert col["head_age"][0] == head_days // 365.2425
    under5 = sum(
        (ON - dt.date.fromisoformat(d)).days // 365.2425 < 5 for d in ("2021-11-29", "2021-11-28")
    )
    assert col["n_under5"][0] == under5
    assert col["n_elderly"][0] == 1


# --- The same answers on a synthetic region, computed from the region's own files. ---


@pytest.fixture(scope="module")
def small_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tepat.synth.services import generate

    out = tmp_path_factory.mktemp("synth-birth")
    generate(region_code="3273", persons=400, seed=11, out_dir=out, progress=False)
    return out


@pytest.fixture
def loaded_synth(db, small_synth: Path) -> Path:
    from tepat.regions.models import Level, Region

    with (small_synth / "registry" / "households.csv").open(encoding="utf-8") as fh:
        villages = {row["village_code"] for row in csv.DictReader(fh)}
    Region.objects.create(code="32", dotted_code="32", name="Jawa Barat", level=Level.PROVINCE)
    Region.objects.create(
        code="3273", dotted_code="32.73", name="Kota Bandung", level=Level.REGENCY, parent_id="32"
    )
    for code in sorted({v[:6] for v in villages}):
        Region.objects.create(
            code=code, dotted_code=code, name=code, level=Level.DISTRICT, parent_id="3273"
        )
    for code in sorted(villages):
        Region.objects.create(
            code=code, dotted_code=code, name=code, level=Level.VILLAGE, parent_id=code[:6]
        )
    registry_load_directory(
        acting_user=None, directory=small_synth / "registry", source="test", today=ON
    )
    return small_synth


def _truth(synth: Path) -> dict[int, list[dict[str, str]]]:
    """Living persons of the synthetic files, by registry household id (through the KK)."""
    by_kk = dict(Household.objects.values_list("kk_index", "id"))
    out: dict[int, list[dict[str, str]]] = defaultdict(list)
    with (synth / "registry" / "persons.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row["deceased_on"]:
                out[by_kk[crypto.blind_index(row["kk"], purpose="kk")]].append(row)
    return out


def _exact_age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_pkh_counts_on_a_synthetic_region_match_its_files(loaded_synth):
    from tepat.programs.calc import pkh_counts

    truth = _truth(loaded_synth)
    ids = np.array(sorted(truth), dtype=np.int64)
    counts = pkh_counts(ids, ON, 70)
    for i, hid in enumerate(ids):
        ages = [_exact_age(dt.date.fromisoformat(r["birth_date"]), ON) for r in truth[hid]]
        assert counts["child_0_6"][i] == sum(a <= 6 for a in ages)
        assert counts["elderly"][i] == sum(a >= 70 for a in ages)
        assert counts["sd"][i] == sum(r["school_level"] == "sd" for r in truth[hid])
    assert counts["child_0_6"].sum() > 0
    assert counts["elderly"].sum() > 0


def test_pmt_features_on_a_synthetic_region_match_its_files(loaded_synth):
    from tepat.targeting.features import household_features

    truth = _truth(loaded_synth)
    frame = household_features(on=ON)
    assert sorted(frame.household_id.tolist()) == sorted(truth)

    def years(row: dict[str, str]) -> int:
        return int((ON - dt.date.fromisoformat(row["birth_date"])).days // 365.2425)

    for i, hid in enumerate(frame.household_id.tolist()):
        rows = truth[hid]
        head = next(r for r in rows if r["relationship"] == "head")
        assert frame.columns["head_age"][i] == years(head)
        assert frame.columns["n_under5"][i] == sum(years(r) < 5 for r in rows)
        assert frame.columns["n_elderly"][i] == sum(years(r) >= 60 for r in rows)
        assert frame.columns["household_size"][i] == len(rows)


# --- The data migration: clear dates of an existing database become year + sealed date. ---


@pytest.mark.django_db(transaction=True)
def test_the_migrations_seal_existing_birth_dates_and_bind_old_tokens_both_ways():
    """Back to 0002 (clear dates, column-only tokens) and forward again, on real rows."""
    from django.db.migrations.executor import MigrationExecutor

    from tepat.regions.models import Level, Region

    for code, level, parent in (
        ("32", Level.PROVINCE, None),
        ("3273", Level.REGENCY, "32"),
        ("327301", Level.DISTRICT, "3273"),
        ("3273011001", Level.VILLAGE, "327301"),
    ):
        Region.objects.create(code=code, dotted_code=code, name=code, level=level, parent_id=parent)
    h = household_register(
        acting_user=None, source="test", household=make_household(), members=make_members()
    )
    head = h.members.get(relationship="head")

    before = [("registry", "0002_person_restricted_erased")]
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    MigrationExecutor(connection).migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        OldPerson = old.get_model("registry", "Person")
        OldHousehold = old.get_model("registry", "Household")
        # Backwards: the clear date is back and the tokens are column-only again.
        old_head = OldPerson.objects.get(public_id=head.public_id)
        assert old_head.birth_date == dt.date(1980, 5, 12)
        assert crypto.decrypt(old_head.nik_enc, context=sealed.NIK) == "3273011205800001"
        # A row written by the old code, after which the migrations run forward.
        OldPerson.objects.create(
            public_id="pp00000000000001",
            nik_enc=crypto.encrypt("3273012902160001", context=sealed.NIK),
            nik_index="nik-leap-day",
            household=OldHousehold.objects.get(public_id=h.public_id),
            relationship="child",
            full_name="Anak Kabisat",
            name_search="anak kabisat",
            sex="M",
            birth_date=dt.date(2016, 2, 29),
        )
    finally:
        MigrationExecutor(connection).migrate(leaves)

    people = {p.public_id: p for p in Person.objects.all()}
    assert people[head.public_id].birth_date == dt.date(1980, 5, 12)
    leap = people["pp00000000000001"]
    assert (leap.birth_year, leap.birth_date) == (2016, dt.date(2016, 2, 29))
    assert sealed.unseal(leap.nik_enc, context=sealed.NIK, row=leap.public_id) == (
        "3273012902160001"
    )
    kk = Household.objects.get(pk=h.pk).kk_enc
    assert sealed.unseal(kk, context=sealed.KK, row=h.public_id) == "3273011503150001"
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(cursor, "registry_person")
        }
    assert "birth_date" not in columns
    assert {"birth_year", "birth_date_enc"} <= columns
