"""Scoring pairs with a model, and the rules that overrule the model's scores afterwards: the
guard on pairs that agree on nothing but the name, and the clerks' decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tepat.integration.linkage.frames import positions

if TYPE_CHECKING:
    from splink import Linker


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
    at = positions(df["unique_id"], pd.concat([pred["unique_id_l"], pred["unique_id_r"]]))
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
        # Ties are broken by the pair's ids, not by row order: on Spark the row order varies
        # from run to run, and which of two equally likely records goes to review must not.
        ranked = candidates.sort_values(
            ["match_probability", "unique_id_l", "unique_id_r"],
            ascending=[False, True, True],
            kind="mergesort",
        )
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


# The columns of a scored pair.
PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability"]


def predict(linker: Linker, *, review_threshold: float) -> pd.DataFrame:
    """The pairs of a full run that score at least `review_threshold`."""
    predictions = linker.inference.predict(threshold_match_probability=review_threshold)
    # Only the pair and its probability leave the backend: the full prediction table carries
    # every compared value and level (~40 columns), a few GB of Python objects at 1.6M pairs.
    pred = predictions.query_sql(
        "SELECT unique_id_l, unique_id_r, match_probability FROM {this}"
    ).as_pandas_dataframe()  # type: ignore[no-untyped-call]
    predictions.drop_table_from_database_and_remove_from_cache()
    return pred


def predict_new(
    linker: Linker, new: Any, existing: Any, *, review_threshold: float
) -> pd.DataFrame:
    """The pairs of new records (a registered table) with the existing ones and among
    themselves that score at least `review_threshold`."""
    between = linker.inference.predict_between(
        new, existing, threshold_match_probability=review_threshold, warning_mode="never"
    )
    within = linker.inference.predict_within(
        new, threshold_match_probability=review_threshold, warning_mode="never"
    )
    return pd.concat(
        [
            between.as_pandas_dataframe()[PAIR_COLUMNS],  # type: ignore[no-untyped-call]
            within.as_pandas_dataframe()[PAIR_COLUMNS],  # type: ignore[no-untyped-call]
        ],
        ignore_index=True,
    )
