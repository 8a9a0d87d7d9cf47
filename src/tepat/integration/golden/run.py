"""A linkage run end to end (`link_run_execute`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max

from tepat.integration import conf, linkage
from tepat.integration.golden.apply import _apply, _members
from tepat.integration.golden.incremental import _link_incremental
from tepat.integration.golden.loading import _decisions, _load_records
from tepat.integration.golden.runs import run_audit, run_done, run_failed
from tepat.integration.models import LinkModel, LinkRun

if TYPE_CHECKING:
    from tepat.accounts.models import User


def link_run_execute(
    *,
    acting_user: User | None,
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
        run_done(run, stats={
            **out.stats,
            **timings,
            **applied,
            "model_version": model.version if model else None,
        })  # fmt: skip
    except Exception as exc:
        run_failed(run, exc)
        raise
    run_audit(run, acting_user=acting_user)
    return run
