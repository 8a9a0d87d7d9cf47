"""Anti-automation for public lookups without an outside captcha service.

Two layers. Rate limits: fixed-window counters in the shared cache (Redis in production, so all
web nodes count together), per client address and per NIK, so that one address cannot walk
through NIKs and many addresses cannot hammer one NIK. A built-in challenge: a small sum written
in words (readable by a screen reader, no images), signed with the secret key and good for one
use within ten minutes. The challenge only stops naive scripts; the rate limits bound everyone.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext as _

SALT = "tepat.portal.challenge"
WORDS_ID = [
    "nol",
    "satu",
    "dua",
    "tiga",
    "empat",
    "lima",
    "enam",
    "tujuh",
    "delapan",
    "sembilan",
]
WORDS_EN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@dataclass(frozen=True)
class Challenge:
    question: str
    token: str


def challenge_new(*, lang: str = "id") -> Challenge:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    words = WORDS_EN if lang.startswith("en") else WORDS_ID
    question = _("Berapa %(a)s ditambah %(b)s? (jawab dengan angka)") % {
        "a": words[a],
        "b": words[b],
    }
    # The answer is bound into the signature, not readable from the token.
    nonce = secrets.token_hex(8)
    token = signing.dumps({"n": nonce, "h": _answer_hash(nonce, a + b)}, salt=SALT)
    return Challenge(question=question, token=token)


def _answer_hash(nonce: str, answer: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hashlib.blake2s(f"{nonce}:{answer}".encode(), key=key[:32]).hexdigest()[:16]


def challenge_check(*, token: str, answer: str) -> bool:
    """True once per token, for the right answer within the time limit."""
    max_age = int(getattr(settings, "TEPAT_CHALLENGE_MAX_AGE_S", 600))
    try:
        data = signing.loads(token or "", salt=SALT, max_age=max_age)
        value = int((answer or "").strip())
    except (signing.BadSignature, ValueError, TypeError):
        return False
    if not isinstance(data, dict) or _answer_hash(str(data.get("n")), value) != data.get("h"):
        return False
    # Single use: the first request to spend the nonce wins.
    return bool(cache.add(f"chl:{data['n']}", 1, timeout=max_age))


def hit(scope: str, ident: str, *, limit: int, window_s: int) -> bool:
    """Count one hit; False when `ident` is over `limit` in the current window."""
    if limit <= 0:
        return True
    bucket = int(time.time()) // window_s
    digest = hashlib.blake2s(ident.encode(), digest_size=12).hexdigest()
    key = f"rl:{scope}:{digest}:{bucket}"
    if cache.add(key, 1, timeout=window_s + 5):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_s + 5)
        return True
    return count <= limit


def limits() -> dict[str, int]:
    """Rate limits (settings): lookups per address per hour and per NIK per day."""
    return {
        "ip": int(getattr(settings, "TEPAT_CEK_LIMIT_PER_IP_HOUR", 60)),
        "nik": int(getattr(settings, "TEPAT_CEK_LIMIT_PER_NIK_DAY", 10)),
        "sms": int(getattr(settings, "TEPAT_SMS_LIMIT_PER_SENDER_HOUR", 10)),
    }
