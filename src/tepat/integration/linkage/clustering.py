"""Clustering: the connected components of the matched pairs, and the last deterministic pass
that joins records carrying nothing but a rare name to the one person who bears it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tepat.integration.linkage.frames import positions


def connected_components(ids: pd.Series, edges: pd.DataFrame) -> pd.DataFrame:
    """The clusters Splink's cluster_pairwise_predictions_at_threshold gives (the connected
    components of the edges, each named after its smallest unique_id), in one scipy call: Splink's
    iterated SQL took seconds at a million records. Rows in the order of `ids`; every edge must
    join two of them (decisions_in drops clerical decisions on records gone since)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as components

    n, m = len(ids), len(edges)
    at = positions(ids, pd.concat([edges["unique_id_l"], edges["unique_id_r"]]))
    if (at < 0).any():
        raise ValueError("an edge names a record that is not in the run")
    graph = coo_matrix((np.ones(m, dtype=np.int8), (at[:m], at[m:])), shape=(n, n))
    count, label = components(graph, directed=False)
    # A component's smallest id (DuckDB's min: byte order of UTF-8, as Arrow sorts) is the one
    # of its records first in sorted order.
    order = np.asarray(pc.sort_indices(pa.array(ids)), dtype=np.intp)
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n)
    first = np.full(count, n, dtype=np.intp)
    np.minimum.at(first, label, rank)
    return pd.DataFrame({"unique_id": ids.array, "cluster_id": ids.array.take(order[first][label])})


def _cluster_of(clusters: pd.DataFrame, ids: set[Any]) -> dict[Any, Any]:
    """unique_id -> cluster_id for a few records (a dict of all a million costs seconds)."""
    few = clusters[clusters["unique_id"].isin(ids)]
    return dict(zip(few["unique_id"], few["cluster_id"], strict=True))


def unique_name_edges(
    df: pd.DataFrame, clusters: pd.DataFrame, forbidden: list[tuple[str, str]]
) -> pd.DataFrame:
    """A last, deterministic pass for records that carry nothing but a name (an electricity
    customer or a survey household head without NIK): the model cannot link them, as a name
    alone never outweighs a different village, and a name and a village without a house or a
    birth date stay under the match threshold. Such a record, left alone after clustering, joins
    a person in two cases (word order ignored; a clerk's rejection of any pair with that cluster
    wins; the cluster must hold an identified record, with NIK or birth date):

    - in its own village, when the record has no street address (a survey household head,
      enumerated at home: the village is all the place it carries): its full name belongs to
      exactly one other cluster with a record in that village, and the name is rare enough that
      fewer than UNIQUE_NAME_MAX_NAMESAKES of the village's people would bear it by chance.
      Single names (common in Java) qualify when rare. A record with an address that the model
      did not find at the person's house (an electricity meter: often the earlier owner's or a
      landlord's name) is not corroborated by the village, so it takes the run-wide rule;
    - anywhere in the run (an old address, a meter at another house): its full name (two or
      more words, no initials) belongs to exactly one other cluster in the whole run and fewer
      than UNIQUE_NAME_MAX_NAMESAKES of the run's people would bear it by chance.

    Expected namesakes come from how often each word occurs in the people's names (words taken
    as independent). Measured on the synthetic region in docs/integration.md (it trades a
    little precision for recall). Set-based: one pass of joins, no per-record Python.
    Returns edges unique_id_l (the lone record) -> unique_id_r (a record of the cluster)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = ["unique_id_l", "unique_id_r", "match_probability"]
    fields = ["unique_id", "nik", "birth_date", "name_sorted", "village_code", "address_norm"]
    if clusters["unique_id"].array.equals(df["unique_id"].array):
        # The clusters of df's records in their order (cluster, new_record_unique_name_edges):
        # no join.
        rec = df[fields].reset_index(drop=True)
        rec.insert(1, "cluster_id", clusters["cluster_id"].array)
    else:
        rec = clusters[["unique_id", "cluster_id"]].merge(df[fields], on="unique_id", how="left")
    # Integer codes of clusters and names: grouping a million strings costs seconds.
    cluster, cluster_ids = pd.factorize(rec["cluster_id"])
    n_people = len(cluster_ids)
    no_id = (rec["nik"].isna() & rec["birth_date"].isna()).to_numpy()
    name, names = pd.factorize(rec["name_sorted"])
    lone = rec[(np.bincount(cluster, minlength=n_people)[cluster] == 1) & no_id & (name >= 0)]
    words = lone["name_sorted"].str.split()
    lone = lone[words.map(lambda t: len(t) >= 1 and min(map(len, t)) >= 3)]
    if lone.empty:
        return pd.DataFrame(columns=cols)
    # Word frequencies among the people of the run (one name per cluster and spelling): each
    # spelling's words, counted once per cluster bearing it.
    named_pairs = pd.unique(cluster[name >= 0].astype(np.int64) * len(names) + name[name >= 0])
    bearers = np.bincount(named_pairs % len(names), minlength=len(names))
    spelled = pc.utf8_split_whitespace(pa.array(names))  # names are letters and spaces
    weight = bearers[np.asarray(pc.list_parent_indices(spelled))]
    spelled = pc.list_flatten(spelled)
    exploded = lone["name_sorted"].str.split().explode()
    wanted = np.asarray(pc.is_in(spelled, value_set=pa.array(exploded.unique())))
    counts = pd.Series(weight[wanted]).groupby(np.asarray(spelled.filter(wanted))).sum()
    freq = counts / weight.sum()
    name_share = exploded.map(freq).fillna(0.0).astype(float).groupby(level=0).prod()
    lone = lone.assign(
        share=name_share.reindex(lone.index), words=lone["name_sorted"].str.count(" ") + 1
    )
    # Records of a cluster that holds an identified record (with NIK or birth date).
    rec["identified"] = (np.bincount(cluster[~no_id], minlength=n_people) > 0)[cluster]
    # A clerk's rejections, as (lone record, cluster of the other record).
    no = pd.DataFrame([*forbidden, *((b, a) for a, b in forbidden)], columns=["unique_id", "other"])
    if forbidden:
        no["cluster_id_o"] = no["other"].map(
            rec[rec["unique_id"].isin(set(no["other"]))].set_index("unique_id")["cluster_id"]
        )

    def link(candidates: pd.DataFrame, keys: list[str], people_in_scope: Any) -> pd.DataFrame:
        """Lone records (candidates) whose name, within `keys`, belongs to exactly one other
        cluster, an identified one, and is rare among `people_in_scope` people."""
        rare = people_in_scope(candidates) * candidates["share"] < UNIQUE_NAME_MAX_NAMESAKES
        c = candidates[rare]
        # The records bearing the rare names (the lone records' index is rec's).
        named = rec[np.isin(name, name[c.index.to_numpy()])]
        per_key = named.dropna(subset=keys).groupby(keys)["cluster_id"].nunique().rename("n")
        c = c.join(per_key, on=keys)
        c = c[c["n"] == 2]
        targets = named[named["identified"]].dropna(subset=keys)
        targets = targets.drop_duplicates(keys)[[*keys, "unique_id", "cluster_id"]]
        c = c.merge(targets, on=keys, suffixes=("", "_r"))
        c = c[c["cluster_id_r"] != c["cluster_id"]]
        if not no.empty:
            blocked = c.merge(
                no, left_on=["unique_id", "cluster_id_r"], right_on=["unique_id", "cluster_id_o"]
            )
            c = c[~c["unique_id"].isin(set(blocked["unique_id"]))]
        return c

    village, villages = pd.factorize(rec["village_code"])
    placed = pd.unique(village[village >= 0].astype(np.int64) * n_people + cluster[village >= 0])
    village_people = pd.Series(
        np.bincount(placed // n_people, minlength=len(villages)), index=villages
    )
    in_village = link(
        lone[lone["village_code"].notna() & lone["address_norm"].isna()],
        ["name_sorted", "village_code"],
        lambda c: c["village_code"].map(village_people),
    )
    anywhere = link(
        lone[(lone["words"] >= 2) & ~lone["unique_id"].isin(in_village["unique_id"].unique())],
        ["name_sorted"],
        lambda c: n_people,
    )
    out = pd.concat([in_village, anywhere], ignore_index=True)
    return pd.DataFrame(
        {
            "unique_id_l": out["unique_id"],
            "unique_id_r": out["unique_id_r"],
            "match_probability": UNIQUE_NAME_PROBABILITY,
        }
    ).reset_index(drop=True)


# Reported for unique-name links (they are not scored by the model): just at the match level.
UNIQUE_NAME_PROBABILITY = 0.95
# The most expected namesakes a name may have for a unique-name link, among the run's people or
# the village's (see unique_name_edges; chosen on the synthetic region at 46k and 460k people,
# docs/integration.md).
UNIQUE_NAME_MAX_NAMESAKES = 0.1


def cluster(
    df: pd.DataFrame, edges: pd.DataFrame, forbidden: list[tuple[str, str]]
) -> tuple[pd.DataFrame, int]:
    """The clusters of a full run (unique_id, cluster_id in df's order): the connected components
    of the matched pairs, then each lone record with a unique name moved into its person's
    cluster. Also returns the number of unique-name links."""
    clustered = connected_components(df["unique_id"], edges)
    extra = unique_name_edges(df, clustered, forbidden)
    if not extra.empty:
        target = _cluster_of(clustered, {*extra["unique_id_l"], *extra["unique_id_r"]})
        moved = {
            target[a]: target[b]
            for a, b in zip(extra["unique_id_l"], extra["unique_id_r"], strict=True)
        }
        ids = clustered["cluster_id"]
        hit = ids.isin(moved)
        clustered = clustered.assign(cluster_id=ids.mask(hit, ids[hit].map(moved)))
    return clustered, len(extra)


def still_apart(uncertain: pd.DataFrame, clustered: pd.DataFrame) -> pd.DataFrame:
    """The doubtful pairs a clerk must see: a pair whose records ended up together through other
    links needs no clerk."""
    cluster_of = _cluster_of(clustered, {*uncertain["unique_id_l"], *uncertain["unique_id_r"]})
    apart = [
        cluster_of.get(a) != cluster_of.get(b)
        for a, b in zip(uncertain["unique_id_l"], uncertain["unique_id_r"], strict=True)
    ]
    return uncertain[apart].reset_index(drop=True)


def new_record_unique_name_edges(
    every: pd.DataFrame,
    edges: pd.DataFrame,
    cluster_of: dict[str, str],
    forbidden: list[tuple[str, str]],
) -> pd.DataFrame:
    """The unique-name links of an incremental run's new records (`every`: the new and the
    existing records; `cluster_of`: the existing records' clusters)."""
    # Who is still alone after the model's links: a new record with an edge sits in its
    # partner's cluster; existing records keep theirs.
    where = {**cluster_of}
    for a, b in zip(edges["unique_id_l"], edges["unique_id_r"], strict=True):
        for x, y in ((a, b), (b, a)):
            if x not in cluster_of:
                where[x] = where.get(y, cluster_of.get(y, y))
    clusters = pd.DataFrame(
        {"unique_id": every["unique_id"], "cluster_id": every["unique_id"].map(where)}
    )
    clusters["cluster_id"] = clusters["cluster_id"].fillna(clusters["unique_id"])
    extra = unique_name_edges(every, clusters, forbidden)
    return extra[~extra["unique_id_l"].isin(set(cluster_of))]
