"""The linkage's deterministic parts, on small hand-made frames (no database, no training)."""

from __future__ import annotations

import pandas as pd

from tepat.integration import linkage


def _records(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in linkage.RECORD_COLUMNS:
        if col not in frame:
            frame[col] = ""
    return linkage.prepare(frame)


def test_a_trailing_m_is_an_initial_and_a_leading_m_is_muhammad():
    assert linkage.normalize_name("WARDAYA M.") == "WARDAYA M"
    assert linkage.normalize_name("M. Rizki") == "MUHAMMAD RIZKI"
    assert linkage.normalize_name("Moch Toha") == "MUHAMMAD TOHA"


def test_the_abbreviated_form_keeps_the_last_initial():
    df = _records(
        [
            {"unique_id": "a", "full_name": "Purwa Nababan"},
            {"unique_id": "b", "full_name": "PURWA N."},
            {"unique_id": "c", "full_name": "Purwa"},
        ]
    )
    assert list(df["name_abbrev"].fillna("")) == ["PURWA N", "PURWA N", ""]


CLUSTERED = [
    # Panca Firmansyah: civil registry + health insurance, one cluster.
    {"unique_id": "dukcapil:1", "full_name": "PANCA FIRMANSYAH", "nik": "3273100601050001",
     "birth_date": "2005-01-06", "village_code": "3273101001", "cluster": "c1"},
    {"unique_id": "bpjs:1", "full_name": "Panca Firmansyah", "nik": "3273100601050001",
     "birth_date": "2005-01-06", "village_code": "3273101001", "cluster": "c1"},
    # Two different Dewi Lestaris.
    {"unique_id": "dukcapil:2", "full_name": "DEWI LESTARI", "nik": "3273104411530001",
     "birth_date": "1953-11-04", "village_code": "3273101001", "cluster": "c2"},
    {"unique_id": "dukcapil:3", "full_name": "DEWI LESTARI", "nik": "3273014411600001",
     "birth_date": "1960-11-04", "village_code": "3273011001", "cluster": "c3"},
    # Electricity customers without NIK at an old address, each alone.
    {"unique_id": "pln:1", "full_name": "FIRMANSYAH PANCA", "village_code": "3273301003",
     "address": "GG. CIHAMPELAS NO. 78", "cluster": "p1"},
    {"unique_id": "pln:2", "full_name": "DEWI LESTARI", "village_code": "3273301003",
     "cluster": "p2"},
    {"unique_id": "pln:3", "full_name": "KARTA", "village_code": "3273301003", "cluster": "p3"},
    {"unique_id": "pln:4", "full_name": "WARDI H.", "village_code": "3273301003", "cluster": "p4"},
]  # fmt: skip


# Other people of the run, so that word frequencies look like a population's (a name is only
# linked when it is rare there).
FILLERS = [
    {"unique_id": f"dukcapil:f{i}", "full_name": f"{first} {last}", "cluster": f"f{i}",
     "nik": f"32730112058{i:05d}", "birth_date": "1980-05-12", "village_code": "3273011001"}
    for i, (first, last) in enumerate(
        (f, la)
        for f in ("ASEP", "UJANG", "NENG", "EUIS", "CECEP", "IWAN", "YANTI", "DADANG")
        for la in ("SUNANDAR", "KURNIA", "HIDAYAT", "RAHAYU", "SAEPUDIN", "MULYANA")
    )
]  # fmt: skip


def _clustered() -> tuple[pd.DataFrame, pd.DataFrame]:
    every = CLUSTERED + FILLERS
    rows = [{k: v for k, v in r.items() if k != "cluster"} for r in every]
    df = _records(rows)
    clusters = pd.DataFrame(
        {
            "unique_id": [r["unique_id"] for r in every],
            "cluster_id": [r["cluster"] for r in every],
        }
    )
    return df, clusters


def test_a_lone_name_only_record_joins_the_one_person_with_that_full_name():
    df, clusters = _clustered()
    edges = linkage.unique_name_edges(df, clusters, [])
    # Only the unique two-word name links (word order ignored); the shared name, the single
    # name and the initial do not.
    assert list(edges["unique_id_l"]) == ["pln:1"]
    assert edges["unique_id_r"].iloc[0] in {"dukcapil:1", "bpjs:1"}
    assert edges["match_probability"].iloc[0] == linkage.UNIQUE_NAME_PROBABILITY


def test_a_clerks_rejection_stops_a_unique_name_link():
    df, clusters = _clustered()
    assert linkage.unique_name_edges(df, clusters, [("bpjs:1", "pln:1")]).empty


def test_a_record_already_linked_is_not_moved_by_its_name():
    df, clusters = _clustered()
    clusters.loc[clusters["unique_id"] == "pln:1", "cluster_id"] = "c2"
    assert linkage.unique_name_edges(df, clusters, []).empty


def test_a_shared_house_corroborates_a_name_only_match():
    df = _records(
        [
            {"unique_id": "dukcapil:9", "full_name": "SUCI UYAINAH", "nik": "3273105211560001",
             "birth_date": "1956-11-12", "village_code": "3273101001", "address": "GG. RAJAWALI BARAT NO. 160"},
            {"unique_id": "bpjs:9", "full_name": "SUCI UYAINAH", "nik": "3273105211560001",
             "birth_date": "1956-11-12", "village_code": "3273101001", "address": "GG. RAJAWALI BARAT NO. 160"},
            {"unique_id": "pln:9", "full_name": "SUCI U.", "village_code": "3273101001",
             "address": "GG. RAJAWALI BARAT NO. 160"},
            {"unique_id": "pln:10", "full_name": "SUCI UYAINAH", "village_code": "3273101001",
             "address": "JL. LAIN NO. 1"},
        ]
    )  # fmt: skip
    pred = pd.DataFrame(
        {
            "unique_id_l": ["pln:9", "pln:9", "pln:10", "pln:10"],
            "unique_id_r": ["dukcapil:9", "bpjs:9", "dukcapil:9", "bpjs:9"],
            "match_probability": [0.99, 0.98, 0.97, 0.96],
        }
    )
    out = linkage.guard_name_only(pred, df, 0.95)
    kept = out[out["match_probability"] >= 0.95]
    # Same house: both links stand. Name and village only: the record keeps its best link.
    assert set(zip(kept["unique_id_l"], kept["unique_id_r"], strict=True)) == {
        ("pln:9", "dukcapil:9"),
        ("pln:9", "bpjs:9"),
        ("pln:10", "dukcapil:9"),
    }
