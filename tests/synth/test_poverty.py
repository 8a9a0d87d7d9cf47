from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.synth.helpers import read_csv


def test_about_nine_to_ten_percent_of_persons_are_poor(
    bandung: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = bandung
    households = read_csv(out / "truth" / "households.csv")
    size = np.array([int(h["size"]) for h in households])
    poor = np.array([h["poor"] == "1" for h in households])
    cons = np.array([int(h["consumption_pc"]) for h in households])
    share = (size * poor).sum() / size.sum()
    assert 0.085 <= share <= 0.105
    assert np.all(poor == (cons < manifest["parameters"]["poverty_line"]))
    assert 900_000 < np.median(cons) < 2_500_000


def _survey_design(rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    cats = ["LANTAI", "DINDING", "ATAP", "AIR_MINUM", "JAMBAN", "BAHAN_BAKAR", "KRT_PENDIDIKAN"]
    levels = {c: sorted({r[c] for r in rows}) for c in cats}
    cols: list[list[float]] = []
    for r in rows:
        x = [1.0, np.log(int(r["JML_ART"])), np.log(max(int(r["LUAS_LANTAI"]), 1))]
        x += [float(r[k]) for k in ("MOTOR", "KULKAS", "MOBIL", "LAHAN")]
        x += [np.log2(max(int(r["DAYA_VA"]), 225)), int(r["JML_BALITA"]) / int(r["JML_ART"])]
        x += [int(r["JML_BEKERJA"]) / int(r["JML_ART"])]
        for c in cats:
            x += [float(r[c] == v) for v in levels[c][1:]]
        cols.append(x)
    y = np.log([int(r["KAPITA"]) for r in rows])
    return np.array(cols), y


def test_a_proxy_means_test_fitted_on_the_survey_explains_about_half(
    bandung: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = bandung
    rows = [
        r for r in read_csv(out / "sources" / "survey.csv") if not r["KODE_DESA"].startswith("99")
    ]
    assert len(rows) > 300
    x, y = _survey_design(rows)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    pred = x @ beta
    r2 = 1 - np.var(y - pred) / np.var(y)
    assert 0.35 < r2 < 0.7
    bottom = y < np.quantile(y, 0.4)
    rank = np.argsort(np.argsort(-pred)) + 1
    pos, neg = bottom.sum(), (~bottom).sum()
    auc = (rank[bottom].sum() - pos * (pos + 1) / 2) / (pos * neg)
    assert auc > 0.75


def test_the_survey_samples_a_small_weighted_share_of_households(
    bandung: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = bandung
    rows = read_csv(out / "sources" / "survey.csv")
    households = manifest["counts"]["registry/households.csv"]
    assert 0.04 < len(rows) / households < 0.11
    weighted = sum(float(r["WEIGHT"]) for r in rows)
    assert 0.7 * households < weighted < 1.3 * households
