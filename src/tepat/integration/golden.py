"""A linkage run end to end: records out of staging and the registry, Splink, then in one
transaction: clusters, golden records, registry updates (with change records), flags and the
review queue."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from tepat.core import crypto
from tepat.core.audit import audit_record
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
from tepat.registry.cleaning import name_search_key
from tepat.registry.models import ChangeRecord, Household, Person
from tepat.registry.services import _change
from tepat.registry.snapshots import KK_CONTEXT as REG_KK_CONTEXT
from tepat.registry.snapshots import NIK_CONTEXT as REG_NIK_CONTEXT
from tepat.registry.snapshots import PHONE_CONTEXT, diff, household_snapshot, person_snapshot

REGISTRY = "registry"
# Person fields a golden record may write back to the registry.
APPLIED_FIELDS = ("full_name", "sex", "birth_date", "deceased_on")
BATCH = 2000


@dataclass
class _Rec:
    uid: str
    source: str
    pk: int  # StagedRecord id, or Person id for registry rows
    delivered_on: dt.date | None
    values: dict[str, Any]
    attrs: dict[str, Any]
    cluster_id: str = ""


def _load_records() -> tuple[pd.DataFrame, dict[str, _Rec]]:
    rows: list[dict[str, Any]] = []
    recs: dict[str, _Rec] = {}
    staged = StagedRecord.objects.filter(current=True, source__active=True).values_list(
        "id",
        "source__key",
        "record_id",
        "nik_enc",
        "kk_enc",
        "full_name",
        "sex",
        "birth_date",
        "village_code",
        "address",
        "deceased_on",
        "attrs",
        "run__delivered_on",
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
        attrs,
        on,
        cid,
    ) in staged.iterator(chunk_size=BATCH):
        uid = f"{src}:{rid}"
        nik = crypto.decrypt(nik_enc, context=NIK_CONTEXT) if nik_enc else ""
        kk = crypto.decrypt(kk_enc, context=KK_CONTEXT) if kk_enc else ""
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
        recs[uid] = _Rec(uid, src, pk, on, values, attrs or {}, cid)
        rows.append(
            {
                "unique_id": uid,
                "source": src,
                **values,
                "birth_date": born.isoformat() if born else "",
            }
        )
    people = Person.objects.values_list(
        "id",
        "public_id",
        "nik_enc",
        "full_name",
        "sex",
        "birth_date",
        "deceased_on",
        "household__village_id",
        "household__address",
        "household__kk_enc",
    )
    kk_cache: dict[str, str] = {}
    person_cluster = {
        pk: cid
        for cid, pks in GoldenRecord.objects.values_list("cluster_id", "registry_persons")
        for pk in pks
    }
    for pk, pid, nik_enc, name, sex, born, died, village, address, kk_enc in people.iterator(
        chunk_size=BATCH
    ):
        uid = f"{REGISTRY}:{pid}"
        if kk_enc not in kk_cache:
            kk_cache[kk_enc] = crypto.decrypt(kk_enc, context=REG_KK_CONTEXT)
        values = {
            "nik": crypto.decrypt(nik_enc, context=REG_NIK_CONTEXT),
            "kk": kk_cache[kk_enc],
            "full_name": name,
            "sex": sex,
            "birth_date": born,
            "village_code": village,
            "address": address,
            "deceased_on": died,
        }
        recs[uid] = _Rec(uid, REGISTRY, pk, None, values, {}, person_cluster.get(pk, ""))
        rows.append(
            {
                "unique_id": uid,
                "source": REGISTRY,
                **values,
                "birth_date": born.isoformat() if born else "",
            }
        )
    frame = pd.DataFrame(rows, columns=[*linkage.RECORD_COLUMNS, "deceased_on"])
    return frame.drop(columns=["deceased_on"]), recs


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
        saved = None if retrain else LinkModel.objects.order_by("-version").first()
        forced, forbidden = _decisions()
        out = linkage.link(
            frame,
            model_json=saved.settings_json if saved else None,
            match_threshold=conf.match_threshold(),
            review_threshold=conf.review_threshold(),
            forced=forced,
            forbidden=forbidden,
            engine=engine,
        )
        t0 = time.perf_counter()
        with transaction.atomic():
            model = saved
            if out.trained:
                version = (LinkModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
                model = LinkModel.objects.create(
                    version=version,
                    settings_json=out.model_json,
                    trained_on_records=len(frame),
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


def _person_value(r: _Rec, field: str) -> Any:
    return r.values.get(field)


def _household_value(r: _Rec, field: str) -> Any:
    return (r.attrs.get("household") or {}).get(field)


def _pick(
    field: str,
    members: list[_Rec],
    sources: dict[str, Source],
    current: Any,
    get: Any = _person_value,
) -> tuple[Any, str, str] | None:
    """The golden value of one field: the authoritative source with the highest precedence;
    within it the most common value, the registry's current value winning a tie."""
    best: list[_Rec] = []
    best_prec = None
    for r in members:
        src = sources.get(r.source)
        if src is None or field not in src.config.get("authoritative_for", []):
            continue
        if get(r, field) in (None, ""):
            continue
        if best_prec is None or src.precedence > best_prec:
            best, best_prec = [r], src.precedence
        elif src.precedence == best_prec:
            best.append(r)
    if not best:
        return None
    counts = Counter(get(r, field) for r in best)
    top = max(counts.values())
    winners = [v for v, n in counts.items() if n == top]
    value = current if current in winners else sorted(winners, key=str)[0]
    rec = next(r for r in best if get(r, field) == value)
    return value, rec.source, rec.uid.split(":", 1)[1]


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _members(out: linkage.LinkOutput, recs: dict[str, _Rec]) -> dict[str, list[_Rec]]:
    members: dict[str, list[_Rec]] = defaultdict(list)
    for uid, cid in zip(out.clusters["unique_id"], out.clusters["cluster_id"], strict=True):
        members[str(cid)].append(recs[uid])
    return members


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
    (`replaced_clusters` None) replace everything; incremental runs only the given clusters."""
    sources = {s.key: s for s in Source.objects.all()}

    # Clusters and the registry person of each staged record.
    person_of: dict[str, int | None] = {}
    for cid, group in members.items():
        reg = [r for r in group if r.source == REGISTRY]
        person_of[cid] = reg[0].pk if len(reg) == 1 else None
    # executemany of one plain UPDATE: far faster than bulk_update's CASE WHEN on 1e5+ rows.
    table = connection.ops.quote_name(StagedRecord._meta.db_table)
    rows = [
        (cid[:40], person_of[cid], r.pk)
        for cid, group in members.items()
        for r in group
        if r.source != REGISTRY
    ]
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 10_000):
            cursor.executemany(
                f"UPDATE {table} SET cluster_id = %s, person_id = %s WHERE id = %s",  # noqa: S608
                rows[i : i + 10_000],
            )

    # Golden records with per-field provenance; registry write-back with history.
    if replaced_clusters is None:
        GoldenRecord.objects.all().delete()
    else:
        ids = sorted(replaced_clusters | {c[:40] for c in members})
        for i in range(0, len(ids), 900):
            GoldenRecord.objects.filter(cluster_id__in=ids[i : i + 900]).delete()
    persons = Person.objects.select_related("household").in_bulk(
        [pk for pk in person_of.values() if pk is not None]
    )
    goldens: list[GoldenRecord] = []
    household_values: list[tuple[Person, dict[str, Any]]] = []
    changed: list[Person] = []
    changes: list[ChangeRecord] = []
    now = timezone.now()
    for cid, group in members.items():
        pk = person_of[cid]
        person = persons.get(pk) if pk is not None else None
        fields: dict[str, Any] = {}
        for name in (*APPLIED_FIELDS, "village_code", "address"):
            current = getattr(person, name, None) if person is not None else None
            picked = _pick(name, group, sources, current)
            if picked is not None:
                value, src, rid = picked
                fields[name] = {"value": _json(value), "source": src, "record": rid}
        for name in HOUSEHOLD_FIELDS:
            household = person.household if person is not None else None
            picked = _pick(
                name, group, sources, getattr(household, name, None), get=_household_value
            )
            if picked is not None:
                value, src, rid = picked
                fields["household." + name] = {"value": value, "source": src, "record": rid}
        if person is not None:
            household_values.append((person, fields))
        nik_idx = ""
        niks = [r.values["nik"] for r in group if r.values.get("nik")]
        if niks:
            nik_idx = crypto.blind_index(Counter(niks).most_common(1)[0][0], purpose="nik")
        goldens.append(
            GoldenRecord(
                cluster_id=cid[:40],
                person_id=pk,
                nik_index=nik_idx,
                village_code=(person.household.village_id if person else "")
                or next((r.values["village_code"] for r in group if r.values["village_code"]), ""),
                fields=fields,
                sources=sorted({r.source for r in group}),
                registry_persons=[r.pk for r in group if r.source == REGISTRY],
                record_count=len(group),
                link_run=run,
            )
        )
        if person is None:
            continue
        updates = {
            n: fields[n]["value"]
            for n in APPLIED_FIELDS
            if n in fields and fields[n]["source"] != REGISTRY
        }
        if not updates:
            continue
        reg_rec = recs[f"{REGISTRY}:{person.public_id}"]
        hpid = person.household.public_id
        phone = crypto.decrypt(person.phone_enc, context=PHONE_CONTEXT) if person.phone_enc else ""
        before = person_snapshot(
            person, household_public_id=hpid, nik=reg_rec.values["nik"], phone=phone
        )
        used: set[str] = set()
        for name, value in updates.items():
            if name in ("birth_date", "deceased_on") and isinstance(value, str):
                value = dt.date.fromisoformat(value)
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
            person, household_public_id=hpid, nik=reg_rec.values["nik"], phone=phone
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
            )
        )
    GoldenRecord.objects.bulk_create(goldens, batch_size=BATCH)
    Person.objects.bulk_update(
        changed, [*APPLIED_FIELDS, "name_search", "version", "updated_at"], batch_size=BATCH
    )
    ChangeRecord.objects.bulk_create(changes, batch_size=BATCH)
    households_changed = _apply_households(
        run=run, acting_user=acting_user, household_values=household_values, now=now
    )

    flags = _flags(
        run=run,
        members=members,
        person_of=person_of,
        persons=persons,
        sources=sources,
        full=replaced_clusters is None,
    )
    _review_queue(run=run, uncertain=uncertain, recs=recs)
    return {
        "golden_records": len(goldens),
        "registry_updates": len(changed),
        "household_updates": households_changed,
        "flags": flags,
        "linked_persons": sum(1 for v in person_of.values() if v is not None),
    }


def _apply_households(
    *,
    run: LinkRun,
    acting_user: Any,
    household_values: list[tuple[Person, dict[str, Any]]],
    now: dt.datetime,
) -> int:
    """Household attributes from a survey (or any source authoritative for them) onto the
    registry household of the linked person, each change with its history record. When several
    linked members of one household carry survey values, the household head's record wins."""
    chosen: dict[int, tuple[Person, dict[str, Any]]] = {}
    for person, fields in household_values:
        values = {
            k[len("household.") :]: v for k, v in fields.items() if k.startswith("household.")
        }
        if not values:
            continue
        hid = person.household_id
        if hid not in chosen or person.relationship == "head":
            chosen[hid] = (person, values)
    changed: list[Household] = []
    changes: list[ChangeRecord] = []
    for person, values in chosen.values():
        household = person.household
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
            )
        )
    Household.objects.bulk_update(
        changed, [*HOUSEHOLD_FIELDS, "version", "updated_at"], batch_size=BATCH
    )
    ChangeRecord.objects.bulk_create(changes, batch_size=BATCH)
    return len(changed)


def _flags(
    *,
    run: LinkRun,
    members: dict[str, list[_Rec]],
    person_of: dict[str, int | None],
    persons: dict[int, Person],
    sources: dict[str, Source],
    full: bool,
) -> int:
    if full:
        Flag.objects.all().delete()
    else:
        touched = [r.pk for group in members.values() for r in group if r.source == REGISTRY]
        for i in range(0, len(touched), 900):
            Flag.objects.filter(person_id__in=touched[i : i + 900]).delete()
    today = timezone.localdate()
    out: list[Flag] = []

    def add(person: Person, kind: str, source: str, on: dt.date | None, detail: str) -> None:
        out.append(
            Flag(
                kind=kind,
                person=person,
                household=person.household,
                village_code=person.household.village_id,
                source=source,
                as_of=on or today,
                detail=detail[:255],
                link_run=run,
            )
        )

    reference = [k for k, s in sources.items() if s.config.get("nik_reference")]
    ref_index = set(
        StagedRecord.objects.filter(source__key__in=reference, current=True)
        .exclude(nik_index="")
        .values_list("nik_index", flat=True)
    )
    for cid, group in members.items():
        reg = [r for r in group if r.source == REGISTRY]
        if len(reg) > 1:
            dupes = Person.objects.select_related("household").in_bulk([r.pk for r in reg])
            for r in reg:
                others = ", ".join(o.uid.split(":", 1)[1] for o in reg if o is not r)
                add(
                    dupes[r.pk],
                    "duplicate",
                    "integration",
                    today,
                    f"sama dengan / same as {others}",
                )
        pk = person_of[cid]
        if pk is None:
            continue
        person = persons[pk]
        raised: set[str] = set()
        for r in group:
            src = sources.get(r.source)
            if src is None:
                continue
            for rule in src.config.get("flags", []):
                kind = rule.get("kind")
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
                src.config.get("nik_reference")
                and "moved" not in raised
                and r.values.get("village_code")
                and r.values["village_code"][:4] != person.household.village_id[:4]
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
        for person in persons.values():
            if person.nik_index not in ref_index:
                add(
                    person, "nik_not_found", ",".join(reference), today, "NIK tidak ada di Dukcapil"
                )
        # Registry persons in ambiguous clusters were not in `persons`; check them too.
        # Filtered here, not with pk__in / exclude(pk__in=...): at a million persons that many
        # parameters exceed SQLite's limit (and make a slow plan on PostgreSQL).
        linked = set(persons)
        wanted = (
            None
            if full
            else {r.pk for g in members.values() for r in g if r.source == REGISTRY} - linked
        )
        people = Person.objects.select_related("household").order_by("pk")
        if wanted is None:
            batches: Any = [people.iterator(chunk_size=BATCH)]
        else:
            ids = sorted(wanted)
            batches = (people.filter(pk__in=ids[i : i + 900]) for i in range(0, len(ids), 900))
        for person in (p for batch in batches for p in batch):
            if person.pk in linked:
                continue
            if person.nik_index not in ref_index:
                add(
                    person, "nik_not_found", ",".join(reference), today, "NIK tidak ada di Dukcapil"
                )
    Flag.objects.bulk_create(out, batch_size=BATCH)
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
