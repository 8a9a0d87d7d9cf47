"""Names in the form they are compared in: upper case, accents, punctuation and titles gone,
spelling variants folded, and the forms (word order, first and last word, initial) the name
comparison and the blocking rules read."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def name_forms(name: str) -> tuple[str, str, str, str, str]:
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
