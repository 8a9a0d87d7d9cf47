"""A tile-grid map of the 38 provinces (column, row), west to east, for when no boundaries are
loaded: every province gets one equal square, so small provinces are as visible as large ones."""

from __future__ import annotations

TILES: dict[str, tuple[int, int, str]] = {
    "11": (0, 0, "ACEH"), "12": (1, 1, "SUMUT"), "14": (2, 1, "RIAU"), "21": (3, 1, "KEPRI"),
    "13": (1, 2, "SUMBAR"), "15": (2, 2, "JAMBI"), "16": (3, 2, "SUMSEL"), "19": (4, 2, "BABEL"),
    "17": (2, 3, "BKL"), "18": (3, 3, "LPG"), "31": (4, 3, "DKI"), "36": (4, 4, "BTN"),
    "32": (5, 4, "JABAR"), "33": (6, 4, "JATENG"), "35": (7, 4, "JATIM"), "34": (6, 5, "DIY"),
    "51": (8, 5, "BALI"), "52": (9, 5, "NTB"), "53": (10, 5, "NTT"), "61": (5, 2, "KALBAR"),
    "62": (6, 2, "KALTENG"), "63": (7, 3, "KALSEL"), "64": (7, 2, "KALTIM"),
    "65": (7, 1, "KALTARA"), "76": (8, 2, "SULBAR"), "72": (9, 2, "SULTENG"),
    "75": (9, 1, "GTLO"), "71": (10, 1, "SULUT"), "73": (8, 3, "SULSEL"), "74": (9, 3, "SULTRA"),
    "82": (11, 1, "MALUT"), "81": (11, 3, "MALUKU"), "96": (12, 2, "PBD"), "92": (13, 2, "PB"),
    "94": (14, 3, "PTENG"), "91": (15, 2, "PAPUA"), "95": (15, 3, "PPEG"), "93": (15, 4, "PSEL"),
}  # fmt: skip
