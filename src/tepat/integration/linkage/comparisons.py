"""The model's comparisons: for each field, the levels of agreement a pair of records can show
(SQL conditions in DuckDB's dialect; see backends.py for Spark), and the Splink settings that
put them together with the blocking rules."""

from __future__ import annotations

from typing import Any

from tepat.integration.linkage.blocking import blocking_rules


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
    levels, see training.NEUTRAL_LEVELS); only a slip the birth dates do not explain counts as a
    typo."""
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
            # fixed, training.FIXED_LEVELS.
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


def settings_creator() -> Any:
    """The settings a new model is trained from (DuckDB SQL, as the saved model keeps it)."""
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
