"""Small readers shared by the synth tests."""

from __future__ import annotations

import csv
from pathlib import Path

PERSONS = 20_000


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
