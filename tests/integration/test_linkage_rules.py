"""The linkage's deterministic parts, on small hand-made frames (no database, no training)."""

from __future__ import annotations

import pandas as pd
import pytest

from tepat.integration import linkage
from tepat.integration.linkage import backends, comparisons, names


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


def test_a_tie_between_two_name_only_links_is_settled_the_same_whatever_the_row_order():
    df = _records(
        [
            {"unique_id": "dukcapil:7", "full_name": "YULIANA", "nik": "3273104107800001",
             "birth_date": "1980-07-01", "village_code": "3273101001", "address": "JL. A NO. 1"},
            {"unique_id": "bpjs:7", "full_name": "YULIANA", "nik": "3273104107800002",
             "birth_date": "1981-02-03", "village_code": "3273101001", "address": "JL. B NO. 2"},
            {"unique_id": "pln:7", "full_name": "YULIANA", "village_code": "3273101001",
             "address": "JL. C NO. 3"},
        ]
    )  # fmt: skip
    pairs = [("pln:7", "dukcapil:7"), ("pln:7", "bpjs:7")]
    kept = []
    for order in (pairs, pairs[::-1]):
        pred = pd.DataFrame(
            {
                "unique_id_l": [left for left, _right in order],
                "unique_id_r": [right for _left, right in order],
                "match_probability": [0.97, 0.97],
            }
        )
        out = linkage.guard_name_only(pred, df, 0.95)
        strong = out[out["match_probability"] >= 0.95]
        kept.append(set(zip(strong["unique_id_l"], strong["unique_id_r"], strict=True)))
    # One link survives (a record without NIK keeps only its best), and the same one both times.
    assert len(kept[0]) == 1
    assert kept[0] == kept[1]


def _population(extra: list[dict[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`extra` records (each with its cluster) among 3,000 identified people elsewhere in the
    city, so that a name's rarity is measured against a population."""
    firsts = [f"PERTAMA{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(60)]
    lasts = [f"AKHIR{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(50)]
    people = [
        {"unique_id": f"dukcapil:p{i}", "full_name": f"{first} {last}", "cluster": f"p{i}",
         "nik": f"32730212058{i:05d}", "birth_date": "1980-05-12", "village_code": "3273021001"}
        for i, (first, last) in enumerate((f, la) for f in firsts for la in lasts)
    ]  # fmt: skip
    every = extra + people
    df = _records([{k: v for k, v in r.items() if k != "cluster"} for r in every])
    clusters = pd.DataFrame(
        {"unique_id": [r["unique_id"] for r in every], "cluster_id": [r["cluster"] for r in every]}
    )
    return df, clusters


def test_a_name_only_record_joins_the_one_namesake_in_its_village():
    village, other = "3273101001", "3273301003"
    df, clusters = _population(
        [
            # A survey household head without NIK, and the civil registry's record of him.
            {"unique_id": "dukcapil:7", "full_name": "DANISWARA", "nik": "3273112909920002",
             "birth_date": "1992-09-29", "village_code": village, "cluster": "c7"},
            {"unique_id": "dtsen:7", "full_name": "Daniswara", "village_code": village,
             "cluster": "s7"},
            # The same single name in another village: a single name never links across
            # villages.
            {"unique_id": "pln:8", "full_name": "DANISWARA", "village_code": other,
             "cluster": "s8"},
            # A common name in the village: no link even though it is unique there.
            *[{"unique_id": f"dukcapil:a{i}", "full_name": "ASEP", "nik": f"327310010180{i:04d}",
               "birth_date": "1980-01-01", "village_code": other, "cluster": f"a{i}"}
              for i in range(400)],
            {"unique_id": "dukcapil:9", "full_name": "ASEP", "nik": "3273100101800001",
             "birth_date": "1980-01-01", "village_code": village, "cluster": "c9"},
            {"unique_id": "dtsen:9", "full_name": "ASEP", "village_code": village,
             "cluster": "s9"},
        ]
    )  # fmt: skip
    edges = linkage.unique_name_edges(df, clusters, [])
    assert list(zip(edges["unique_id_l"], edges["unique_id_r"], strict=True)) == [
        ("dtsen:7", "dukcapil:7")
    ]
    # A clerk's rejection wins here too.
    assert linkage.unique_name_edges(df, clusters, [("dukcapil:7", "dtsen:7")]).empty


def _holds(sql: str, left: dict[str, str | None], right: dict[str, str | None]) -> bool:
    """Whether a comparison level's condition holds for one pair (DuckDB, as Splink runs it)."""
    import duckdb

    cols = {f"{k}_l": v for k, v in left.items()} | {f"{k}_r": v for k, v in right.items()}
    row = pd.DataFrame([cols], dtype=object)
    con = duckdb.connect()
    con.register("pair", row)
    result = con.execute(f"SELECT ({sql}) FROM pair").fetchone()  # noqa: S608 - the model's SQL
    return bool(result and result[0])


def test_a_region_digit_near_miss_with_the_same_birth_date_is_evidence_against():
    [level] = [
        lv
        for lv in comparisons._levels_nik()
        if lv.get("label_for_charts") == "NIK region digits differ, same birth date"
    ]
    # Two WINDAs born the same day in districts 10 and 14: NIKs one digit apart (10 and 24:
    # two digits, the same level).
    a = {"nik": "3273107101920001", "birth_date": "1992-01-31"}
    b = {"nik": "3273147101920001", "birth_date": "1992-01-31"}
    assert _holds(level["sql_condition"], a, b)
    assert not _holds(level["sql_condition"], a, {**b, "birth_date": None})
    assert _holds(level["sql_condition"], a, {**b, "nik": "3273247101920001"})
    # The same district: a serial or birth-date digit, not this level.
    assert not _holds(level["sql_condition"], a, {**b, "nik": "3273107101920002"})
    model = {
        "comparisons": [
            {
                "output_column_name": "nik",
                "comparison_levels": [
                    {"label_for_charts": level["label_for_charts"], "m_probability": 0.5,
                     "u_probability": 1e-6}
                ],
            }
        ]
    }  # fmt: skip
    fixed = linkage.floor_m(model)["comparisons"][0]["comparison_levels"][0]
    assert fixed["m_probability"] < fixed["u_probability"]


def test_one_keystroke_apart_is_its_own_name_level():
    labels = [lv.get("label_for_charts") for lv in comparisons._levels_name()]
    assert labels.index("name one typo") < labels.index("name spelling variant")
    [level] = [
        lv for lv in comparisons._levels_name() if lv.get("label_for_charts") == "name one typo"
    ]
    assert _holds(level["sql_condition"], {"name_norm": "KASIYAH"}, {"name_norm": "KAYIYAH"})
    assert not _holds(level["sql_condition"], {"name_norm": "DEWI"}, {"name_norm": "DEWANTI"})


def test_a_one_digit_nik_slip_without_birth_date_or_current_address_is_compared():
    rules = [r for r in linkage.blocking_rules() if isinstance(r, str) and "substr(l.nik" in r]
    df = _records(
        [
            {"unique_id": "dukcapil:1", "full_name": "RAFI ASMADI", "nik": "3273112112940001",
             "birth_date": "1994-12-21", "village_code": "3273111002"},
            {"unique_id": "pln:1", "full_name": "RAFI ASMADI", "nik": "3273115112940001",
             "village_code": "3273291002"},
        ]
    )  # fmt: skip
    import duckdb

    con = duckdb.connect()
    con.register("records", df)
    hits = [
        con.execute(
            f"SELECT count(*) FROM records l JOIN records r ON {rule} "  # noqa: S608 - the model's
            "WHERE l.unique_id < r.unique_id"
        ).fetchone()
        for rule in rules
    ]
    assert any(h and h[0] == 1 for h in hits)


def test_duckdb_memory_is_bounded_by_the_setting(settings):
    from tepat.integration import linkage

    settings.TEPAT_LINK_DUCKDB_MEMORY = "512MB"
    api = linkage.db_api()
    limit = api._con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "").upper() in ("488.2MIB", "512.0MB", "512MB", "488MIB")
    settings.TEPAT_LINK_DUCKDB_MEMORY = "lots"
    with pytest.raises(ValueError, match="TEPAT_LINK_DUCKDB_MEMORY"):
        linkage.db_api()


def test_levels_training_never_saw_are_filled_from_the_data_not_splinks_defaults():
    # Splink scores a level without u or m with a built-in default (a u of ~0.3 for a rare name
    # level: a reordered name would count against a match).
    model = {
        "comparisons": [
            {
                "output_column_name": "name",
                "comparison_levels": [
                    {"sql_condition": "x IS NULL", "is_null_level": True},
                    {"label_for_charts": "name exact", "m_probability": 0.9, "u_probability": 1e-4},
                    {"label_for_charts": "same words, other order", "m_probability": 0.01},
                    {"label_for_charts": "seen by EM only", "u_probability": 7e-5},
                    {"label_for_charts": "marked", "m_probability": 0.02,
                     "u_probability": "level not observed in training dataset"},
                ],
            }
        ]
    }  # fmt: skip
    levels = linkage.floor_m(model)["comparisons"][0]["comparison_levels"]
    assert "m_probability" not in levels[0]
    assert "u_probability" not in levels[0]
    assert levels[1]["m_probability"] == 0.9
    assert levels[1]["u_probability"] == 1e-4
    assert levels[2]["u_probability"] == 1 / linkage.U_SAMPLE_PAIRS
    assert levels[2]["m_probability"] / levels[2]["u_probability"] > 1000  # evidence for
    assert levels[3]["m_probability"] == levels[3]["u_probability"] == 7e-5  # no evidence
    assert levels[4]["u_probability"] == 1 / linkage.U_SAMPLE_PAIRS


def test_a_stated_age_gives_a_birth_year_only_where_there_is_no_birth_date():
    df = linkage.prepare(
        pd.DataFrame(
            [
                {"unique_id": "dtsen:1", "full_name": "LEGAWA", "birth_year": "1968"},
                {"unique_id": "bpjs:1", "full_name": "LEGAWA", "birth_date": "1968-02-04",
                 "birth_year": "1990"},
                {"unique_id": "pln:1", "full_name": "LEGAWA"},
            ]
        ).reindex(columns=[*linkage.RECORD_COLUMNS, "birth_year"], fill_value="")
    )  # fmt: skip
    assert list(df["birth_year"]) == ["1968", "1968", None]
    # Records without the optional column at all (another source mix) still prepare.
    frame = pd.DataFrame([{"unique_id": "a", "birth_date": "2001-05-06"}])
    frame = frame.reindex(columns=list(linkage.RECORD_COLUMNS), fill_value="")
    assert list(linkage.prepare(frame)["birth_year"]) == ["2001"]


def _level(levels: list[dict[str, object]], label: str) -> str:
    [level] = [lv for lv in levels if lv.get("label_for_charts") == label]
    return str(level["sql_condition"])


def test_an_age_is_compared_only_when_a_birth_date_is_missing():
    null = str(comparisons._levels_age()[0]["sql_condition"])
    within = _level(comparisons._levels_age(), "born within a year")
    survey = {"birth_year": "1968", "birth_date": None}
    registry = {"birth_year": "1967", "birth_date": "1967-12-30"}
    assert not _holds(null, survey, registry)
    assert _holds(within, survey, registry)
    assert not _holds(within, survey, {**registry, "birth_year": "1990"})
    # Both birth dates known: the birth date comparison weighs them, the age says nothing.
    assert _holds(null, {"birth_year": "1968", "birth_date": "1968-01-01"}, registry)
    assert _holds(null, survey, {"birth_year": None, "birth_date": None})


def test_the_same_village_without_an_address_is_its_own_place_level():
    labels = [lv.get("label_for_charts") for lv in comparisons._levels_place()]
    assert labels.index("same village, no address to compare") < labels.index("same village")
    sql = _level(comparisons._levels_place(), "same village, no address to compare")
    home = {"village_code": "3273011003", "address_norm": "JL SILIWANGI NO 145"}
    assert _holds(sql, {"village_code": "3273011003", "address_norm": None}, home)
    assert not _holds(sql, {"village_code": "3273011003", "address_norm": "JL LAIN NO 1"}, home)
    assert not _holds(sql, {"village_code": "3273011004", "address_norm": None}, home)


def _edited(draw, base: str) -> str:  # type: ignore[no-untyped-def]
    """`base` after up to three random edits: substitution, swap of neighbours, insertion,
    deletion (the slips the NIK, name and birth date comparisons weigh)."""
    from hypothesis import strategies as st

    out = list(base)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["sub", "swap", "ins", "del"]))
        i = draw(st.integers(0, max(len(out) - 1, 0)))
        ch = draw(st.sampled_from("0123A"))
        if op == "sub" and out:
            out[i] = ch
        elif op == "swap" and len(out) > 1:
            j = min(i + 1, len(out) - 1)
            out[i], out[j] = out[j], out[i]
        elif op == "ins":
            out.insert(i, ch)
        elif op == "del" and out:
            del out[i]
    return "".join(out)


def test_the_cheap_bound_before_damerau_levenshtein_never_changes_the_answer():
    """within_edits puts a Levenshtein (or, at one edit, a hamming) bound before DuckDB's
    damerau_levenshtein to skip it on most pairs: it must agree with the plain distance on every
    pair, of equal and of different lengths."""
    import duckdb
    from hypothesis import given, settings
    from hypothesis import strategies as st

    con = duckdb.connect()

    @st.composite
    def pairs(draw):  # type: ignore[no-untyped-def]
        base = draw(st.text(alphabet="0123A", min_size=0, max_size=16))
        return base, _edited(draw, base)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pairs(), min_size=1, max_size=40))
    def check(rows: list[tuple[str, str]]) -> None:
        con.register("edited", pd.DataFrame(rows, columns=["a", "b"]))
        # The SQL is the module's own, no outside input.
        one, two = linkage.within_edits("a", "b", 1), linkage.within_edits("a", "b", 2)
        sql = f"SELECT damerau_levenshtein(a, b), ({one}), ({two}) FROM edited"  # noqa: S608
        got = con.execute(sql).fetchall()
        for d, within_one, within_two in got:
            assert within_one == (d <= 1)
            assert within_two == (d <= 2)

    check()


def _normalize_name_reference(name: str) -> str:
    """normalize_name without its shortcuts (no ASCII fast path, no per-word cache)."""
    import unicodedata

    base = name.split(",", 1)[0]
    folded = unicodedata.normalize("NFKD", base.upper())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = []
    for i, w in enumerate(names._NON_LETTER.sub(" ", folded).split()):
        w = linkage.NAME_VARIANTS.get(w, w)
        if i == 0:
            w = linkage.FIRST_WORD_VARIANTS.get(w, w)
        for old, new in names._OLD_SPELLING:
            w = w.replace(old, new)
        words.append(w)
    return " ".join(words)


def test_name_normalization_shortcuts_match_the_plain_rules():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(
        ["M.", "Moch", "Soekarno", "Djoko", "Tjahjo", "MUHAMAD", "siti", "Sri", "Nur", "ß"]
    )
    chars = st.text(alphabet="aAzZ éÉüñ.,'-ß\u0301", max_size=12)

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.one_of(words, chars), max_size=5))
    def check(parts: list[str]) -> None:
        name = " ".join(parts)
        assert linkage.normalize_name(name) == _normalize_name_reference(name)
        forms = names.name_forms(name)
        tokens = forms[0].split()
        assert forms[1:] == (
            " ".join(sorted(tokens)),
            tokens[0] if tokens else "",
            tokens[-1] if tokens else "",
            " ".join([*tokens[:-1], tokens[-1][0]]) if len(tokens) > 1 else "",
        )

    check()


def test_the_spark_backend_scores_a_saved_duckdb_model_in_sparks_dialect():
    model = {
        "comparisons": [
            {"output_column_name": "name", "comparison_levels": [
                {"sql_condition": '"name_norm_l" IS NULL OR "name_norm_r" IS NULL',
                 "is_null_level": True},
                {"sql_condition": comparisons.within_edits("name_norm_l", "name_norm_r", 1)},
                {"sql_condition": 'jaro_winkler_similarity("name_norm_l", "name_norm_r") >= 0.92'},
                {"sql_condition": "ELSE"},
            ]},
        ],
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": 'l."nik" = r."nik"', "sql_dialect": "duckdb"},
            {"blocking_rule": "jaro_winkler_similarity(l.name_norm, r.name_norm) >= 0.88",
             "sql_dialect": "duckdb"},
        ],
        "sql_dialect": "duckdb",
    }  # fmt: skip
    spark = backends.backend_for("spark").scoring_model(model)
    levels = [lv["sql_condition"] for lv in spark["comparisons"][0]["comparison_levels"]]
    assert levels[0] == "`name_norm_l` IS NULL OR `name_norm_r` IS NULL"
    # Spark has no hamming: the cheap bound is a Levenshtein one there.
    assert "HAMMING" not in levels[1].upper()
    assert "THEN LEVENSHTEIN(`name_norm_l`, `name_norm_r`) <= 2 ELSE" in levels[1]
    assert "DAMERAU_LEVENSHTEIN(`name_norm_l`, `name_norm_r`) <= 1" in levels[1]
    # The comparisons use the Jaro-Winkler of Splink's jar, the blocking rules Spark's own.
    assert levels[2] == "JARO_WINKLER(`name_norm_l`, `name_norm_r`) >= 0.92"
    assert levels[3] == "ELSE"
    rules = spark["blocking_rules_to_generate_predictions"]
    assert [r["sql_dialect"] for r in rules] == ["spark", "spark"]
    assert rules[0]["blocking_rule"] == "l.`nik` = r.`nik`"
    assert rules[1]["blocking_rule"].upper().startswith("JARO_WINKLER_SIMILARITY(L.NAME_NORM")
    assert spark["sql_dialect"] == "spark"
    assert model["sql_dialect"] == "duckdb"  # the saved model is left as it is
    assert backends.backend_for("duckdb").scoring_model(model) is model


def test_only_the_duckdb_backend_trains_and_unknown_engines_are_refused():
    with pytest.raises(ValueError, match="scores with a saved model"):
        backends.backend_for("spark").training_settings()
    assert backends.backend_for("duckdb").training_settings() is not None
    with pytest.raises(ValueError, match="unknown linkage engine"):
        backends.backend_for("sqlite")
    assert linkage.ENGINES[0] == "duckdb"
