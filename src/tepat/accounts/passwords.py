"""A password validator that scores guessability with zxcvbn, beyond Django's common list.

Django's CommonPasswordValidator refuses 20,000 exact passwords. zxcvbn (Dropbox's estimator,
the Python port) carries its own frequency lists (30,000 leaked passwords, English words, names,
surnames, TV and film words) and also sees keyboard walks, dates, repeats, sequences and l33t
substitutions of them, so `Password2026!` or `indonesia1945` are refused as well. Everything is
in the package: nothing is downloaded at run time, and no password leaves the process.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from zxcvbn import zxcvbn

# zxcvbn's scores: 0 (too guessable) .. 4 (very unguessable); 3 means "safely unguessable:
# moderate protection from an offline slow-hash scenario" (about 10^8 guesses or more).
DEFAULT_MIN_SCORE = 3
# zxcvbn's run time grows with the length; a longer password is long enough anyway.
_MAX_SCORED_LENGTH = 100
# Words a Tepat password should not lean on, whoever the user is.
_SITE_WORDS = ("tepat", "bansos", "dinsos", "kemensos", "dtks", "dtsen")


class GuessablePasswordValidator:
    """Refuse a password zxcvbn scores below `min_score`, given the user's own attributes."""

    def __init__(self, min_score: int = DEFAULT_MIN_SCORE) -> None:
        self.min_score = min_score

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > _MAX_SCORED_LENGTH:
            return
        inputs = [*_SITE_WORDS]
        for attribute in ("username", "email", "first_name", "last_name"):
            value = getattr(user, attribute, "") if user is not None else ""
            if value:
                inputs.append(str(value))
                inputs.extend(part for part in str(value).replace("@", ".").split(".") if part)
        result = zxcvbn(password, user_inputs=inputs)
        if int(result["score"]) < self.min_score:
            raise ValidationError(
                _(
                    "Kata sandi ini terlalu mudah ditebak (mirip kata sandi bocor, kata umum, "
                    "nama, tanggal atau pola papan ketik). Pakai beberapa kata acak atau kalimat "
                    "yang lebih panjang."
                ),
                code="password_guessable",
            )

    def get_help_text(self) -> str:
        return _(
            "Kata sandi tidak boleh mudah ditebak: bukan kata sandi yang pernah bocor, kata "
            "umum, nama, tanggal atau pola papan ketik."
        )
