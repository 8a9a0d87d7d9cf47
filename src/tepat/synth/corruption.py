"""How agency records go wrong: typos, spelling variants, swapped names, mangled NIKs and dates.

Each function takes and returns a string; `rng` makes every change reproducible. Applied only to
the sampled fraction of rows, so per-row Python is cheap here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from tepat.synth.names import STR, StrArray

# Spellings the civil registry, banks and BPJS each write differently.
VARIANTS: dict[str, tuple[str, ...]] = {
    "Muhammad": ("Mohammad", "Muhamad", "Mohamad", "Muhammat", "M.", "Moh."),
    "Ahmad": ("Achmad", "Akhmad", "Ahmat"),
    "Siti": ("Sitti", "St."),
    "Nur": ("Noer", "Nurul"),
    "Abdul": ("Abd.", "Abdoel"),
    "Sri": ("Sry",),
    "Dewi": ("Dewie",),
    "Rizki": ("Rizky", "Riski", "Risky"),
    "Yusuf": ("Yusup", "Jusuf"),
}
# Old (pre-1972) spelling and common phonetic swaps.
_SOUND_SWAPS = (
    ("u", "oe"),
    ("j", "dj"),
    ("y", "j"),
    ("c", "tj"),
    ("f", "p"),
    ("i", "y"),
    ("kh", "h"),
)
_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def name_typo(name: str, rng: np.random.Generator) -> str:
    if len(name) < 3:
        return name + name[-1:]
    i = int(rng.integers(1, len(name) - 1))
    kind = int(rng.integers(0, 4))
    if kind == 0:  # deletion
        return name[:i] + name[i + 1 :]
    if kind == 1:  # doubled letter
        return name[:i] + name[i] + name[i:]
    if kind == 2:  # neighbouring transposition
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :] if i + 1 < len(name) else name[:-1]
    ch = _KEYBOARD[int(rng.integers(0, len(_KEYBOARD)))]
    return name[:i] + (ch.upper() if name[i].isupper() else ch) + name[i + 1 :]


def name_variant(name: str, rng: np.random.Generator) -> str:
    words = name.split(" ")
    for i, w in enumerate(words):
        alts = VARIANTS.get(w)
        if alts:
            words[i] = alts[int(rng.integers(0, len(alts)))]
            return " ".join(words)
    low = name.lower()
    for a, b in _SOUND_SWAPS:
        if a in low[1:]:
            j = low.index(a, 1)
            return name[:j] + b + name[j + len(a) :]
    return name_typo(name, rng)


def name_swap(name: str, rng: np.random.Generator) -> str:
    words = name.split(" ")
    if len(words) < 2:
        return name_typo(name, rng)
    return " ".join(words[1:] + words[:1])


def name_abbreviate(name: str, rng: np.random.Generator) -> str:
    words = name.split(" ")
    if len(words) < 2:
        return name
    return " ".join([*words[:-1], words[-1][0] + "."])


def digit_typo(number: str, rng: np.random.Generator) -> str:
    """One wrong digit or two neighbouring digits swapped (never the first two)."""
    if len(number) < 4:
        return number
    i = int(rng.integers(2, len(number) - 1))
    if rng.random() < 0.5 and number[i] != number[i + 1]:
        return number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    d = str((int(number[i]) + int(rng.integers(1, 10))) % 10)
    return number[:i] + d + number[i + 1 :]


def spreadsheet_number(number: str, rng: np.random.Generator) -> str:
    """What a spreadsheet makes of a 16-digit number: 3.27301E+15."""
    return f"{float(number):.5E}" if number.isdigit() else number


Corruption = Callable[[str, np.random.Generator], str]


def apply(
    values: StrArray, rows: npt.NDArray[np.int64], fn: Corruption, rng: np.random.Generator
) -> None:
    """values[rows] = fn(value, rng) for the selected rows, in place."""
    if len(rows):
        values[rows] = np.array([fn(str(v), rng) for v in values[rows]], dtype=STR)
