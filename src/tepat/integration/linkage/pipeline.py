"""The linkage runs: a full run (train or load the model, predict, apply the rules and clerical
decisions, cluster) and an incremental one (a new delivery scored against what is linked)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tepat.integration.linkage.backends import backend_for
from tepat.integration.linkage.clustering import (
    cluster,
    new_record_unique_name_edges,
    still_apart,
)
from tepat.integration.linkage.prediction import (
    apply_decisions,
    decisions_in,
    guard_name_only,
    predict,
    predict_new,
)
from tepat.integration.linkage.preparation import prepare
from tepat.integration.linkage.training import floor_m, train


@dataclass
class LinkOutput:
    clusters: pd.DataFrame  # unique_id, cluster_id
    uncertain: pd.DataFrame  # unique_id_l, unique_id_r, match_probability
    model_json: dict[str, Any]
    trained: bool
    stats: dict[str, Any] = field(default_factory=dict)


def link(
    records: pd.DataFrame,
    *,
    model_json: dict[str, Any] | None,
    match_threshold: float,
    review_threshold: float,
    forced: list[tuple[str, str]] | None = None,
    forbidden: list[tuple[str, str]] | None = None,
    engine: str = "duckdb",
    prepared: bool = False,
) -> LinkOutput:
    """Train (when no saved model is given), predict, apply clerical decisions and cluster.
    `prepared`: the records come from `prepare` already (a caller that drops its own frame
    before linking, so that a million records are not held twice)."""
    from splink import Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    backend = backend_for(engine)
    stats: dict[str, Any] = {"records": len(records)}
    t0 = time.perf_counter()
    df = records if prepared else prepare(records)
    if not prepared:
        stats["seconds_prepare"] = round(time.perf_counter() - t0, 2)
    api = backend.database_api()
    t0 = time.perf_counter()
    table = api.register(df, table_name="records")
    trained = model_json is None
    settings: Any = (
        backend.training_settings() if model_json is None else backend.scoring_model(model_json)
    )
    linker = Linker(table, settings, log_level=logging.WARNING)
    if trained:
        train(linker)
        model_json = floor_m(linker.misc.save_model_to_json())
        linker = Linker(table, model_json, log_level=logging.WARNING)
    stats["seconds_train"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    pred = predict(linker, review_threshold=review_threshold)
    stats["seconds_predict"] = round(time.perf_counter() - t0, 2)
    stats["pairs_scored_above_review"] = len(pred)
    t0 = time.perf_counter()
    forced, forbidden = decisions_in(df["unique_id"], forced or [], forbidden or [])
    pred = guard_name_only(pred, df, match_threshold)
    pred = apply_decisions(pred, forced, forbidden)
    edges = pred[pred["match_probability"] >= match_threshold]
    uncertain = pred[
        (pred["match_probability"] >= review_threshold)
        & (pred["match_probability"] < match_threshold)
    ].reset_index(drop=True)
    clustered, unique_name_links = cluster(df, edges, forbidden)
    stats["unique_name_links"] = unique_name_links
    uncertain = still_apart(uncertain, clustered)
    stats["seconds_cluster"] = round(time.perf_counter() - t0, 2)
    stats["matches"] = len(edges)
    stats["uncertain"] = len(uncertain)
    stats["clusters"] = int(clustered["cluster_id"].nunique())
    return LinkOutput(
        clusters=clustered[["unique_id", "cluster_id"]],
        uncertain=uncertain,
        model_json=model_json or {},
        trained=trained,
        stats=stats,
    )


@dataclass
class IncrementalOutput:
    edges: pd.DataFrame  # unique_id_l, unique_id_r, match_probability (>= match threshold)
    uncertain: pd.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)


def link_new_records(
    new: pd.DataFrame,
    existing: pd.DataFrame,
    *,
    model_json: dict[str, Any],
    match_threshold: float,
    review_threshold: float,
    forced: list[tuple[str, str]] | None = None,
    forbidden: list[tuple[str, str]] | None = None,
    engine: str = "duckdb",
    cluster_of: dict[str, str] | None = None,
) -> IncrementalOutput:
    """Score a new delivery against what is already linked (`predict_between`) and within
    itself (`predict_within`) with the saved model: no retraining, no full rebuild."""
    from splink import Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    backend = backend_for(engine)
    stats: dict[str, Any] = {"new_records": len(new), "existing_records": len(existing)}
    t0 = time.perf_counter()
    api = backend.database_api()
    new_df, old_df = prepare(new), prepare(existing)
    # Term frequencies of names over everything known, as Splink computes them in a full run.
    names = pd.concat([new_df["name_norm"], old_df["name_norm"]]).dropna()
    freq = names.value_counts(normalize=True).rename("tf_name_norm").rename_axis("name_norm")
    new_t = api.register(new_df, table_name="new_records")
    old_t = api.register(old_df, table_name="existing_records")
    linker = Linker(old_t, backend.scoring_model(model_json), log_level=logging.WARNING)
    linker.table_management.register_term_frequency_lookup(
        api.register(freq.reset_index(), table_name="tf_name_norm_lookup"), "name_norm"
    )
    pred = predict_new(linker, new_t, old_t, review_threshold=review_threshold)
    every = pd.concat([new_df, old_df], ignore_index=True)
    forced, forbidden = decisions_in(every["unique_id"], forced or [], forbidden or [])
    pred = guard_name_only(pred, every, match_threshold)
    pred = apply_decisions(pred, forced, forbidden)
    stats["seconds_predict"] = round(time.perf_counter() - t0, 2)
    edges = pred[pred["match_probability"] >= match_threshold].reset_index(drop=True)
    uncertain = pred[
        (pred["match_probability"] >= review_threshold)
        & (pred["match_probability"] < match_threshold)
    ].reset_index(drop=True)
    if cluster_of is not None:
        extra = new_record_unique_name_edges(every, edges, cluster_of, forbidden)
        stats["unique_name_links"] = len(extra)
        if not extra.empty:
            edges = pd.concat([edges, extra], ignore_index=True)
    stats["matches"] = len(edges)
    stats["uncertain"] = len(uncertain)
    return IncrementalOutput(edges=edges, uncertain=uncertain, stats=stats)
