"""The cluster stage's set-based parts agree with what they replace (Splink's clustering, the
per-pair Python of the clerical decisions), on small frames (no database, no training)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from tepat.integration import linkage


def _splink_clusters(ids: list[str], edges: pd.DataFrame) -> dict[str, str]:
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    out = cluster_pairwise_predictions_at_threshold(
        pd.DataFrame({"unique_id": ids}),
        edges,
        linkage.db_api(),
        node_id_column_name="unique_id",
        threshold_match_probability=0.95,
    ).as_pandas_dataframe()  # type: ignore[no-untyped-call]
    return dict(zip(out["unique_id"], out["cluster_id"], strict=True))


def test_components_are_splinks_clusters_named_after_their_smallest_id():
    rnd = random.Random(5)
    # Ids whose text order is not their number's ("dtsen:10" < "dtsen:9"), some non-ASCII.
    ids = [f"{src}:{i}" for src in ("dtsen", "pln", "bpjs", "Ésa") for i in range(150)]
    rnd.shuffle(ids)
    pairs = [tuple(rnd.sample(ids, 2)) for _ in range(350)] + [(ids[0], ids[0])]
    edges = pd.DataFrame(
        {
            "unique_id_l": [a for a, _ in pairs],
            "unique_id_r": [b for _, b in pairs],
            "match_probability": 0.99,
        }
    )
    ours = linkage.connected_components(pd.Series(ids, dtype="str"), edges)
    assert list(ours["unique_id"]) == ids
    assert dict(zip(ours["unique_id"], ours["cluster_id"], strict=True)) == _splink_clusters(
        ids, edges
    )
    alone = linkage.connected_components(pd.Series(ids, dtype="str"), edges.iloc[:0])
    assert (alone["cluster_id"] == alone["unique_id"]).all()


def test_decisions_on_records_gone_since_are_set_aside_before_clustering():
    """A clerk accepted or rejected a pair; one record was superseded since. The decision has
    nothing left to join: it must not add a record the run does not have (the link run failed
    on it) nor reach the clustering, which refuses an edge to an unknown record."""
    ids = pd.Series(["a", "b", "c"])
    forced, forbidden = linkage.decisions_in(
        ids, forced=[("a", "b"), ("gone", "b")], forbidden=[("c", "gone"), ("b", "c")]
    )
    assert forced == [("a", "b")]
    assert forbidden == [("b", "c")]
    edges = pd.DataFrame(
        {"unique_id_l": ["a", "gone"], "unique_id_r": ["b", "b"], "match_probability": 1.0}
    )
    with pytest.raises(ValueError, match="not in the run"):
        linkage.connected_components(ids, edges)


def test_decisions_drop_rejected_pairs_force_accepted_ones_and_add_unscored_ones():
    pred = pd.DataFrame(
        {
            "unique_id_l": ["a", "c", "e", "g", "i"],
            "unique_id_r": ["b", "d", "f", "h", "j"],
            "match_probability": [0.99, 0.6, 0.7, 0.97, 0.8],
        },
        index=[10, 11, 12, 13, 14],
    )
    out = linkage.apply_decisions(
        pred,
        forced=[("d", "c"), ("x", "y"), ("g", "h")],
        forbidden=[("b", "a"), ("h", "g"), ("e", "z")],
    )
    got = {(a, b): p for a, b, p in out.itertuples(index=False)}
    # A pair both accepted and rejected is dropped as scored, then added back as accepted.
    assert got == {
        ("c", "d"): 1.0,
        ("e", "f"): 0.7,
        ("i", "j"): 0.8,
        ("x", "y"): 1.0,
        ("g", "h"): 1.0,
    }
    only_rejected = linkage.apply_decisions(pred, forced=[], forbidden=[("a", "b")])
    assert list(only_rejected.index) == [11, 12, 13, 14]


def test_a_pair_with_a_record_not_in_the_frame_rests_on_the_name():
    row = dict.fromkeys(linkage.RECORD_COLUMNS, "")
    row |= {"unique_id": "a", "full_name": "MAYA SARI", "village_code": "3273101001"}
    df = linkage.prepare(pd.DataFrame([row]))
    pred = pd.DataFrame(
        {"unique_id_l": ["a"], "unique_id_r": ["gone"], "match_probability": [0.99]}
    )
    # Nothing corroborates it, not even the village: it goes to review.
    out = linkage.guard_name_only(pred, df, 0.95)
    assert out["match_probability"].iloc[0] < 0.95
