"""The records a linkage run links: every current staged record of an active source and every
registry person not erased, with the reviewers' decisions on earlier pairs."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db.models import CharField, ExpressionWrapper, F, Func, TextField

from tepat.core import crypto
from tepat.integration import linkage
from tepat.integration.importing import KK_CONTEXT, NIK_CONTEXT
from tepat.integration.models import GoldenRecord, ReviewPair, StagedRecord
from tepat.registry import sealed
from tepat.registry.models import Person
from tepat.registry.snapshots import KK_CONTEXT as REG_KK_CONTEXT
from tepat.registry.snapshots import NIK_CONTEXT as REG_NIK_CONTEXT

# The source key of registry persons in a run (a uid is "registry:<person public id>").
REGISTRY = "registry"
BATCH = 2000


@dataclass(slots=True)
class _Rec:
    uid: str
    source: str
    pk: int  # StagedRecord id, or Person id for registry rows
    delivered_on: dt.date | None
    values: dict[str, Any]
    attrs: dict[str, Any]
    cluster_id: str = ""
    # Registry rows only: what applying a cluster needs without loading the Person again.
    household_id: int | None = None
    nik_index: str = ""
    relationship: str = ""


class _IsoDate(Func):
    """A date column as ISO text, converted by the database: the load uses dates as text (the
    frame, the golden values), and the driver's per-row parsing into dates, then back to text,
    was work for nothing. to_char, not a cast: a cast to text follows PostgreSQL's DateStyle."""

    function = "to_char"
    template = "%(function)s(%(expressions)s, 'YYYY-MM-DD')"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # An expression, not the bare column: the driver parses a column declared `date`.
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS text)")


def _text(name: str) -> ExpressionWrapper[F]:
    """A JSON column's text, decoded by the caller: the ORM's JSON converter costs more than
    the decoding itself."""
    return ExpressionWrapper(F(name), output_field=TextField())


def _load_records() -> tuple[pd.DataFrame, dict[str, _Rec]]:
    """The records to link: the frame for Splink and a `_Rec` per record. Dates come as ISO
    text (`_Rec.values` included), except a record's delivery date."""
    # Column lists, not a dict per record: at a million records the dicts alone took ~1 GB.
    columns: dict[str, list[Any]] = {c: [] for c in linkage.RECORD_COLUMNS}
    # Bound appends, filled in RECORD_COLUMNS order (a method lookup per value cost more).
    uids, sources, niks, kks, names, sexes, births, villages, addresses = (
        columns[c].append for c in linkage.RECORD_COLUMNS
    )
    # The birth year a stated age implies on the delivery date (no birth date: see linkage).
    birth_years: list[str] = []
    birth_year = birth_years.append

    def add(*values: Any) -> None:
        """One record's frame columns, in RECORD_COLUMNS order (birth date as text)."""
        uid, src, nik, kk, name, sex, born, village, address = values
        uids(uid)
        sources(src)
        niks(nik)
        kks(kk)
        names(name)
        sexes(sex)
        births(born or "")
        villages(village)
        addresses(address)

    recs: dict[str, _Rec] = {}
    staged_nik = crypto.decryptor(context=NIK_CONTEXT)
    staged_kk = crypto.decryptor(context=KK_CONTEXT)
    # Registry ciphertexts are bound to their row: opened with the row's public id.
    registry_nik = sealed.unsealer(context=REG_NIK_CONTEXT)
    registry_kk = sealed.unsealer(context=REG_KK_CONTEXT)
    registry_born = sealed.unsealer(context=sealed.BIRTH_DATE)
    loads = json.loads
    delivered: dict[str | None, dt.date | None] = {None: None}

    staged = StagedRecord.objects.filter(current=True, source__active=True).values_list(
        "id",
        "source__key",
        "record_id",
        "nik_enc",
        "kk_enc",
        "full_name",
        "sex",
        _IsoDate("birth_date"),
        "village_code",
        "address",
        _IsoDate("deceased_on"),
        "age",
        _text("attrs"),
        _IsoDate("run__delivered_on"),
        "cluster_id",
    )
    for (
        pk,
        src,
        rid,
        nik_enc,
        kk_enc,
        name,
        sex,
        born,
        village,
        address,
        died,
        age,
        attrs,
        on_text,
        cid,
    ) in staged.iterator(chunk_size=BATCH):
        uid = f"{src}:{rid}"
        nik = staged_nik(nik_enc) if nik_enc else ""
        kk = staged_kk(kk_enc) if kk_enc else ""
        on = delivered.get(on_text)
        if on is None and on_text is not None:
            on = delivered[on_text] = dt.date.fromisoformat(on_text)
        values = {
            "nik": nik,
            "kk": kk,
            "full_name": name,
            "sex": sex,
            "birth_date": born,
            "village_code": village,
            "address": address,
            "deceased_on": died,
        }
        recs[uid] = _Rec(uid, src, pk, on, values, (attrs and loads(attrs)) or {}, cid)
        add(uid, src, nik, kk, name, sex, born, village, address)
        birth_year(str(on.year - age) if age is not None and on and not born else "")
    # An erased person (UU 27/2022 Art. 8) has no NIK, name or birth date left to link on.
    people = Person.objects.filter(erased_at__isnull=True).values_list(
        "id",
        "public_id",
        "nik_enc",
        "full_name",
        "sex",
        "birth_date_enc",
        _IsoDate("deceased_on"),
        "household__village_id",
        "household__address",
        "household__kk_enc",
        "household_id",
        "nik_index",
        "relationship",
        "household__public_id",
    )
    kk_cache: dict[str, str] = {}
    person_cluster = {
        pk: cid
        for cid, pks in GoldenRecord.objects.values_list("cluster_id", "registry_persons")
        for pk in pks
    }
    for (
        pk,
        pid,
        nik_enc,
        name,
        sex,
        born,
        died,
        village,
        address,
        kk_enc,
        household_id,
        nik_index,
        relationship,
        household_pid,
    ) in people.iterator(chunk_size=BATCH):
        uid = f"{REGISTRY}:{pid}"
        nik = registry_nik(nik_enc, pid)
        born = registry_born(born, pid) if born else None
        if kk_enc not in kk_cache:
            kk_cache[kk_enc] = registry_kk(kk_enc, household_pid)
        kk = kk_cache[kk_enc]
        values = {
            "nik": nik,
            "kk": kk,
            "full_name": name,
            "sex": sex,
            "birth_date": born,
            "village_code": village,
            "address": address,
            "deceased_on": died,
        }
        recs[uid] = _Rec(
            uid,
            REGISTRY,
            pk,
            None,
            values,
            {},
            person_cluster.get(pk, ""),
            household_id=household_id,
            nik_index=nik_index,
            relationship=relationship,
        )
        add(uid, REGISTRY, nik, kk, name, sex, born, village, address)
        birth_year("")
    frame = pd.DataFrame(columns, columns=list(linkage.RECORD_COLUMNS))
    frame["birth_year"] = birth_years
    return frame, recs


def _decisions() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    forced: list[tuple[str, str]] = []
    forbidden: list[tuple[str, str]] = []
    for left, right, status in ReviewPair.objects.exclude(
        status=ReviewPair.Status.OPEN
    ).values_list("left_key", "right_key", "status"):
        (forced if status == ReviewPair.Status.ACCEPTED else forbidden).append((left, right))
    return forced, forbidden
