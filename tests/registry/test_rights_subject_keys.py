"""Per-subject keys (core.subjectkeys) and the sealed change history they protect."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from django.utils import timezone

from tepat.core.errors import TepatError
from tepat.core.models import SubjectKey
from tepat.core.subjectkeys import (
    ERASED,
    SubjectErased,
    SubjectKeyring,
    household_subject,
    is_shredded,
    subject_decrypt,
    subject_decrypt_many,
    subject_encrypt,
    subject_keyring,
    subject_shred,
)
from tepat.registry.loading import registry_load_directory
from tepat.registry.models import ChangeRecord, Household, Person
from tepat.registry.rights import person_erase
from tepat.registry.snapshots import SEALED, open_records, person_snapshot

from .test_loading import write_extract

pytestmark = pytest.mark.django_db


def test_a_value_comes_back_only_for_its_subject_and_context():
    token = subject_encrypt("p1", "Siti Nurhaliza", context="registry.history.person:p1")
    assert token.startswith("sk1:")
    assert "Siti" not in token
    assert subject_decrypt("p1", token, context="registry.history.person:p1") == "Siti Nurhaliza"
    with pytest.raises(ValueError, match="does not decrypt"):
        subject_decrypt("p1", token, context="registry.history.person:p2")
    subject_encrypt("p2", "x", context="c")
    with pytest.raises(ValueError, match="does not decrypt"):
        subject_decrypt("p2", token, context="registry.history.person:p1")


def test_each_subject_has_its_own_random_key_stored_only_wrapped():
    subject_encrypt("p1", "a", context="c")
    subject_encrypt("p2", "a", context="c")
    k1, k2 = (bytes(SubjectKey.objects.get(subject=s).key_wrapped) for s in ("p1", "p2"))
    assert k1 != k2
    assert len(k1) == 12 + 32 + 16
    # A wrapped key copied onto another subject's row does not unwrap there.
    SubjectKey.objects.filter(subject="p2").update(key_wrapped=k1)
    with pytest.raises(InvalidTag):
        subject_decrypt("p2", "sk1:AAAA", context="c")


def test_shredding_makes_every_value_unreadable_and_refuses_new_ones():
    tokens = [subject_encrypt("p1", f"v{i}", context="c") for i in range(3)]
    other = subject_encrypt("p2", "kept", context="c")
    subject_shred("p1")
    subject_shred("p1")  # idempotent
    assert [subject_decrypt("p1", t, context="c") for t in tokens] == [None] * 3
    assert subject_decrypt("p2", other, context="c") == "kept"
    row = SubjectKey.objects.get(subject="p1")
    assert bytes(row.key_wrapped) == b""
    assert row.shredded_at is not None
    assert is_shredded("p1")
    assert not is_shredded("p2")
    with pytest.raises(SubjectErased) as err:
        subject_encrypt("p1", "new", context="c")
    assert isinstance(err.value, TepatError)
    assert err.value.code == "erased"


def test_shredding_a_subject_without_a_key_still_blocks_later_writes():
    subject_shred("never-had-one")
    assert is_shredded("never-had-one")
    with pytest.raises(SubjectErased):
        subject_encrypt("never-had-one", "x", context="c")


def test_a_keyring_loads_many_keys_in_one_query_and_saves_new_ones_in_one_insert(
    django_assert_num_queries, django_assert_max_num_queries
):
    subjects = [f"s{i}" for i in range(50)]
    ring = SubjectKeyring(new_subjects=True)
    with django_assert_num_queries(0):
        tokens = [ring.encrypt(s, s.upper(), context="c") for s in subjects]
    with django_assert_max_num_queries(1):  # PostgreSQL's COPY is not in Django's query log
        assert ring.save() == 50
    assert SubjectKey.objects.count() == 50
    with django_assert_num_queries(1):
        ring = subject_keyring(subjects)
    with django_assert_num_queries(0):
        assert [ring.decrypt(s, t, context="c") for s, t in zip(subjects, tokens, strict=True)] == [
            s.upper() for s in subjects
        ]
    subject_shred("s3")
    opened = subject_decrypt_many([(s, t, "c") for s, t in zip(subjects, tokens, strict=True)])
    assert opened[3] is None
    assert opened[4] == "S4"


def test_history_keeps_its_structure_in_clear_and_its_identifying_values_sealed(
    bandung_household,
):
    rec = ChangeRecord.objects.get(entity_type="person", action="create",
                                   after__relationship="child")  # fmt: skip
    after = rec.after
    assert after["relationship"] == "child"
    assert after["school_level"] == "smp"
    assert after["household"] == bandung_household.public_id
    for name in ("full_name", "nik_masked", "nik_index", "birth_date", "phone_masked", "pregnant"):
        assert name not in after
    assert after[SEALED]["subject"] == rec.entity_id
    [(_, opened)] = open_records([rec])
    assert opened["full_name"] == "Muhammad Rizki"
    assert opened["birth_date"] == "2014-07-20"
    household = ChangeRecord.objects.get(entity_type="household")
    assert household.after[SEALED]["subject"] == household_subject(bandung_household.public_id)
    assert "address" not in household.after
    assert household.after["toilet"] == "private"


def test_a_registry_load_seals_its_history_under_new_keys_in_bulk(tmp_path, regions):
    registry_load_directory(acting_user=None, directory=write_extract(tmp_path), source="t")
    subjects = set(SubjectKey.objects.values_list("subject", flat=True))
    people = set(Person.objects.values_list("public_id", flat=True))
    families = {household_subject(p) for p in Household.objects.values_list("public_id", flat=True)}
    assert subjects == people | families
    records = list(ChangeRecord.objects.all())
    assert all(SEALED in r.after for r in records)
    names = {after.get("full_name") for _, after in open_records(records)}
    assert {"Asep Sunandar", "Siti Nurhaliza", "Muhammad Rizki"} <= names
    accounts = [a for r, (_, a) in zip(records, open_records(records), strict=True)
                if r.entity_type == "financial_address"]  # fmt: skip
    assert {a["account_masked"] for a in accounts} == {"********0001", "********0002",
                                                        "********0003"}  # fmt: skip


def test_history_written_before_sealing_is_sealed_at_erasure(bandung_household, supervisor):
    """Rows from before this release hold the values in clear: erasure seals, then shreds."""
    child = bandung_household.members.get(relationship="child")
    legacy = person_snapshot(child, household_public_id=bandung_household.public_id)
    ChangeRecord.objects.create(
        at=timezone.now(), entity_type="person", entity_id=child.public_id,
        household=bandung_household, action="update", before=legacy, after=legacy, source="old",
    )  # fmt: skip
    report = person_erase(person=child, reason="permintaan subjek data", acting_user=supervisor)
    assert report.history_resealed == 1
    rec = ChangeRecord.objects.get(source="old")
    assert "Muhammad" not in str(rec.after)
    assert "Muhammad" not in str(rec.before)
    [(before, after)] = open_records([rec])
    assert before["full_name"] == after["full_name"] == ERASED


_SQLITE_FILES_CHECK = """
import contextlib, os, sys
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import connection, transaction
from tepat.core import subjectkeys as sk
from tepat.core.models import SubjectKey
subjects = [f"p{i}" for i in range(30)]
for s in subjects:
    sk.subject_encrypt(s, "x" * 50, context="c")
blobs = [bytes(SubjectKey.objects.get(subject=s).key_wrapped) for s in subjects]
for s in subjects[:10]:
    with transaction.atomic():
        sk.subject_shred(s)
sk._secure_delete, sk._sqlite_checkpoint = contextlib.nullcontext, lambda: None
for s in subjects[10:20]:
    with transaction.atomic():
        sk.subject_shred(s)
name = Path(connection.settings_dict["NAME"])
raw = b"".join(p.read_bytes() for p in (name, Path(f"{name}-wal")) if p.exists())
print(*(sum(b in raw for b in part) for part in (blobs[:10], blobs[10:20], blobs[20:])))
"""


@pytest.mark.slow
def test_on_sqlite_a_shredded_key_leaves_no_copy_in_the_database_files(tmp_path):
    """The wrapped key is overwritten in the row, its freed bytes zeroed (secure_delete) and the
    WAL checkpointed into the file and emptied: the database file and its WAL hold no copy. The
    control, shredded without those two steps, is still there in the files."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tepat.config.settings", "TEPAT_DEV": "true",
           "TEPAT_VAR_DIR": str(tmp_path / "var"),
           "TEPAT_DATABASE_URL": f"sqlite:///{tmp_path / 'tepat.sqlite3'}"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", _SQLITE_FILES_CHECK], env=env, check=True,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    hardened, plain, kept = map(int, out.stdout.split())
    assert (hardened, plain, kept) == (0, 10, 10)
