"""Record linkage with Splink 5: one table of person records from every source (and the registry),
deduplicated within and linked across sources in one pass.

Independent of Django: it takes and returns pandas frames, so the benchmark and the Spark path use
it as it is. Record columns: unique_id, source, nik, kk, full_name, sex, birth_date (ISO text),
village_code, address.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import time
import unicodedata
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from tepat.integration import conf

# Spellings that agencies write differently (and pre-1972 spelling), folded to one form.
NAME_VARIANTS = {
    "MOHAMMAD": "MUHAMMAD",
    "MUHAMAD": "MUHAMMAD",
    "MOHAMAD": "MUHAMMAD",
    "MUHAMMAT": "MUHAMMAD",
    "MOHAMMED": "MUHAMMAD",
    "MUHAMMED": "MUHAMMAD",
    "ACHMAD": "AHMAD",
    "AKHMAD": "AHMAD",
    "AHMAT": "AHMAD",
    "SITTI": "SITI",
    "ST": "SITI",
    "NOER": "NUR",
    "NURUL": "NUR",
    "ABD": "ABDUL",
    "ABDOEL": "ABDUL",
    "SRY": "SRI",
    "DEWIE": "DEWI",
    "RIZKY": "RIZKI",
    "RISKI": "RIZKI",
    "RISKY": "RIZKI",
    "YUSUP": "YUSUF",
    "JUSUF": "YUSUF",
}
# Short forms of Muhammad, expanded only as a first word: at the end, "M." is an initial.
FIRST_WORD_VARIANTS = {"M": "MUHAMMAD", "MOH": "MUHAMMAD", "MUH": "MUHAMMAD", "MOCH": "MUHAMMAD"}
_OLD_SPELLING = (("OE", "U"), ("DJ", "J"), ("TJ", "C"))
_NON_LETTER = re.compile(r"[^A-Z ]+")

RECORD_COLUMNS = (
    "unique_id",
    "source",
    "nik",
    "kk",
    "full_name",
    "sex",
    "birth_date",
    "village_code",
    "address",
)
# May be absent from the records: the birth year a record without a birth date implies (a
# survey gives the head's age in years; see sources.py, "age"), as text.
OPTIONAL_COLUMNS = ("birth_year",)


@lru_cache(maxsize=500_000)
def normalize_name(name: str) -> str:
    """Upper case, academic titles after a comma dropped, accents and punctuation removed,
    spelling variants folded: the form names are compared in."""
    base = name.split(",", 1)[0].upper()
    if not base.isascii():  # an ASCII name has no accents to take off
        base = unicodedata.normalize("NFKD", base)
        base = "".join(ch for ch in base if not unicodedata.combining(ch))
    words = _NON_LETTER.sub(" ", base).split()
    return " ".join(
        [_fold_word(words[0], first=True), *(_fold_word(w, first=False) for w in words[1:])]
        if words
        else []
    )


@lru_cache(maxsize=100_000)
def _fold_word(w: str, *, first: bool) -> str:
    """One word's spelling variants folded (words repeat far more than names)."""
    w = NAME_VARIANTS.get(w, w)
    if first:
        w = FIRST_WORD_VARIANTS.get(w, w)
    for old, new in _OLD_SPELLING:
        w = w.replace(old, new)
    return w


def _name_forms(name: str) -> tuple[str, str, str, str, str]:
    """The compared forms of one name: normalized, its words sorted, first word, last word, and
    the name with its last word cut to the initial (agencies abbreviate: "WARDAYA M.")."""
    norm = normalize_name(name)
    t = norm.split()
    return (
        norm,
        " ".join(sorted(t)),
        t[0] if t else "",
        t[-1] if t else "",
        " ".join([*t[:-1], t[-1][0]]) if len(t) > 1 else "",
    )


NAME_FORMS = ("name_norm", "name_sorted", "name_first", "name_last", "name_abbrev")


def prepare(records: pd.DataFrame) -> pd.DataFrame:
    """Add the derived columns the model compares and blocks on. Names and addresses repeat
    (family names, one address per household), so each distinct value is worked once."""
    df = records.loc[:, list(RECORD_COLUMNS)].copy()
    for col in RECORD_COLUMNS:
        df[col] = df[col].fillna("").astype(str)
    stated = records["birth_year"] if "birth_year" in records else pd.Series("", index=df.index)
    # The year of the birth date where there is one, else the year an age implies.
    df["birth_year"] = (
        df["birth_date"].str[:4].where(df["birth_date"] != "", stated.fillna("").astype(str))
    )
    codes, names = pd.factorize(df["full_name"])
    forms = np.array([_name_forms(n) for n in names], dtype=object).reshape(-1, len(NAME_FORMS))
    for i, col in enumerate(NAME_FORMS):
        df[col] = forms[codes, i]
    codes, addresses = pd.factorize(df["address"])
    normal = pd.Series(addresses, dtype=object).str.upper()
    normal = normal.str.replace(r"[^A-Z0-9 ]+", " ", regex=True).str.split().str.join(" ")
    df["address_norm"] = normal.to_numpy(dtype=object)[codes]
    # Nothing compares or blocks on the raw forms once the derived ones exist: dropped, they
    # cost neither the frame nor DuckDB's copy of it (~0.3 GB at 1.46M records).
    df = df.drop(columns=list(RAW_ONLY))
    # Empty strings become NULLs so that Splink's null levels see missing values as missing.
    return df.replace({"": None})


# Record columns only `prepare` reads (name and address are compared in derived forms; the
# family card is not compared: see _levels_place).
RAW_ONLY = ("kk", "full_name", "address")


def within_edits(left: str, right: str, k: int) -> str:
    """SQL for "Damerau-Levenshtein distance of two columns <= k" with a cheap necessary bound
    first. DuckDB's damerau_levenshtein costs ~5x a levenshtein and ~100x a hamming, and most
    pairs (the random ones that train u, blocked pairs of different people) fail the bound, so
    the CASE of a comparison skips the dear call (DuckDB evaluates AND only on the rows still
    selected). The bounds: a transposition is two Levenshtein edits, so distance <= k implies
    Levenshtein <= 2k; at k = 1 two strings of one length differ by a substitution or a swap of
    neighbours, so in at most two positions (hamming needs equal, non-zero lengths: the CASE)."""
    cheap = f'levenshtein("{left}", "{right}") <= {2 * k}'
    if k == 1:
        cheap = (
            f'CASE WHEN length("{left}") = length("{right}") AND length("{left}") > 0 '
            f'THEN hamming("{left}", "{right}") <= 2 ELSE {cheap} END'
        )
    return f'{cheap} AND damerau_levenshtein("{left}", "{right}") <= {k}'


def _levels_nik() -> list[dict[str, Any]]:
    """A NIK is region (6 digits) + birth date (6) + serial (4). Near-misses are weighed by where
    they fall, because the birth-date part repeats what the birth date comparison says: two
    different people born the same day in neighbouring districts, or a month apart with the same
    serial, have NIKs one digit apart. Those cases carry no NIK evidence of their own (neutral
    levels, see NEUTRAL_LEVELS); only a slip the birth dates do not explain counts as a typo."""
    same_region = 'substr("nik_l", 1, 6) = substr("nik_r", 1, 6)'
    same_serial = 'substr("nik_l", 13, 4) = substr("nik_r", 13, 4)'
    one_off = f"({within_edits('nik_l', 'nik_r', 1)})"
    return [
        {"sql_condition": '"nik_l" IS NULL OR "nik_r" IS NULL', "is_null_level": True},
        {"sql_condition": '"nik_l" = "nik_r"', "label_for_charts": "NIK exact"},
        {
            # Same district and birth date, another serial: a typo, or twins (neutral).
            "sql_condition": f'substr("nik_l", 1, 12) = substr("nik_r", 1, 12) AND {one_off}',
            "label_for_charts": "NIK serial differs by one digit",
        },
        {
            "sql_condition": f"{same_region} AND {same_serial} AND {one_off} AND "
            '("birth_date_l" IS NULL OR "birth_date_r" IS NULL '
            'OR "birth_date_l" = "birth_date_r")',
            "label_for_charts": "NIK birth-date digits mistyped",
        },
        {
            # The birth dates agree and the NIKs differ in the region digits (one or two digit
            # errors in all): the birth-date and serial digits agree because the people share a
            # birthday (serial 0001 is the commonest), and the district codes of one regency
            # are one or two digits apart. A NIK typo lands in the region digits of ~0.3% of
            # records (a 1% typo rate, 4 of 14 positions); two people born the same day in
            # different districts have such NIKs about a quarter of the time. Evidence against:
            # fixed, FIXED_LEVELS.
            "sql_condition": f'NOT ({same_region}) AND "birth_date_l" = "birth_date_r" '
            f"AND {within_edits('nik_l', 'nik_r', 2)}",
            "label_for_charts": "NIK region digits differ, same birth date",
        },
        {
            "sql_condition": f"{one_off} AND NOT ({same_region})",
            "label_for_charts": "NIK region digits differ",
        },
        {
            "sql_condition": one_off,
            "label_for_charts": "NIK birth-date digits differ with the birth dates",
        },
        {
            "sql_condition": within_edits("nik_l", "nik_r", 2),
            "label_for_charts": "NIK two digit errors",
        },
        {"sql_condition": "ELSE", "label_for_charts": "NIK differs"},
    ]


def _levels_name() -> list[dict[str, Any]]:
    return [
        {"sql_condition": '"name_norm_l" IS NULL OR "name_norm_r" IS NULL', "is_null_level": True},
        {
            # A rare name agreeing says more than a common one (term-frequency adjustment).
            "sql_condition": '"name_norm_l" = "name_norm_r"',
            "label_for_charts": "name exact",
            "tf_adjustment_column": "name_norm",
            "tf_adjustment_weight": 1.0,
        },
        {
            "sql_condition": '"name_sorted_l" = "name_sorted_r"',
            "label_for_charts": "same words, other order",
        },
        {
            "sql_condition": '"name_abbrev_l" = "name_abbrev_r" '
            'AND (length("name_last_l") = 1 OR length("name_last_r") = 1)',
            "label_for_charts": "last word abbreviated to its initial",
        },
        {
            # One keystroke apart (a letter dropped, doubled, swapped or mistyped: the commonest
            # data-entry slip) says more than a looser spelling likeness, so it has its own level.
            "sql_condition": within_edits("name_norm_l", "name_norm_r", 1),
            "label_for_charts": "name one typo",
        },
        {
            "sql_condition": 'jaro_winkler_similarity("name_norm_l", "name_norm_r") >= 0.92',
            "label_for_charts": "name spelling variant",
        },
        {
            "sql_condition": 'jaro_winkler_similarity("name_norm_l", "name_norm_r") >= 0.80 '
            'OR jaro_winkler_similarity("name_sorted_l", "name_sorted_r") >= 0.88',
            "label_for_charts": "name similar",
        },
        {
            "sql_condition": '"name_first_l" = "name_first_r" OR "name_last_l" = "name_last_r" '
            'OR "name_first_l" = "name_last_r" OR "name_last_l" = "name_first_r"',
            "label_for_charts": "one name word shared",
        },
        {"sql_condition": "ELSE", "label_for_charts": "name differs"},
    ]


def _levels_birth_date() -> list[dict[str, Any]]:
    return [
        {
            "sql_condition": '"birth_date_l" IS NULL OR "birth_date_r" IS NULL',
            "is_null_level": True,
        },
        {
            "sql_condition": '"birth_date_l" = "birth_date_r"',
            "label_for_charts": "birth date exact",
        },
        {
            "sql_condition": f"({within_edits('birth_date_l', 'birth_date_r', 1)}) OR ("
            'substr("birth_date_l", 1, 4) = substr("birth_date_r", 1, 4) AND '
            'substr("birth_date_l", 6, 2) = substr("birth_date_r", 9, 2) AND '
            'substr("birth_date_l", 9, 2) = substr("birth_date_r", 6, 2))',
            "label_for_charts": "one-digit slip or day and month swapped",
        },
        {
            "sql_condition": 'substr("birth_date_l", 1, 4) = substr("birth_date_r", 1, 4)',
            "label_for_charts": "same birth year",
        },
        {"sql_condition": "ELSE", "label_for_charts": "birth date differs"},
    ]


def _levels_age() -> list[dict[str, Any]]:
    """Birth years where at most one side has a full birth date: a survey states the household
    head's age, not the birth date. Taken from an age, a birth year is a year off when the
    birthday had not come yet, and stated ages drift by a year or two (age heaping). Null when
    both sides have a birth date: the birth date comparison already weighs those."""
    diff = 'abs(CAST("birth_year_l" AS INT) - CAST("birth_year_r" AS INT))'
    return [
        {
            "sql_condition": '"birth_year_l" IS NULL OR "birth_year_r" IS NULL OR '
            '("birth_date_l" IS NOT NULL AND "birth_date_r" IS NOT NULL)',
            "is_null_level": True,
        },
        {"sql_condition": f"{diff} <= 1", "label_for_charts": "born within a year"},
        {"sql_condition": f"{diff} <= 3", "label_for_charts": "born within three years"},
        {"sql_condition": "ELSE", "label_for_charts": "ages differ"},
    ]


def _levels_exact(col: str) -> list[dict[str, Any]]:
    return [
        {"sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL', "is_null_level": True},
        {"sql_condition": f'"{col}_l" = "{col}_r"', "label_for_charts": f"{col} exact"},
        {"sql_condition": "ELSE", "label_for_charts": f"{col} differs"},
    ]


def _levels_place() -> list[dict[str, Any]]:
    """Where the record says the person lives: one comparison, because the same address, the same
    village and the same family card all say "same household" and must not add up. Members of
    one family share all three; counted separately they outweighed different names and birth
    dates and merged twins."""
    return [
        {
            "sql_condition": '"village_code_l" IS NULL OR "village_code_r" IS NULL',
            "is_null_level": True,
        },
        {
            "sql_condition": '"village_code_l" = "village_code_r" '
            'AND "address_norm_l" = "address_norm_r"',
            "label_for_charts": "same house",
        },
        {
            "sql_condition": '"village_code_l" = "village_code_r" '
            'AND jaro_winkler_similarity("address_norm_l", "address_norm_r") >= 0.9',
            "label_for_charts": "same village, similar address",
        },
        {
            # A survey enumerates the household at home and records the village, not the
            # street: for such a record the same village is as close as places can agree, and
            # weighs more than a village shared by two records whose addresses differ.
            "sql_condition": '"village_code_l" = "village_code_r" '
            'AND ("address_norm_l" IS NULL OR "address_norm_r" IS NULL)',
            "label_for_charts": "same village, no address to compare",
        },
        {
            "sql_condition": '"village_code_l" = "village_code_r"',
            "label_for_charts": "same village",
        },
        {
            "sql_condition": 'substr("village_code_l", 1, 6) = substr("village_code_r", 1, 6)',
            "label_for_charts": "same district",
        },
        {"sql_condition": "ELSE", "label_for_charts": "elsewhere"},
    ]


def blocking_rules() -> list[Any]:
    """Candidate pairs: cost follows their number, so each rule is narrow (see the operations
    doc for counts): NIK; birth date with a name word; birth date within a village; the same
    name words within a village (sources without a birth date); the same name words with half of
    the NIK (a NIK typo on a record without birth date or current address)."""
    from splink import block_on

    return [
        block_on("nik"),
        block_on("birth_date", "name_first"),
        block_on("birth_date", "name_last"),
        block_on("birth_date", "village_code"),
        block_on("name_sorted", "village_code"),
        # A name with its last word cut to the initial, only where one side is so written
        # ("WARDAYA M."): unrestricted, the rule paired every "SITI R..." of a village, a
        # quarter of all pairs scored at 1M records; precision and recall unchanged without.
        "l.name_abbrev = r.name_abbrev AND l.village_code = r.village_code "
        "AND (length(l.name_last) = 1 OR length(r.name_last) = 1)",
        # A NIK with one mistyped digit on a record without birth date (an electricity customer)
        # and with an old address meets no rule above: the same name and either half of the
        # NIK, as one slip leaves one half intact.
        "l.name_sorted = r.name_sorted AND substr(l.nik, 1, 8) = substr(r.nik, 1, 8)",
        "l.name_sorted = r.name_sorted AND substr(l.nik, 9, 8) = substr(r.nik, 9, 8)",
        # Sources without a birth date (electricity customers, survey heads): the household's
        # address. Restricted to them, or every household would be compared with itself.
        "l.address_norm = r.address_norm AND l.village_code = r.village_code "
        "AND (l.birth_date IS NULL OR r.birth_date IS NULL) "
        "AND jaro_winkler_similarity(l.name_norm, r.name_norm) >= 0.88",
    ]


def settings_creator() -> Any:
    from splink import SettingsCreator
    from splink import comparison_library as cl

    def custom(name: str, levels: list[Any]) -> Any:
        return cl.CustomComparison(list(levels), output_column_name=name)

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            custom("nik", _levels_nik()),
            custom("name", _levels_name()),
            custom("birth_date", _levels_birth_date()),
            custom("age", _levels_age()),
            custom("sex", _levels_exact("sex")),
            custom("place", _levels_place()),
        ],
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=["source"],
    )


@dataclass
class LinkOutput:
    clusters: pd.DataFrame  # unique_id, cluster_id
    uncertain: pd.DataFrame  # unique_id_l, unique_id_r, match_probability
    model_json: dict[str, Any]
    trained: bool
    stats: dict[str, Any] = field(default_factory=dict)


def db_api(engine: str = "duckdb") -> Any:
    if engine == "spark":
        from pyspark.sql import SparkSession
        from splink import SparkAPI
        from splink.backends.spark import similarity_jar_location

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.jars", similarity_jar_location())
            .config("spark.driver.memory", "4g")
            .appName("tepat-link")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="tepat-spark-"))
        return SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]
    import duckdb
    from splink import DuckDBAPI

    # DuckDB may take 80% of the machine's memory by default, on top of the pipeline's own
    # records; a bound makes it spill its joins to a temporary directory instead.
    spill = tempfile.mkdtemp(prefix="tepat-duckdb-")
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{conf.duckdb_memory_limit()}'")
    con.execute(f"SET temp_directory = '{spill}'")
    api = DuckDBAPI(connection=con)
    weakref.finalize(api, shutil.rmtree, spill, True)
    return api


def model_for_engine(model: dict[str, Any], engine: str) -> dict[str, Any]:
    """The saved model speaks DuckDB SQL; Spark quotes identifiers with backticks, names the
    Jaro-Winkler function of Splink's jar `jaro_winkler` and has no `hamming`: the bound before a
    one-edit Damerau-Levenshtein (within_edits) is then Levenshtein <= 2, as valid a bound."""
    if engine != "spark":
        return model
    text = json.dumps(model)
    out: dict[str, Any] = json.loads(text)
    for comparison in out.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            sql = level.get("sql_condition", "")
            level["sql_condition"] = (
                sql.replace('"', "`")
                .replace("jaro_winkler_similarity(", "jaro_winkler(")
                .replace("hamming(", "levenshtein(")
            )
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict) and "blocking_rule" in rule:
            rule["blocking_rule"] = rule["blocking_rule"].replace('"', "`")
            rule["sql_dialect"] = "spark"
    out["sql_dialect"] = "spark"
    return out


# Addresses go stale (a household moves without telling every agency; a customer's meter is at
# another house): EM on blocks of one village cannot see that, so a disagreement on place must
# never outweigh an exact NIK and name. Floors on m for "elsewhere" levels, from the stale-address
# rates agencies report (3-8%).
M_FLOORS = {
    ("place", "elsewhere"): 0.08,
    ("place", "same district"): 0.03,
    ("place", "same village"): 0.2,
}


# Levels that must carry no evidence (m = u after training: a Bayes factor of 1), see
# _levels_nik. Fixing m and u in the settings would stop EM from training the rest of the NIK
# comparison, so they are set on the trained model instead.
NEUTRAL_LEVELS = {
    # Same district and birth date, another serial: a typo, or twins and same-day births.
    ("nik", "NIK serial differs by one digit"),
    ("nik", "NIK region digits differ"),
    ("nik", "NIK birth-date digits differ with the birth dates"),
}


# Levels whose m and u are set, not trained, because the other comparisons explain them (see the
# level's comment): (m, u), set on the trained model like NEUTRAL_LEVELS.
FIXED_LEVELS = {
    ("nik", "NIK region digits differ, same birth date"): (0.003, 0.25),
}


# Random sampling for u draws this many pairs (see train).
U_SAMPLE_PAIRS = 1_000_000


def floor_m(model: dict[str, Any]) -> dict[str, Any]:
    """The trained model made safe to score with: neutral and fixed levels set, m floored for
    the place levels, and levels that training never saw filled in.

    A rare level (names in another word order, a last word cut to its initial) may not occur
    among the sampled random pairs, or an m may not occur among the blocked pairs EM trains on;
    Splink then leaves the value out and scores with a built-in default that bears no relation
    to the data: at 100,000 persons the two name levels above came out unobserved and their
    default u (about 0.3) turned a reordered or abbreviated name into evidence *against* a
    match, costing 1.7 points of recall. An unseen u is rarer than one in U_SAMPLE_PAIRS, so
    it is set to that bound; an unseen m is set equal to u (the level then says nothing)."""
    out: dict[str, Any] = json.loads(json.dumps(model))
    for comparison in out.get("comparisons", []):
        name = comparison.get("output_column_name")
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            if not isinstance(level.get("u_probability"), float | int):
                level["u_probability"] = 1 / U_SAMPLE_PAIRS
            if not isinstance(level.get("m_probability"), float | int):
                level["m_probability"] = level["u_probability"]
            if (name, level.get("label_for_charts")) in NEUTRAL_LEVELS:
                level["m_probability"] = level["u_probability"] = 0.01
            fixed = FIXED_LEVELS.get((name, level.get("label_for_charts")))
            if fixed is not None:
                level["m_probability"], level["u_probability"] = fixed
            floor = M_FLOORS.get((name, level.get("label_for_charts")))
            if floor is not None and level.get("m_probability") is not None:
                level["m_probability"] = max(float(level["m_probability"]), floor)
    return out


def train(linker: Any, *, seed: int = 42) -> None:
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on("nik", "birth_date"), block_on("nik", "name_norm")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("nik"), record_sample_proportion=1.0
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date", "village_code"), record_sample_proportion=1.0
    )
    # The NIK comparison reads the birth dates too, so neither session above trains it.
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name_sorted", "village_code"), record_sample_proportion=1.0
    )


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
    stats: dict[str, Any] = {"records": len(records)}
    t0 = time.perf_counter()
    df = records if prepared else prepare(records)
    if not prepared:
        stats["seconds_prepare"] = round(time.perf_counter() - t0, 2)
    api = db_api(engine)
    t0 = time.perf_counter()
    table = api.register(df, table_name="records")
    if engine == "spark" and model_json is None:
        raise ValueError("the Spark engine scores with a saved model: run a DuckDB link first")
    settings: Any = (
        model_for_engine(model_json, engine) if model_json is not None else settings_creator()
    )
    linker = Linker(table, settings, log_level=logging.WARNING)
    trained = model_json is None
    if trained:
        train(linker)
        model_json = floor_m(linker.misc.save_model_to_json())
        linker = Linker(table, model_json, log_level=logging.WARNING)
    stats["seconds_train"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=review_threshold)
    # Only the pair and its probability leave the backend: the full prediction table carries
    # every compared value and level (~40 columns), a few GB of Python objects at 1.6M pairs.
    pred = predictions.query_sql(
        "SELECT unique_id_l, unique_id_r, match_probability FROM {this}"
    ).as_pandas_dataframe()  # type: ignore[no-untyped-call]
    predictions.drop_table_from_database_and_remove_from_cache()
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
    stats["unique_name_links"] = len(extra)
    # A doubtful pair whose records ended up together through other links needs no clerk.
    cluster_of = _cluster_of(clustered, {*uncertain["unique_id_l"], *uncertain["unique_id_r"]})
    apart = [
        cluster_of.get(a) != cluster_of.get(b)
        for a, b in zip(uncertain["unique_id_l"], uncertain["unique_id_r"], strict=True)
    ]
    uncertain = uncertain[apart].reset_index(drop=True)
    stats["seconds_cluster"] = round(time.perf_counter() - t0, 2)
    stats["matches"] = len(edges)
    stats["uncertain"] = len(uncertain)
    stats["clusters"] = int(clustered["cluster_id"].nunique())
    out_model = model_json
    return LinkOutput(
        clusters=clustered[["unique_id", "cluster_id"]],
        uncertain=uncertain,
        model_json=out_model or {},
        trained=trained,
        stats=stats,
    )


def decisions_in(
    ids: pd.Series, forced: list[tuple[str, str]], forbidden: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The clerical decisions on pairs of records both in this run: a decision on a record
    superseded or withdrawn since has nothing left to join or keep apart (an accepted pair
    naming it would otherwise add a record to the clusters that the run does not have)."""
    named = {x for pair in (*forced, *forbidden) for x in pair}
    if not named:
        return forced, forbidden
    here = set(ids[ids.isin(named)])
    return (
        [p for p in forced if p[0] in here and p[1] in here],
        [p for p in forbidden if p[0] in here and p[1] in here],
    )


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
    at = _positions(ids, pd.concat([edges["unique_id_l"], edges["unique_id_r"]]))
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


def _positions(ids: pd.Series, values: pd.Series) -> np.ndarray:
    """Where each value is in `ids` (-1: not there), with Arrow's hash lookup: pandas' Index of a
    million strings costs ~2x."""
    import pyarrow as pa
    import pyarrow.compute as pc

    at = pc.index_in(pa.array(values), value_set=pa.array(ids))
    return np.asarray(at.fill_null(-1), dtype=np.intp)


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
        # The clusters of df's records in their order (link() and link_new_records): no join.
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


def guard_name_only(pred: pd.DataFrame, df: pd.DataFrame, match_threshold: float) -> pd.DataFrame:
    """Pairs that agree on neither NIK, birth date nor house rest on the name (a customer or survey
    record without NIK, say). The model may call such a pair a match only inside one village,
    and a record without NIK joins at most one other record this way, its best: otherwise one
    "YULIANA" without NIK would chain every Yuliana of the village into one person. Pairs that
    fail go to review (probability capped just under the match threshold)."""
    if pred.empty:
        return pred
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(pred)
    at = _positions(df["unique_id"], pd.concat([pred["unique_id_l"], pred["unique_id_r"]]))
    # Both sides' records at once; an id not in df has no values (as a reindex gives).
    rows = pa.array(at, mask=at < 0)

    def same(col: str) -> Any:
        values = pa.array(df[col])
        if pa.types.is_null(values.type):  # nothing but missing values
            values = values.cast(pa.string())
        values = values.take(rows)
        # Arrow's equality is null where a value is missing: a missing value equals nothing.
        return np.asarray(pc.equal(values[:n], values[n:]).fill_null(False))

    prob = pred["match_probability"].to_numpy()
    same_village = same("village_code")
    # The same house (address within the village) corroborates like a NIK or a birth date.
    corroborated = same("nik") | same("birth_date") | (same_village & same("address_norm"))
    name_only = ~corroborated & (prob >= match_threshold)
    demote = name_only & ~same_village
    # Among the remaining name-only matches, a record without NIK keeps only its best one.
    candidates = pred[name_only & ~demote].copy()
    if not candidates.empty:
        nik_missing = np.asarray(pa.array(df["nik"]).take(rows).is_null())
        candidates["no_nik_l"] = nik_missing[:n][name_only & ~demote]
        candidates["no_nik_r"] = nik_missing[n:][name_only & ~demote]
        ranked = candidates.sort_values("match_probability", ascending=False)
        losers: set[Any] = set()
        for side in ("l", "r"):
            no_nik = ranked[ranked[f"no_nik_{side}"]]
            best = no_nik.drop_duplicates(f"unique_id_{side}")
            losers |= set(no_nik.index.difference(best.index))
        demote = demote | pred.index.isin(list(losers))
    if demote.any():
        pred = pred.copy()
        pred.loc[demote, "match_probability"] = match_threshold - 1e-6
    return pred


def apply_decisions(
    pred: pd.DataFrame, forced: list[tuple[str, str]], forbidden: list[tuple[str, str]]
) -> pd.DataFrame:
    """Clerical decisions win over the model: accepted pairs are matches, rejected ones not."""

    def key(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a <= b else (b, a)

    if not forced and not forbidden:
        return pred
    no = {key(a, b) for a, b in forbidden}
    yes = {key(a, b) for a, b in forced}
    # Only pairs of two decided records can be decided: a tuple per pair costs seconds at 1M.
    decided = {x for pair in (*forced, *forbidden) for x in pair}
    at = np.flatnonzero(
        pred["unique_id_l"].isin(decided).to_numpy() & pred["unique_id_r"].isin(decided).to_numpy()
    )
    pairs = [
        key(a, b)
        for a, b in zip(pred["unique_id_l"].iloc[at], pred["unique_id_r"].iloc[at], strict=True)
    ]
    keep = np.ones(len(pred), dtype=bool)
    keep[at[[p in no for p in pairs]]] = False
    prob = pred["match_probability"].to_numpy(copy=True)
    prob[at[[p in yes for p in pairs]]] = 1.0
    pred = pred.assign(match_probability=prob)[keep]
    present = {p for p in pairs if p not in no}
    extra = [p for p in yes if p not in present]
    if extra:
        pred = pd.concat(
            [
                pred,
                pd.DataFrame(
                    {
                        "unique_id_l": [a for a, _ in extra],
                        "unique_id_r": [b for _, b in extra],
                        "match_probability": [1.0] * len(extra),
                    }
                ),
            ],
            ignore_index=True,
        )
    return pred


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
    stats: dict[str, Any] = {"new_records": len(new), "existing_records": len(existing)}
    t0 = time.perf_counter()
    api = db_api(engine)
    new_df, old_df = prepare(new), prepare(existing)
    # Term frequencies of names over everything known, as Splink computes them in a full run.
    names = pd.concat([new_df["name_norm"], old_df["name_norm"]]).dropna()
    freq = names.value_counts(normalize=True).rename("tf_name_norm").rename_axis("name_norm")
    new_t = api.register(new_df, table_name="new_records")
    old_t = api.register(old_df, table_name="existing_records")
    linker = Linker(old_t, model_for_engine(model_json, engine), log_level=logging.WARNING)
    linker.table_management.register_term_frequency_lookup(
        api.register(freq.reset_index(), table_name="tf_name_norm_lookup"), "name_norm"
    )
    between = linker.inference.predict_between(
        new_t, old_t, threshold_match_probability=review_threshold, warning_mode="never"
    )
    within = linker.inference.predict_within(
        new_t, threshold_match_probability=review_threshold, warning_mode="never"
    )
    cols = ["unique_id_l", "unique_id_r", "match_probability"]
    pred = pd.concat(
        [
            between.as_pandas_dataframe()[cols],  # type: ignore[no-untyped-call]
            within.as_pandas_dataframe()[cols],  # type: ignore[no-untyped-call]
        ],
        ignore_index=True,
    )
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
        extra = extra[~extra["unique_id_l"].isin(set(cluster_of))]
        stats["unique_name_links"] = len(extra)
        if not extra.empty:
            edges = pd.concat([edges, extra], ignore_index=True)
    stats["matches"] = len(edges)
    stats["uncertain"] = len(uncertain)
    return IncrementalOutput(edges=edges, uncertain=uncertain, stats=stats)
