"""Flags and the review queue: what a run raises about registry persons (duplicates, a source's
flag rules, a move, a NIK the civil registry does not know) and the uncertain pairs it leaves
for a reviewer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from django.utils import timezone

from tepat.core.bulk import insert_rows
from tepat.integration.golden.loading import BATCH, REGISTRY, _Rec
from tepat.integration.golden.survivorship import _SourceRules
from tepat.integration.models import Flag, LinkRun, ReviewPair, StagedRecord


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
