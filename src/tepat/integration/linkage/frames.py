"""Lookups over record frames shared by the prediction rules and clustering."""

from __future__ import annotations

import numpy as np
import pandas as pd


def positions(ids: pd.Series, values: pd.Series) -> np.ndarray:
    """Where each value is in `ids` (-1: not there), with Arrow's hash lookup: pandas' Index of a
    million strings costs ~2x."""
    import pyarrow as pa
    import pyarrow.compute as pc

    at = pc.index_in(pa.array(values), value_set=pa.array(ids))
    return np.asarray(at.fill_null(-1), dtype=np.intp)
