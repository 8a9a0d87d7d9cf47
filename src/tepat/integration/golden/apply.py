"""Applying a linkage result in one transaction: clusters onto the staged records, golden
records, then the registry write-back, flags and the review queue."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.utils import timezone

from tepat.core import crypto
from tepat.core.bulk import insert_rows, json_text, update_values
from tepat.core.gcpause import gc_paused
from tepat.integration import linkage
from tepat.integration.golden.flags import _flags, _review_queue
from tepat.integration.golden.loading import REGISTRY, _Rec
from tepat.integration.golden.survivorship import (
    GOLDEN_PERSON_FIELDS,
    _household_value,
    _households_now,
    _person_fields,
    _pick,
    _source_rules,
)
from tepat.integration.golden.writeback import (
    _apply_households,
    _apply_persons,
    _may_change_person,
)
from tepat.integration.models import GoldenRecord, LinkRun, StagedRecord
from tepat.integration.sources import HOUSEHOLD_FIELDS

if TYPE_CHECKING:
    from tepat.accounts.models import User


def _members(out: linkage.LinkOutput, recs: dict[str, _Rec]) -> dict[str, list[_Rec]]:
    members: dict[str, list[_Rec]] = defaultdict(list)
    for uid, cid in zip(out.clusters["unique_id"], out.clusters["cluster_id"], strict=True):
        members[str(cid)].append(recs[uid])
    return members


@gc_paused()
def _apply(
    *,
    run: LinkRun,
    acting_user: User | None,
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
