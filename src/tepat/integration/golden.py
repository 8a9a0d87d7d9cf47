"""A linkage run end to end: records out of staging and the registry, Splink, then in one
transaction: clusters, golden records, registry updates (with change records), flags and the
review queue."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import CharField, ExpressionWrapper, F, Func, Max, TextField
from django.utils import timezone

from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.bulk import insert_rows, json_text, update_rows, update_values
from tepat.core.gcpause import gc_paused
from tepat.core.subjectkeys import SubjectKeyring, household_subject
from tepat.integration import conf, linkage
from tepat.integration.importing import KK_CONTEXT, NIK_CONTEXT
from tepat.integration.models import (
    Flag,
    GoldenRecord,
    LinkModel,
    LinkRun,
    ReviewPair,
    Source,
    StagedRecord,
)
from tepat.integration.sources import HOUSEHOLD_FIELDS
from tepat.registry import sealed
from tepat.registry.cleaning import name_search_key
from tepat.registry.models import ChangeRecord, Household, Person
from tepat.registry.services import _change
from tepat.registry.snapshots import KK_CONTEXT as REG_KK_CONTEXT
from tepat.registry.snapshots import NIK_CONTEXT as REG_NIK_CONTEXT
from tepat.registry.snapshots import PHONE_CONTEXT, diff, household_snapshot, person_snapshot

REGISTRY = "registry"
# Person fields a golden record may write back to the registry.
APPLIED_FIELDS = ("full_name", "sex", "birth_date", "deceased_on")
# Their columns: a birth date is stored as its clear year and the encrypted date.
APPLIED_COLUMNS = ("full_name", "sex", "birth_year", "birth_date_enc", "deceased_on")
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


def link_run_execute(
    *,
    acting_user: Any,
    engine: str = "duckdb",
    retrain: bool = False,
    progress: bool = False,
    incremental: bool = False,
) -> LinkRun:
    """Link every current record and the registry, then apply the result (module docstring).
    With `incremental`, only records not linked yet are scored, against the linked ones."""
    saved_model = LinkModel.objects.order_by("-version").first()
    if incremental and saved_model is not None and not retrain:
        return _link_incremental(acting_user=acting_user, engine=engine, model=saved_model)
    run = LinkRun.objects.create(
        engine=engine,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    timings: dict[str, Any] = {}
    try:
        t0 = time.perf_counter()
        frame, recs = _load_records()
        timings["seconds_load"] = round(time.perf_counter() - t0, 2)
        n_records = len(frame)
        t0 = time.perf_counter()
        # Prepared here so that the loaded frame is gone before linking (peak memory).
        prepared = linkage.prepare(frame)
        del frame
        timings["seconds_prepare"] = round(time.perf_counter() - t0, 2)
        saved = None if retrain else LinkModel.objects.order_by("-version").first()
        forced, forbidden = _decisions()
        out = linkage.link(
            prepared,
            model_json=saved.settings_json if saved else None,
            match_threshold=conf.match_threshold(),
            review_threshold=conf.review_threshold(),
            forced=forced,
            forbidden=forbidden,
            engine=engine,
            prepared=True,
        )
        del prepared
        t0 = time.perf_counter()
        with transaction.atomic():
            model = saved
            if out.trained:
                version = (LinkModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
                model = LinkModel.objects.create(
                    version=version,
                    settings_json=out.model_json,
                    trained_on_records=n_records,
                    notes=f"trained by link run {run.public_id}",
                )
            run.model = model
            applied = _apply(
                run=run,
                acting_user=acting_user,
                members=_members(out, recs),
                uncertain=out.uncertain,
                recs=recs,
            )
        timings["seconds_apply"] = round(time.perf_counter() - t0, 2)
        run.stats = {
            **out.stats,
            **timings,
            **applied,
            "model_version": model.version if model else None,
        }
        run.status = LinkRun.Status.DONE
        run.finished_at = timezone.now()
        run.save()
    except Exception as exc:
        LinkRun.objects.filter(pk=run.pk).update(
            status=LinkRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    audit_record(
        actor=acting_user,
        action="integration.link",
        target_type="link_run",
        target_id=run.public_id,
        detail={k: v for k, v in run.stats.items() if isinstance(v, (int, float, str))},
    )
    return run


@dataclass(frozen=True)
class _SourceRules:
    precedence: int
    authoritative: frozenset[str]
    flags: tuple[dict[str, Any], ...]
    nik_reference: bool


def _source_rules() -> dict[str, _SourceRules]:
    return {
        s.key: _SourceRules(
            precedence=s.precedence,
            authoritative=frozenset(s.config.get("authoritative_for", [])),
            flags=tuple(s.config.get("flags", [])),
            nik_reference=bool(s.config.get("nik_reference")),
        )
        for s in Source.objects.all()
    }


def _person_value(r: _Rec, field: str) -> Any:
    return r.values.get(field)


def _household_value(r: _Rec, field: str) -> Any:
    return (r.attrs.get("household") or {}).get(field)


def _pick(
    field: str,
    members: list[tuple[_Rec, _SourceRules]],
    current: Any,
    get: Any = _person_value,
) -> tuple[Any, str, str] | None:
    """The golden value of one field: the authoritative source with the highest precedence;
    within it the most common value, the registry's current value winning a tie."""
    best: list[tuple[_Rec, Any]] = []
    best_prec = None
    for r, rules in members:
        if field not in rules.authoritative:
            continue
        value = get(r, field)
        if value is None or value == "":
            continue
        if best_prec is None or rules.precedence > best_prec:
            best, best_prec = [(r, value)], rules.precedence
        elif rules.precedence == best_prec:
            best.append((r, value))
    if not best:
        return None
    rec, value = best[0] if len(best) == 1 else _resolve(best, current)
    return value, rec.source, rec.uid.split(":", 1)[1]


def _resolve(best: list[tuple[_Rec, Any]], current: Any) -> tuple[_Rec, Any]:
    """Several candidates of the same precedence: the most common value, the registry's current
    value winning a tie (else the smallest as text), from the first record that holds it."""
    counts = Counter(v for _, v in best)
    top = max(counts.values())
    winners = [v for v, n in counts.items() if n == top]
    value = current if current in winners else sorted(winners, key=str)[0]
    return next((r, v) for r, v in best if v == value)


def _person_fields(
    ruled: list[tuple[_Rec, _SourceRules]],
    reg: _Rec | None,
    authoritative: dict[str, tuple[str, ...]],
) -> dict[str, Any]:
    """`_pick` of every golden person field, in one pass over the cluster's records instead of
    one per field: this runs once per cluster, half a million times on a full run.
    `authoritative` holds each source's golden person fields; the result keeps
    GOLDEN_PERSON_FIELDS order (the order of the stored JSON)."""
    candidates: dict[str, tuple[int, list[tuple[_Rec, Any]]]] = {}
    for r, rules in ruled:
        names = authoritative[r.source]
        if not names:
            continue
        values = r.values
        precedence = rules.precedence
        for name in names:
            value = values.get(name)
            if value is None or value == "":
                continue
            held = candidates.get(name)
            if held is None or precedence > held[0]:
                candidates[name] = (precedence, [(r, value)])
            elif precedence == held[0]:
                held[1].append((r, value))
    fields: dict[str, Any] = {}
    if not candidates:
        return fields
    for name in GOLDEN_PERSON_FIELDS:
        held = candidates.get(name)
        if held is None:
            continue
        best = held[1]
        if len(best) == 1:
            rec, value = best[0]
        else:
            current = reg.values.get(name) if reg is not None and name in APPLIED_FIELDS else None
            rec, value = _resolve(best, current)
        fields[name] = {
            "value": _json(value),
            "source": rec.source,
            "record": rec.uid.split(":", 1)[1],
        }
    return fields


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _members(out: linkage.LinkOutput, recs: dict[str, _Rec]) -> dict[str, list[_Rec]]:
    members: dict[str, list[_Rec]] = defaultdict(list)
    for uid, cid in zip(out.clusters["unique_id"], out.clusters["cluster_id"], strict=True):
        members[str(cid)].append(recs[uid])
    return members


GOLDEN_PERSON_FIELDS = (*APPLIED_FIELDS, "village_code", "address")


@gc_paused()
def _apply(
    *,
    run: LinkRun,
    acting_user: Any,
    members: dict[str, list[_Rec]],
    uncertain: pd.DataFrame,
    recs: dict[str, _Rec],
    replaced_clusters: set[str] | None = None,
) -> dict[str, Any]:
    """Write clusters, golden records, registry updates, flags and review pairs. Full runs
    (`replaced_clusters` None) replace everything; incremental runs only the given clusters.

    Set-based where it counts at a million records: the values every cluster needs come from
    the records already loaded for linkage (no ORM instance per person), rows are written with
    COPY / executemany, and model instances are built only for the registry persons and
    households that actually change (their history records need the full snapshot)."""
    rules = _source_rules()
    clock = [time.perf_counter()]
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[f"seconds_apply_{name}"] = round(now - clock[0], 2)
        clock[0] = now

    # Clusters and the registry person of each staged record.
    reg_of: dict[str, _Rec | None] = {}
    for cid, group in members.items():
        in_registry = [r for r in group if r.source == REGISTRY]
        reg_of[cid] = in_registry[0] if len(in_registry) == 1 else None
    update_values(
        StagedRecord,
        ("cluster_id", "person_id"),
        [
            (cid[:40], linked.pk if (linked := reg_of[cid]) is not None else None, r.pk)
            for cid, group in members.items()
            for r in group
            if r.source != REGISTRY
        ],
    )

    lap("clusters")
    # Golden records with per-field provenance.
    if replaced_clusters is None:
        GoldenRecord.objects.all().delete()
    else:
        ids = sorted(replaced_clusters | {c[:40] for c in members})
        for i in range(0, len(ids), 900):
            GoldenRecord.objects.filter(cluster_id__in=ids[i : i + 900]).delete()
    # The clusters with household attributes (a survey's): few, and asked twice below.
    with_household = {
        cid for cid, group in members.items() if any(r.attrs.get("household") for r in group)
    }
    surveyed = {
        linked.household_id
        for cid in with_household
        if (linked := reg_of[cid]) is not None and linked.household_id is not None
    }
    household_now = _households_now(surveyed)
    goldens: list[tuple[Any, ...]] = []
    person_updates: dict[int, tuple[_Rec, dict[str, Any]]] = {}
    household_values: list[tuple[_Rec, dict[str, Any]]] = []
    authoritative = {
        key: tuple(n for n in GOLDEN_PERSON_FIELDS if n in rl.authoritative)
        for key, rl in rules.items()
    }
    sources_json: dict[frozenset[str], str] = {}
    run_pk = run.pk
    index_nik = crypto.blind_indexer(purpose="nik")
    for cid, group in members.items():
        reg = reg_of[cid]
        ruled = [(r, rules[r.source]) for r in group if r.source in rules]
        fields: dict[str, Any] = {}
        if ruled:
            fields = _person_fields(ruled, reg, authoritative)
            if cid in with_household and any(r.attrs.get("household") for r, _ in ruled):
                wanted = frozenset().union(*(rl.authoritative for _, rl in ruled))
                now_values = (
                    household_now.get(reg.household_id, {})
                    if reg is not None and reg.household_id is not None
                    else {}
                )
                for name in HOUSEHOLD_FIELDS:
                    if name not in wanted:
                        continue
                    picked = _pick(name, ruled, now_values.get(name), get=_household_value)
                    if picked is not None:
                        value, src, rid = picked
                        fields["household." + name] = {
                            "value": value,
                            "source": src,
                            "record": rid,
                        }
        if reg is not None:
            household_values.append((reg, fields))
            if _may_change_person(reg, fields):
                person_updates[reg.pk] = (reg, fields)
        nik_idx = ""
        niks = [r.values["nik"] for r in group if r.values.get("nik")]
        if niks:
            # Most often every record holds the same NIK: no Counter needed for that.
            top = (
                niks[0] if niks.count(niks[0]) == len(niks) else Counter(niks).most_common(1)[0][0]
            )
            nik_idx = index_nik(top)
        village = (reg.values.get("village_code") if reg is not None else "") or next(
            (r.values["village_code"] for r in group if r.values["village_code"]), ""
        )
        # The JSON columns encoded here: a handful of source lists serve every cluster, and a
        # list of ids needs no encoder.
        source_set = frozenset(r.source for r in group)
        if (sources := sources_json.get(source_set)) is None:
            sources = sources_json[source_set] = json_text(sorted(source_set))
        registry_persons = ",".join(str(r.pk) for r in group if r.source == REGISTRY)
        goldens.append(
            (
                cid[:40],
                reg.pk if reg is not None else None,
                nik_idx,
                village,
                json_text(fields),
                sources,
                f"[{registry_persons}]",
                len(group),
                run_pk,
            )
        )
    insert_rows(
        GoldenRecord,
        (
            "cluster_id",
            "person_id",
            "nik_index",
            "village_code",
            "fields",
            "sources",
            "registry_persons",
            "record_count",
            "link_run_id",
        ),
        goldens,
        encoded=("fields", "sources", "registry_persons"),
    )
    lap("golden")
    now = timezone.now()
    registry_updates = _apply_persons(
        run=run, acting_user=acting_user, updates=person_updates, now=now
    )
    households_changed = _apply_households(
        run=run, acting_user=acting_user, household_values=household_values, now=now
    )

    lap("registry")
    flags = _flags(
        run=run,
        members=members,
        reg_of=reg_of,
        recs=recs,
        rules=rules,
        full=replaced_clusters is None,
    )
    lap("flags")
    _review_queue(run=run, uncertain=uncertain, recs=recs)
    lap("review")
    return {
        **timings,
        "golden_records": len(goldens),
        "registry_updates": registry_updates,
        "household_updates": households_changed,
        "flags": flags,
        "linked_persons": sum(1 for v in reg_of.values() if v is not None),
    }


def _households_now(ids: set[int]) -> dict[int, dict[str, Any]]:
    """Current attribute values of the registry households that a survey record reached."""
    out: dict[int, dict[str, Any]] = {}
    ordered = sorted(ids)
    for i in range(0, len(ordered), 900):
        for row in Household.objects.filter(pk__in=ordered[i : i + 900]).values(
            "pk", *HOUSEHOLD_FIELDS
        ):
            out[row.pop("pk")] = row
    return out


def _person_updates(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        n: fields[n]["value"]
        for n in APPLIED_FIELDS
        if n in fields and fields[n]["source"] != REGISTRY
    }


def _coerce(name: str, value: Any) -> Any:
    if name in ("birth_date", "deceased_on") and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _may_change_person(reg: _Rec, fields: dict[str, Any]) -> bool:
    """Whether the golden values differ from the registry person's loaded values (a cheap
    filter; `_apply_persons` decides on the full row). Runs for every linked person: the
    loop is `_person_updates` without building its dict. Dates on both sides are ISO text
    (`_load_records`), so they compare as loaded."""
    for name in APPLIED_FIELDS:
        held = fields.get(name)
        if held is None or held["source"] == REGISTRY:
            continue
        value = held["value"]
        current = reg.values.get(name)
        if value == current:
            continue
        if name == "full_name":
            if _name_key(value) != _name_key(current or ""):
                return True
        elif value != current:
            return True
    return False


def _name_key(name: str) -> str:
    """`name_search_key`, without its Unicode pass where that pass changes nothing: no ASCII
    character decomposes (NFKD) or is a combining mark, so for an ASCII name the key is the
    lower-cased, space-collapsed name. Nearly every name is ASCII, and this filter compares two
    names per linked person (the Unicode pass was most of the filter's time)."""
    if name.isascii():
        return " ".join(name.lower().split())
    return name_search_key(name)


def _apply_persons(
    *,
    run: LinkRun,
    acting_user: Any,
    updates: dict[int, tuple[_Rec, dict[str, Any]]],
    now: dt.datetime,
) -> int:
    """Write golden values back to the registry persons they change, each with its history."""
    changed: list[Person] = []
    changes: list[ChangeRecord] = []
    ids = sorted(updates)
    ring = SubjectKeyring()  # history sealed under each person's key (registry.snapshots)
    for i in range(0, len(ids), 900):
        batch = Person.objects.select_related("household").in_bulk(ids[i : i + 900])
        ring.load(p.public_id for p in batch.values())
        for pk in ids[i : i + 900]:
            person = batch[pk]
            if person.erased_at is not None:
                continue  # erased (UU 27/2022 Art. 8): nothing new is recorded about them
            reg, fields = updates[pk]
            hpid = person.household.public_id
            phone = (
                sealed.unseal(person.phone_enc, context=PHONE_CONTEXT, row=person.public_id)
                if person.phone_enc
                else ""
            )
            before = person_snapshot(
                person, household_public_id=hpid, nik=reg.values["nik"], phone=phone
            )
            used: set[str] = set()
            for name, value in _person_updates(fields).items():
                value = _coerce(name, value)
                if name == "full_name":
                    if name_search_key(value) == name_search_key(person.full_name):
                        continue  # the same name, only in capitals: keep the registry's casing
                    if value.isupper():
                        value = value.title()
                if getattr(person, name) != value:
                    setattr(person, name, value)
                    used.add(fields[name]["source"])
            if not used:
                continue
            person.name_search = name_search_key(person.full_name)
            person.version += 1
            after = person_snapshot(
                person, household_public_id=hpid, nik=reg.values["nik"], phone=phone
            )
            if not diff(before, after):
                continue
            changed.append(person)
            changes.append(
                _change(
                    at=now,
                    entity_type="person",
                    entity_id=person.public_id,
                    household=person.household,
                    action="update",
                    before=before,
                    after=after,
                    source="integration:" + "+".join(sorted(used)),
                    reason=f"golden record, link run {run.public_id}",
                    acting_user=acting_user,
                    keyring=ring,
                )
            )
    for person in changed:
        person.updated_at = now
    update_rows(Person, changed, [*APPLIED_COLUMNS, "name_search", "version", "updated_at"])
    ring.save()
    ChangeRecord.objects.bulk_create(changes, batch_size=BATCH)
    return len(changed)


def _apply_households(
    *,
    run: LinkRun,
    acting_user: Any,
    household_values: list[tuple[_Rec, dict[str, Any]]],
    now: dt.datetime,
) -> int:
    """Household attributes from a survey (or any source authoritative for them) onto the
    registry household of the linked person, each change with its history record. When several
    linked members of one household carry survey values, the household head's record wins."""
    chosen: dict[int, dict[str, Any]] = {}
    for reg, fields in household_values:
        values = {
            k[len("household.") :]: v for k, v in fields.items() if k.startswith("household.")
        }
        if not values:
            continue
        hid = reg.household_id
        if hid is None:
            continue
        if hid not in chosen or reg.relationship == "head":
            chosen[hid] = values
    changed: list[Household] = []
    changes: list[ChangeRecord] = []
    ids = sorted(chosen)
    ring = SubjectKeyring()
    for i in range(0, len(ids), 900):
        batch = Household.objects.in_bulk(ids[i : i + 900])
        ring.load(household_subject(h.public_id) for h in batch.values())
        for hid in ids[i : i + 900]:
            household, values = batch[hid], chosen[hid]
            if ring.is_shredded(household_subject(household.public_id)):
                continue  # an erased family: nothing new is recorded about it
            updates = {
                n: v["value"]
                for n, v in values.items()
                if v["source"] != REGISTRY and getattr(household, n) != v["value"]
            }
            if not updates:
                continue
            before = household_snapshot(household)
            for name, value in updates.items():
                setattr(household, name, value)
            household.version += 1
            household.updated_at = now
            after = household_snapshot(household)
            used = sorted({values[n]["source"] for n in updates})
            changed.append(household)
            changes.append(
                _change(
                    at=now,
                    entity_type="household",
                    entity_id=household.public_id,
                    household=household,
                    action="update",
                    before=before,
                    after=after,
                    source="integration:" + "+".join(used),
                    reason=f"golden record, link run {run.public_id}",
                    acting_user=acting_user,
                    keyring=ring,
                )
            )
    update_rows(Household, changed, [*HOUSEHOLD_FIELDS, "version", "updated_at"])
    ring.save()
    ChangeRecord.objects.bulk_create(changes, batch_size=BATCH)
    return len(changed)


def _flags(
    *,
    run: LinkRun,
    members: dict[str, list[_Rec]],
    reg_of: dict[str, _Rec | None],
    recs: dict[str, _Rec],
    rules: dict[str, _SourceRules],
    full: bool,
) -> int:
    if full:
        Flag.objects.all().delete()
    else:
        touched = [r.pk for group in members.values() for r in group if r.source == REGISTRY]
        for i in range(0, len(touched), 900):
            Flag.objects.filter(person_id__in=touched[i : i + 900]).delete()
    today = timezone.localdate()
    out: list[tuple[Any, ...]] = []

    def add(person: _Rec, kind: str, source: str, on: dt.date | None, detail: str) -> None:
        out.append(
            (
                kind,
                person.pk,
                person.household_id,
                person.values.get("village_code") or "",
                source,
                on or today,
                detail[:255],
                run.pk,
            )
        )

    reference = [k for k, rl in rules.items() if rl.nik_reference]
    ref_index = set(
        StagedRecord.objects.filter(source__key__in=reference, current=True)
        .exclude(nik_index="")
        .values_list("nik_index", flat=True)
    )
    for cid, group in members.items():
        reg = [r for r in group if r.source == REGISTRY]
        if len(reg) > 1:
            for r in reg:
                others = ", ".join(o.uid.split(":", 1)[1] for o in reg if o is not r)
                add(r, "duplicate", "integration", today, f"sama dengan / same as {others}")
        person = reg_of[cid]
        if person is None:
            continue
        village = person.values.get("village_code") or ""
        raised: set[str] = set()
        for r in group:
            rl = rules.get(r.source)
            if rl is None:
                continue
            for rule in rl.flags:
                kind = str(rule.get("kind"))
                if kind in raised:
                    continue
                if "when" in rule and not r.values.get(rule["when"]):
                    continue
                if "attr" in rule:
                    try:
                        if float(r.attrs.get(rule["attr"], "") or 0) < float(rule.get("min", 0)):
                            continue
                    except ValueError:
                        continue
                detail = f"{r.source} {r.uid.split(':', 1)[1]}"
                if "attr" in rule:
                    detail += f" {rule['attr']}={r.attrs.get(rule['attr'])}"
                add(person, kind, r.source, r.delivered_on, detail)
                raised.add(kind)
            if (
                rl.nik_reference
                and "moved" not in raised
                and r.values.get("village_code")
                and r.values["village_code"][:4] != village[:4]
            ):
                add(
                    person,
                    "moved",
                    r.source,
                    r.delivered_on,
                    f"desa/village {r.values['village_code']}",
                )
                raised.add("moved")
    if ref_index:
        # Every registry person of the run (all of them on a full run) whose NIK the civil
        # registry does not know; linked or not.
        if full:
            checked: Any = (r for r in recs.values() if r.source == REGISTRY)
        else:
            checked = (r for g in members.values() for r in g if r.source == REGISTRY)
        label = ",".join(reference)
        for r in checked:
            if r.nik_index not in ref_index:
                add(r, "nik_not_found", label, today, "NIK tidak ada di Dukcapil")
    insert_rows(
        Flag,
        (
            "kind",
            "person_id",
            "household_id",
            "village_code",
            "source",
            "as_of",
            "detail",
            "link_run_id",
        ),
        out,
    )
    return len(out)


def _review_queue(*, run: LinkRun, uncertain: pd.DataFrame, recs: dict[str, _Rec]) -> None:
    new: list[ReviewPair] = []
    for left, right, prob in zip(
        uncertain["unique_id_l"],
        uncertain["unique_id_r"],
        uncertain["match_probability"],
        strict=True,
    ):
        a, b = (left, right) if left <= right else (right, left)
        village = recs[a].values.get("village_code") or recs[b].values.get("village_code") or ""
        new.append(
            ReviewPair(
                left_key=a,
                right_key=b,
                probability=float(prob),
                village_code=str(village),
                link_run=run,
            )
        )
    ReviewPair.objects.bulk_create(new, batch_size=BATCH, ignore_conflicts=True)


def _link_incremental(*, acting_user: Any, engine: str, model: LinkModel) -> LinkRun:
    run = LinkRun.objects.create(
        engine=engine,
        mode=LinkRun.Mode.INCREMENTAL,
        model=model,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    try:
        t0 = time.perf_counter()
        frame, recs = _load_records()
        load_s = round(time.perf_counter() - t0, 2)
        is_new = frame["unique_id"].map(lambda u: not recs[u].cluster_id)
        new, existing = frame[is_new], frame[~is_new]
        stats: dict[str, Any] = {"seconds_load": load_s, "new_records": int(is_new.sum())}
        if len(new):
            forced, forbidden = _decisions()
            out = linkage.link_new_records(
                new,
                existing,
                model_json=model.settings_json,
                match_threshold=conf.match_threshold(),
                review_threshold=conf.review_threshold(),
                forced=forced,
                forbidden=forbidden,
                engine=engine,
                cluster_of={u: r.cluster_id for u, r in recs.items() if r.cluster_id},
            )
            stats.update(out.stats)
            t0 = time.perf_counter()
            members, replaced = _merge_new(out.edges, recs, list(new["unique_id"]))
            with transaction.atomic():
                stats.update(
                    _apply(
                        run=run,
                        acting_user=acting_user,
                        members=members,
                        uncertain=out.uncertain,
                        recs=recs,
                        replaced_clusters=replaced,
                    )
                )
            stats["seconds_apply"] = round(time.perf_counter() - t0, 2)
        run.stats = {**stats, "model_version": model.version}
        run.status = LinkRun.Status.DONE
        run.finished_at = timezone.now()
        run.save()
    except Exception as exc:
        LinkRun.objects.filter(pk=run.pk).update(
            status=LinkRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    audit_record(
        actor=acting_user,
        action="integration.link",
        target_type="link_run",
        target_id=run.public_id,
        detail={k: v for k, v in run.stats.items() if isinstance(v, (int, float, str))},
    )
    return run


def _merge_new(
    edges: pd.DataFrame, recs: dict[str, _Rec], new_ids: list[str]
) -> tuple[dict[str, list[_Rec]], set[str]]:
    """Union the new records into existing clusters (a new record may join two clusters).
    Returns the affected clusters' full membership and the cluster ids they replace."""
    parent: dict[str, str] = {}

    def node(uid: str) -> str:
        return recs[uid].cluster_id or uid

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(edges["unique_id_l"], edges["unique_id_r"], strict=True):
        ra, rb = find(node(a)), find(node(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    for uid in new_ids:
        find(node(uid))
    touched = set(parent)
    by_cluster: dict[str, list[_Rec]] = defaultdict(list)
    for r in recs.values():
        key = r.cluster_id or r.uid
        if key in touched:
            by_cluster[find(key)].append(r)
    existing_ids = {r.cluster_id for r in recs.values() if r.cluster_id}
    return dict(by_cluster), touched & existing_ids
