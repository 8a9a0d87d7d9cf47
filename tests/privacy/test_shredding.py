"""Crypto-shredding (UU 27/2022 Art. 8, 43): once a person is erased, nothing the system writes
gives them back, while the append-only ledger keeps verifying and other people's history stays
readable.

A household is built the long way: registered, corrected, a bank account replaced, paid through
the provider simulator (a real subprocess) with the payments in the transparency log, a
complaint filed and decided, a Dukcapil delivery staged, a sign-in code, preferences, a proxy and
a face template. Then the head (or the whole family) is erased and EVERYTHING is dumped: every
row of every Django model (JSON fields included), a backup-shaped dump of the database (SQLite's
`iterdump()`; on PostgreSQL every row of every table as text), the person's household's access
export (JSON, CSV, PDF), the open-data packages, the ledger's entries, bundles, tiles, checkpoints
and receipts, and the log output. On top of the dump, an attacker holding the server's keys:
every ciphertext that any of the system's contexts opens, and every history value whose subject
key still unwraps. None may hold the person's NIK, name (old or new), phones, birth date,
account numbers (old or new), or the blind indexes their NIK, phone and accounts had; the No. KK,
address and KK index too when the whole family was erased.

The control: the same scenario with the subject key left unshredded finds the name, birth date
and old blind index in the history, so the scan can fail.
"""

# ruff: noqa: F403 - the payments cast (provider simulator, programmes) by name
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from tepat.core import crypto
from tepat.core.subjectkeys import ERASED
from tepat.grievances.services import complaint_decide, complaint_submit
from tepat.integration.importing import import_file
from tepat.integration.services import sources_ensure_builtin
from tepat.ledger import merkle
from tepat.ledger import selectors as ledger
from tepat.ledger.keys import log_verifiers
from tepat.ledger.models import LogEntry
from tepat.ledger.receipts import receipt_verify
from tepat.ledger.services import ledger_enqueue, ledger_sequence
from tepat.payments import worker
from tepat.payments.models import Payment, PaymentState
from tepat.payments.providers import G2PConnectAdapter
from tepat.portal.citizen import otp_request, preferences_set
from tepat.programs.ledger_kinds import CycleApproved
from tepat.programs.models import Cycle, CycleState
from tepat.registry import rights
from tepat.registry.models import ChangeRecord, Household, Person
from tepat.registry.rights import person_erase
from tepat.registry.services import financial_address_set, household_register, person_update
from tepat.registry.snapshots import open_records
from tepat.transparency.services import aggregates_refresh, opendata_export
from tepat.verification.models import FaceTemplate, ProxyCollector
from tepat.verification.services import FACE_CONTEXT, proxy_register
from tests.conftest import BOGOR_VILLAGE, make_household, pay, register_household
from tests.payments.conftest import *

pytestmark = pytest.mark.django_db

VILLAGE = "3273011001"
KK = "3273011502190077"
ADDRESS = "Jl. Cihampelas Gg. Kenanga No. 17"
HEAD = {
    "nik": "3273012308790417",
    "full_name": "Wiratmadja Kusumabrata",  # corrected below to "Wiratmaja"
    "sex": "M",
    "birth_date": "1979-08-23",
    "birth_place": "Garut",
    "relationship": "head",
    "marital_status": "married",
    "education": "sma",
    "work_sector": "trade",
    "phone": "081398765431",
}
SPOUSE = {
    "nik": "3273014911830418",
    "full_name": "Puspitasari Andayani",
    "sex": "F",
    "birth_date": "1983-11-09",
    "birth_place": "Cianjur",
    "relationship": "spouse",
    "marital_status": "married",
    "education": "smp",
    "work_sector": "not_working",
    "phone": "085712340987",
    "pregnant": True,
}
CHILD = {
    "nik": "3273011403120419",
    "full_name": "Gilang Pramudya Wiratama",
    "sex": "M",
    "birth_date": "2012-03-14",
    "birth_place": "Bandung",
    "relationship": "child",
    "marital_status": "single",
    "education": "sd",
    "school_level": "smp",
    "work_sector": "not_working",
}
OLD_ACCOUNT, ACCOUNT = "5566778899001", "7788990011223"
NEW_PHONE = "081398765439"


@pytest.fixture
def households(regions: None) -> list[Household]:
    """The programmes' cast, with a first household whose every value is unique to it."""
    household = household_register(
        acting_user=None, source="test",
        household={**make_household(serial=1), "kk": KK, "address": ADDRESS},
        members=[HEAD, SPOUSE, CHILD],
    )  # fmt: skip
    head = household.members.get(relationship="head")
    financial_address_set(acting_user=None, person=head, kind="bank", provider="BRI",
                          account=OLD_ACCOUNT, source="kks")  # fmt: skip
    more = [register_household(2), register_household(3)]
    return [household, *more, register_household(4, village=BOGOR_VILLAGE)]


@dataclass
class Built:
    household: Household
    head: Person
    needles: dict[str, str]  # what must never come back: label -> value
    family_needles: dict[str, str]  # the family's own values (erased with the last member)
    size: int  # the ledger before the erasure
    root: bytes
    head_entries: list[int]  # the head's payment entries in the ledger


@pytest.fixture
def built(households, approved_cycle, bandung_operator, supervisor, provider_sim, settings,
          tmp_path) -> Built:  # fmt: skip
    household = households[0]
    head = household.members.get(relationship="head")
    before = {
        "nik index": head.nik_index,
        "phone index": head.phone_index,
        "old account index": head.financial_addresses.get().account_index,
    }
    # History: a name correction, a new phone, a replaced bank account.
    person_update(acting_user=bandung_operator, person=head,
                  changes={"full_name": "Wiratmaja Kusumabrata", "phone": NEW_PHONE},
                  source="dukcapil", reason="koreksi nama")  # fmt: skip
    financial_address_set(acting_user=bandung_operator, person=head, kind="bank", provider="BRI",
                          account=ACCOUNT, source="kks")  # fmt: skip
    head.refresh_from_db()
    before["new phone index"] = head.phone_index
    before["account index"] = head.financial_addresses.get(valid_to=None).account_index

    # Paid through the provider, every payment in the transparency log.
    sim = provider_sim()
    config = worker.WorkerConfig(batch=100, lease_s=30, max_attempts=4, backoff_base_s=0.0,
                                 backoff_cap_s=0.0)  # fmt: skip
    pay(operator=bandung_operator, cycle=approved_cycle,
        adapter=G2PConnectAdapter(sim.url, timeout_s=5), worker_config=config)  # fmt: skip
    ledger_sequence(max_batch=1000)
    paid = Payment.objects.get(beneficiary_ref=head.public_id)
    assert paid.state == PaymentState.PAID
    assert paid.payee_name
    head_entries = list(LogEntry.objects.filter(ref=paid.public_id).values_list("index", flat=True))
    assert head_entries

    # A complaint, decided; a Dukcapil delivery; a sign-in code, preferences, a proxy, a face.
    complaint, _ = complaint_submit(
        submission_key="s" * 32, category="exclusion", village_code=VILLAGE,
        description="Saya Wiratmaja Kusumabrata (NIK 3273012308790417) belum menerima bantuan",
        contact_phone=NEW_PHONE, filed_by_ref=head.public_id,
    )  # fmt: skip
    complaint_decide(acting_user=bandung_operator, complaint=complaint, decision="upheld",
                     note="Bantuan Wiratmaja Kusumabrata sudah dijadwalkan")  # fmt: skip
    sources_ensure_builtin()
    delivery = ("source_record_id,NIK,NO_KK,NAMA_LGKP,JENIS_KLMIN,TMPT_LHR,TGL_LHR,ALAMAT,"
                "NO_RT,NO_RW,KODE_DESA,TGL_MATI\n"
                f"D-1,{HEAD['nik']},{KK},WIRATMAJA KUSUMABRATA,LAKI-LAKI,GARUT,23-08-1979,"
                f"{ADDRESS},003,007,{VILLAGE},\n")  # fmt: skip
    run = import_file(acting_user=None, source_key="dukcapil", file_name="dukcapil-11.csv",
                      data=delivery.encode()).run  # fmt: skip
    assert run.accepted_rows == 1
    otp_request(nik=HEAD["nik"])
    preferences_set(person=head, sms_payment=False, sms_schedule=True, sms_grievance=True)
    proxy_register(acting_user=bandung_operator, person_ref=head.public_id,
                   name="Sutrisno Hadiwijaya", id_number="3273019999990001", reason="elderly")  # fmt: skip
    FaceTemplate.objects.create(
        person_ref=head.public_id, template_enc=crypto.encrypt("0.1,0.2", context=FACE_CONTEXT)
    )

    # Years later: the cycle ended, the payments passed the financial-records retention.
    Cycle.objects.filter(pk=approved_cycle.pk).update(state=CycleState.ENDED)
    Payment.objects.update(created_at=timezone.now() - dt.timedelta(days=365 * 11))

    needles = {
        "NIK": HEAD["nik"],
        "name": "Wiratmaja Kusumabrata",
        "old name": "Wiratmadja",
        "surname": "Kusumabrata",
        "phone": HEAD["phone"],
        "new phone": NEW_PHONE,
        "birth date": "1979-08-23",
        "birth date (d-m-Y)": "23-08-1979",
        "birth date (d/m/Y)": "23/08/1979",
        "birth place": "Garut",
        "account": ACCOUNT,
        "old account": OLD_ACCOUNT,
        **before,
    }
    family = {
        "KK": KK,
        "KK index": household.kk_index,
        "address": ADDRESS,
        "spouse NIK": SPOUSE["nik"],
        "spouse name": SPOUSE["full_name"],
        "spouse birth date": SPOUSE["birth_date"],
        "child name": "Gilang Pramudya",
        "child birth date": CHILD["birth_date"],
        "spouse phone": SPOUSE["phone"],
    }
    size = ledger.log_size()
    return Built(household, head, needles, family, size, ledger.root_at(size), head_entries)


# --- everything the system writes ------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        return raw.hex() + " " + raw.decode("latin-1")
    return str(value)


def _tables() -> Iterator[tuple[str, str]]:
    """Every row of every Django model, JSON fields as JSON."""
    for model in apps.get_models(include_auto_created=True):
        rows = model._default_manager.all().values()
        text = "\n".join(json.dumps(row, default=_text, ensure_ascii=False) for row in rows)
        yield f"table {model._meta.db_table}", text


def _backup() -> Iterator[tuple[str, str]]:
    """What a backup holds: SQLite's SQL dump, or every row of every table on PostgreSQL."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        yield "sqlite iterdump", "\n".join(connection.connection.iterdump())
        return
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor, include_views=False):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT t::text FROM {quoted} t")  # noqa: S608 - names from the catalogue
            yield f"pg {table}", "\n".join(r[0] for r in cursor.fetchall())


def _pdf_text(data: bytes) -> str:
    """The PDF's bytes with its compressed streams inflated (text is in them)."""
    out = [data.decode("latin-1")]
    for part in data.split(b"stream")[1:]:
        body = part.split(b"endstream")[0].lstrip(b"\r\n")
        try:
            out.append(zlib.decompress(body).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(out)


def _export(household: Household) -> Iterator[tuple[str, str]]:
    """The household's access export (JSON, CSV, PDF) as a remaining member would get it."""
    from tepat.privacy import export

    member = household.members.filter(erased_at__isnull=True).first()
    if member is None:
        return
    data = export.subject_export(person=member, requested_by="warga (portal)")
    yield "export json", export.render_json(data).decode("utf-8")
    import zipfile

    with zipfile.ZipFile(io.BytesIO(export.render_csv_zip(data))) as zf:
        yield "export csv", "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist())
    yield "export html", str(export.render_html(data))
    yield "export pdf", _pdf_text(export.render_pdf(data))


def _files(label: str, root: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        yield f"{label} {path.name}", path.read_bytes().decode("latin-1")


def _ledger() -> Iterator[tuple[str, str]]:
    """Entries, entry bundles, tiles, checkpoints and a receipt for every entry."""
    size = ledger.log_size()
    yield "ledger entries", "\n".join(LogEntry.objects.values_list("body", flat=True))
    bundles = []
    for index in range(0, (size + 255) // 256):
        width = min(256, size - index * 256)
        bundles.append(_text(ledger.entry_bundle_bytes(index=index, width=width) or b""))
    yield "ledger bundles", "\n".join(bundles)
    receipts = [json.dumps(ledger.receipt(index=i)) for i in range(size)]
    yield "ledger receipts", "\n".join(receipts)


def _attacker() -> Iterator[tuple[str, str]]:
    """What the server's keys still open: every ciphertext under any of the system's contexts
    (bound to its row where the registry binds them), and every history value whose subject
    key still unwraps."""
    from tepat.integration import importing
    from tepat.payments import channels
    from tepat.portal import citizen
    from tepat.registry import sealed
    from tepat.verification import services as verification

    contexts = [
        sealed.NIK, sealed.PHONE, sealed.BIRTH_DATE, sealed.KK, sealed.ACCOUNT,
        importing.NIK_CONTEXT, importing.KK_CONTEXT, importing.RAW_CONTEXT,
        channels.PAYEE_CONTEXT, citizen.OTP_CONTEXT, verification.PROXY_CONTEXT,
        verification.FACE_CONTEXT, "grievance-contact", "accounts.user.totp_secret",
    ]  # fmt: skip
    opened = []
    for model in apps.get_models():
        names = [f.attname for f in model._meta.concrete_fields if f.attname.endswith("_enc")]
        if not names:
            continue
        has_public_id = any(f.attname == "public_id" for f in model._meta.concrete_fields)
        for row in model._default_manager.all().values(*names, *(["public_id"] * has_public_id)):
            for name in names:
                token = row[name]
                if not token:
                    continue
                tries = [*contexts, *(f"{c}|{row.get('public_id')}" for c in contexts)]
                for ctx in tries:
                    try:
                        opened.append(crypto.decrypt(token, context=ctx))
                        break
                    except Exception:  # noqa: S112 - not this context
                        continue
    yield "decrypted columns", "\n".join(opened)
    records = list(ChangeRecord.objects.all())
    yield "opened history", json.dumps(open_records(records), ensure_ascii=False)


def everything(*, household: Household, caplog: Any, tmp_path: Path) -> dict[str, str]:
    aggregates_refresh()
    with override_settings(TRANSPARENCY_OPENDATA_DIR=tmp_path / "opendata"):
        opendata_export()
    parts = [
        *_tables(),
        *_backup(),
        *_export(household),
        *_files("open data", tmp_path / "opendata"),
        *_ledger(),
        *_attacker(),
        ("log output", caplog.text),
    ]
    return {label: text.lower() for label, text in parts}


def leaks(dump: dict[str, str], needles: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (label, where)
        for label, value in needles.items()
        for where, text in dump.items()
        if value.lower() in text
    ]


def _ledger_still_verifies(b: Built) -> None:
    assert ledger.log_size() == b.size
    assert ledger.root_at(b.size) == b.root  # nothing rewritten
    report = ledger.log_verify()
    assert report.ok, report.problems
    for index in b.head_entries:
        body = LogEntry.objects.get(index=index).body.encode()
        proof = ledger.inclusion_proof(index=index, size=b.size)
        merkle.verify_inclusion(index, b.size, merkle.leaf_hash(body), proof, b.root)
        assert receipt_verify(ledger.receipt(index=index), trusted_keys=log_verifiers()).ok
    # The log grows on after the erasure, consistent with what it was before.
    later = CycleApproved(programme="PKH-2026", cycle="2026-T2", time=timezone.now(),
                          beneficiaries=3, total_amount=3_375_000)  # fmt: skip
    ledger_enqueue(kind=later.kind, body=later)
    ledger_sequence(max_batch=10)
    grown = ledger.log_size()
    assert grown == b.size + 1
    proof = ledger.consistency_proof(first=b.size, second=grown)
    merkle.verify_consistency(b.size, grown, b.root, ledger.root_at(grown), proof)


# --- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("whole_family", [False, True], ids=["head", "whole-family"])
def test_an_erased_person_cannot_be_recovered_from_anything_the_system_writes(
    built, whole_family, supervisor, caplog, tmp_path
):
    caplog.set_level(logging.DEBUG)
    dump = everything(household=built.household, caplog=caplog, tmp_path=tmp_path / "before")
    # The scan finds what is there: before the erasure, the attacker recovers every value but
    # those the corrections already replaced (the old phone and its index) and a date format
    # nothing writes.
    found = {label for label, _ in leaks(dump, built.needles)}
    assert found == set(built.needles) - {"phone", "phone index", "birth date (d/m/Y)"}

    # Reasons as typed at the counter, naming the person, their relatives and their numbers.
    person_erase(person=built.head, acting_user=supervisor, reason=(
        "Permintaan Wiratmaja Kusumabrata (NIK 3273012308790417, HP 0813-9876-5439) dan "
        "istrinya Puspitasari Andayani di loket desa"))  # fmt: skip
    if whole_family:
        for person in built.household.members.exclude(pk=built.head.pk):
            person_erase(person=person, acting_user=supervisor, reason=(
                "Permintaan keluarga almarhum, KK 3273011502190077, NIK kepala keluarga "
                "3273012308790417; alamat Jl. Cihampelas Gg. Kenanga No. 17"))  # fmt: skip
    needles = {**built.needles, **(built.family_needles if whole_family else {})}

    dump = everything(household=built.household, caplog=caplog, tmp_path=tmp_path / "after")
    assert leaks(dump, needles) == []
    assert "opened history" in dump
    assert ERASED.lower() in dump["opened history"]
    assert not ProxyCollector.objects.filter(person_ref=built.head.public_id).exists()
    assert not FaceTemplate.objects.filter(person_ref=built.head.public_id).exists()
    _ledger_still_verifies(built)

    # Everyone else's history reads as before.
    others = list(ChangeRecord.objects.exclude(household=built.household))
    names = {after.get("full_name") for _, after in open_records(others) if after}
    assert {"Kepala C", "Siti Nurhaliza", "Muhammad Rizki"} <= names
    if not whole_family:
        family = [r for r in ChangeRecord.objects.filter(household=built.household)
                  if r.entity_id != built.head.public_id]  # fmt: skip
        opened = json.dumps(open_records(family))
        assert SPOUSE["full_name"] in opened
        assert "3273**********77" in opened


def test_without_shredding_the_subject_key_the_scan_finds_the_person(
    built, supervisor, caplog, tmp_path, monkeypatch
):
    """The control: everything else of the erasure runs, but the subject key survives; an
    attacker with the server's keys then reads the person back out of the history."""
    monkeypatch.setattr(rights, "subject_shred", lambda subject: None)
    person_erase(person=built.head, reason="permintaan subjek data", acting_user=supervisor)
    dump = everything(household=built.household, caplog=caplog, tmp_path=tmp_path)
    found = {label for label, where in leaks(dump, built.needles) if where == "opened history"}
    assert {"name", "old name", "birth date", "nik index", "birth place"} <= found
    # The history holds masks, never the NIK, phone or account numbers themselves.
    assert {"NIK", "phone", "account"}.isdisjoint(found)
