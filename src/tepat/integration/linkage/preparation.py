"""The records as the model sees them: the record columns, and the derived columns (name forms,
normalized address, birth year) that the comparisons and blocking rules read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tepat.integration.linkage.names import NAME_FORMS, name_forms

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


def prepare(records: pd.DataFrame) -> pd.DataFrame:
    """Add the derived columns the model compares and blocks on. Names and addresses repeat
    (family names, one address per household), so each distinct value is worked once.
    `records` may also carry `birth_year`: the birth year a record without a birth date implies
    (a survey gives the head's age in years; see sources.py, "age"), as text."""
    df = records.loc[:, list(RECORD_COLUMNS)].copy()
    for col in RECORD_COLUMNS:
        df[col] = df[col].fillna("").astype(str)
    stated = records["birth_year"] if "birth_year" in records else pd.Series("", index=df.index)
    # The year of the birth date where there is one, else the year an age implies.
    df["birth_year"] = (
        df["birth_date"].str[:4].where(df["birth_date"] != "", stated.fillna("").astype(str))
    )
    codes, names = pd.factorize(df["full_name"])
    forms = np.array([name_forms(n) for n in names], dtype=object).reshape(-1, len(NAME_FORMS))
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
# family card is not compared: see comparisons._levels_place).
RAW_ONLY = ("kk", "full_name", "address")
