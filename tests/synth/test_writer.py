from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from tepat.synth.names import STR
from tepat.synth.writer import write_csv


def test_it_writes_numpy_and_arrow_columns_in_chunks(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("tepat.synth.writer.CHUNK_ROWS", 2)
    path = tmp_path / "x.csv"
    n = write_csv(
        path,
        {
            "name": np.array(["Budi", "Siti, Aminah", "", "Eko", "Sri"], dtype=STR),
            "flag": np.array([True, False, True, False, True]),
            "count": np.arange(5, dtype=np.int64),
            "chunked": pa.chunked_array([["a", "b"], ["c", "d", "e"]]),
        },
    )
    assert n == 5
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '"name","flag","count","chunked"'
    assert lines[2] == '"Siti, Aminah",0,1,"b"'
    assert lines[3] == '"",1,2,"c"'
    assert len(lines) == 6
