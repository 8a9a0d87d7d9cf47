"""Incremental linking: only the records not linked yet are scored, against the linked ones,
and merged into the existing clusters."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db import transaction

from tepat.integration import conf, linkage
from tepat.integration.golden.apply import _apply
from tepat.integration.golden.loading import _decisions, _load_records, _Rec
from tepat.integration.golden.runs import run_audit, run_done, run_failed
from tepat.integration.models import LinkModel, LinkRun

if TYPE_CHECKING:
    from tepat.accounts.models import User


def _link_incremental(*, acting_user: User | None, engine: str, model: LinkModel) -> LinkRun:
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
        run_done(run, stats={**stats, "model_version": model.version})
    except Exception as exc:
        run_failed(run, exc)
        raise
    run_audit(run, acting_user=acting_user)
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
