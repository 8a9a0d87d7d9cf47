"""Anti-automation for public lookups without an outside captcha service.

Two layers. Rate limits: fixed-window counters in the shared cache (Redis in production, so all
web nodes count together), per client address and per NIK, so that one address cannot walk
through NIKs and many addresses cannot hammer one NIK. A built-in challenge: a small sum written
in words (readable by a screen reader, no images), signed with the secret key and good for one
use within ten minutes. The challenge only stops naive scripts; the rate limits bound everyone.

Every per-address limit names a scope ending in "-ip" ("cek-ip", "otp-ip", "sms-ip", "adu-ip"):
its counter is keyed by `tepat.core.netaddr.limit_key`, so an IPv6 client counts by its /64 and
cannot escape the limit by rotating through the addresses of its own prefix.

The status check asks all three at once (`lookup_admit`): with Redis that is one round trip (a
Lua script, atomic), where asking one by one took three to five.

It sits in core because the portal and grievances both guard their public forms with it (the
grievance filing and tracking limits are "adu-ip" counters here).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _

from tepat.core import crypto
from tepat.core.netaddr import limit_key

# The salt keeps the name it had when this module lived in the portal: a challenge issued just
# before an upgrade still verifies after it.
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


def _challenge_max_age() -> int:
    return int(getattr(settings, "TEPAT_CHALLENGE_MAX_AGE_S", 600))


def _challenge_nonce(token: str, answer: str) -> str | None:
    """The nonce of a well-signed, unexpired token answered right; None otherwise. Spends
    nothing: the caller spends the nonce in the shared cache."""
    try:
        data = signing.loads(token or "", salt=SALT, max_age=_challenge_max_age())
        value = int((answer or "").strip())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or _answer_hash(str(data.get("n")), value) != data.get("h"):
        return None
    return str(data["n"])


def challenge_check(*, token: str, answer: str) -> bool:
    """True once per token, for the right answer within the time limit."""
    nonce = _challenge_nonce(token, answer)
    # Single use: the first request to spend the nonce wins.
    return nonce is not None and bool(cache.add(f"chl:{nonce}", 1, timeout=_challenge_max_age()))


def _rate_key(scope: str, ident: str, window_s: int) -> str:
    if scope.endswith("-ip"):
        ident = limit_key(ident)
    bucket = int(time.time()) // window_s
    # Keyed: an unkeyed hash of a NIK or an address in a Redis dump is reversed by hashing the
    # candidates (NIKs are mostly region + birth date + serial; IPv4 has 2**32 addresses).
    digest = crypto.cache_digest(ident, purpose=f"rl:{scope}")
    return f"rl:{scope}:{digest}:{bucket}"


def hit(scope: str, ident: str, *, limit: int, window_s: int) -> bool:
    """Count one hit; False when `ident` is over `limit` in the current window."""
    if limit <= 0:
        return True
    key = _rate_key(scope, ident, window_s)
    if cache.add(key, 1, timeout=window_s + 5):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_s + 5)
        return True
    return count <= limit


@dataclass(frozen=True)
class Admission:
    """What `lookup_admit` decided. `address_ok` False: nothing else was tried."""

    address_ok: bool
    challenge_ok: bool
    nik_ok: bool


# KEYS: address counter, challenge nonce, NIK counter. ARGV: address limit and window, whether
# to spend the challenge and its lifetime, NIK limit and window, whether to count the NIK.
# The same steps, in the same order, as the fallback in lookup_admit; the counters hold plain
# integers, as Django's Redis cache stores them, so `hit()` and this script share keys.
_ADMIT_LUA = """
local function count(key, limit, window)
  if limit <= 0 then return true end
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, window) end
  return n <= limit
end
if not count(KEYS[1], tonumber(ARGV[1]), ARGV[2]) then return {0, 0, 0} end
if ARGV[3] ~= '1' or not redis.call('SET', KEYS[2], 1, 'NX', 'EX', ARGV[4]) then
  return {1, 0, 1}
end
if ARGV[7] == '1' and not count(KEYS[3], tonumber(ARGV[5]), ARGV[6]) then return {1, 1, 0} end
return {1, 1, 1}
"""
_admit_script: Any = None  # redis-py's Script: EVALSHA, loading the script where a server lacks it


def lookup_admit(
    *,
    scope: str,
    address: str,
    address_limit: int,
    token: str,
    answer: str,
    nik: str | None,
    nik_limit: int,
    address_window_s: int = 3600,
    nik_window_s: int = 86400,
) -> Admission:
    """The three gates of a public lookup, in order: count the address (over its limit: stop
    there, the challenge stays unspent); spend the challenge if it is answered right; count
    `nik` only when the challenge was spent (pass None when the form is otherwise invalid).
    `nik` is whatever the lookup is limited per: a NIK, or a village and a name joined by ":"
    (the two never collide: a NIK has no ":").

    With Redis as the cache this is one atomic round trip; other caches take the same steps
    one call at a time."""
    nonce = _challenge_nonce(token, answer)
    max_age = _challenge_max_age()
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        global _admit_script
        # Django builds a new redis-py client (its ~170 reply callbacks included) on every cache
        # call; keep one per backend object (one per thread), on that object's connection pool.
        client = getattr(backend, "_tepat_client", None)
        if client is None:
            client = backend._tepat_client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
        if _admit_script is None:
            _admit_script = client.register_script(_ADMIT_LUA)
        keys = [
            backend.make_and_validate_key(k)
            for k in (
                _rate_key(f"{scope}-ip", address, address_window_s),
                f"chl:{nonce}",
                _rate_key(f"{scope}-nik", nik or "", nik_window_s),
            )
        ]
        args = [
            address_limit,
            address_window_s + 5,
            int(nonce is not None),
            max_age,
            nik_limit,
            nik_window_s + 5,
            int(nik is not None),
        ]
        reply = _admit_script(keys=keys, args=args, client=client)
        address_ok, challenge_ok, nik_ok = (bool(x) for x in reply)
        return Admission(address_ok, challenge_ok, nik_ok)
    if not hit(f"{scope}-ip", address, limit=address_limit, window_s=address_window_s):
        return Admission(False, False, False)
    if nonce is None or not cache.add(f"chl:{nonce}", 1, timeout=max_age):
        return Admission(True, False, True)
    if nik is not None and not hit(f"{scope}-nik", nik, limit=nik_limit, window_s=nik_window_s):
        return Admission(True, True, False)
    return Admission(True, True, True)


def limits() -> dict[str, int]:
    """Rate limits (settings): lookups per address per hour, per NIK per day and per village and
    name per day; inbound SMS per sender and per source address per hour."""
    return {
        "ip": int(getattr(settings, "TEPAT_CEK_LIMIT_PER_IP_HOUR", 60)),
        "nik": int(getattr(settings, "TEPAT_CEK_LIMIT_PER_NIK_DAY", 10)),
        "region": int(getattr(settings, "TEPAT_CEK_LIMIT_PER_NAME_DAY", 10)),
        "sms": int(getattr(settings, "TEPAT_SMS_LIMIT_PER_SENDER_HOUR", 10)),
        "sms_ip": int(getattr(settings, "TEPAT_SMS_LIMIT_PER_IP_HOUR", 3600)),
    }
