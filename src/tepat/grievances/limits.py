"""Limits on the public grievance surfaces: how often one address may file, and how many wrong
tracking codes it may try.

Filing: the HTML forms and the API count against the same per-address counter (scope "adu-ip"
of tepat.core.guard, so an IPv6 client counts by its /64), TEPAT_COMPLAINT_LIMIT_PER_IP_HOUR
submissions an hour, complaints and usul/sanggah together.

Tracking: a tracking code is the only secret that opens a complaint, so lookups that miss are
counted per address (TEPAT_TRACK_MISSES_PER_IP_HOUR) and per code (TEPAT_TRACK_MISSES_PER_CODE_HOUR,
the same guess from many addresses); past either limit, lookups are refused for the rest of the
hour, the right code included, so that a locked-out guesser learns nothing more.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from tepat.core import crypto, guard
from tepat.core.errors import TepatError
from tepat.core.netaddr import limit_key

WINDOW_S = 3600


class RateLimited(TepatError):
    http_status = 429


def submission_limit() -> int:
    return int(getattr(settings, "TEPAT_COMPLAINT_LIMIT_PER_IP_HOUR", 20))


def submission_admit(address: str) -> None:
    """Count one submission (complaint, usul or sanggah) from `address`; refuse over the limit."""
    if not guard.hit("adu-ip", address, limit=submission_limit(), window_s=WINDOW_S):
        raise RateLimited(
            "Terlalu banyak pengaduan dari alamat ini, coba lagi nanti / too many submissions "
            "from this address, try again later",
            code="rate_limited",
        )


def _limits() -> tuple[int, int]:
    return (
        int(getattr(settings, "TEPAT_TRACK_MISSES_PER_IP_HOUR", 10)),
        int(getattr(settings, "TEPAT_TRACK_MISSES_PER_CODE_HOUR", 5)),
    )


def _key(kind: str, ident: str) -> str:
    # Keyed (an address or a tracking code must not be recoverable from a cache dump).
    digest = crypto.cache_digest(ident, purpose=f"trk:{kind}")
    return f"trk:{kind}:{digest}:{int(time.time()) // WINDOW_S}"


def _keys(address: str, code: str) -> tuple[str, str]:
    return _key("ip", limit_key(address)), _key("code", code)


def tracking_admit(*, address: str, code: str) -> None:
    """Refuse a lookup from an address, or of a code, that has missed too often this hour."""
    ip_limit, code_limit = _limits()
    ip_key, code_key = _keys(address, code)
    got = cache.get_many([ip_key, code_key])
    if int(got.get(ip_key, 0)) >= ip_limit or int(got.get(code_key, 0)) >= code_limit:
        raise RateLimited(
            "Terlalu banyak nomor yang salah, coba lagi dalam satu jam / too many wrong tracking "
            "numbers, try again in an hour",
            code="rate_limited",
        )


def tracking_missed(*, address: str, code: str) -> None:
    """Count a lookup that found nothing, against the address and against the code."""
    for key in _keys(address, code):
        if not cache.add(key, 1, timeout=WINDOW_S + 5):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=WINDOW_S + 5)
