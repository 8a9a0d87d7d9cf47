"""Cache keys name no one (issue 17, item 5: "key the rate-limit cache hashes").

Attack tried: an attacker with a dump of Redis (KEYS *: a backup, a replica, an open port)
reverses the counters' keys. Before, they held an unkeyed BLAKE2s of the NIK or the address
(the status check, OTP and grievance limits) and the plain address (log-in throttling): hashing
the 2**32 IPv4 addresses, or the NIKs of a region (district + birth date + serial), finds who
checked their status, asked for a code or failed to log in, and from where. Now every such key
holds an HMAC under `crypto.derived_key("cache-keys")`, which is not in the cache or the database.

The dump is a real Redis database (TEPAT_TEST_KEYED_CACHE_REDIS_URL, by default db 11 of the
local server; the status-gate tests use db 13), after real requests through the pages.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tepat.core import crypto
from tepat.core.audit import audit_read, reads_counter_key
from tepat.grievances import limits
from tests.portal.conftest import *  # noqa: F403  (regions, bandung_operator, citizen)
from tests.portal.conftest import solve

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("TEPAT_TEST_KEYED_CACHE_REDIS_URL", "redis://127.0.0.1:6379/11")
CHECK_ADDRESS = "203.0.113.77"
LOGIN_ADDRESS = "198.51.100.23"
OTP_ADDRESS = "192.0.2.44"
TRACK_ADDRESS = "192.0.2.55"
TRACK_CODE = "ADU-7K2M-9XPQ"


@pytest.fixture
def redis_dump(settings: Any) -> Iterator[Any]:
    """Django's cache on a real Redis database, under a prefix of this test's own (tests on
    other workers may share the database; nothing is flushed). Yields a function that dumps
    every key name in the database, as an attacker would."""
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        server.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"keyed-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }

    def dump() -> list[str]:
        return [k.decode() for k in server.keys("*")]

    yield dump
    mine = server.keys(f"{prefix}:*")
    if mine:
        server.delete(*mine)


def _unkeyed_digests(value: str) -> dict[str, str]:
    """What a dictionary attack computes for one candidate value: common unkeyed hashes."""
    data = value.encode()
    return {
        "plain": value,
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324 - an attacker's guess, not our use
        "md5": hashlib.md5(data).hexdigest(),  # noqa: S324
        "sha512": hashlib.sha512(data).hexdigest(),
        "sha3_256": hashlib.sha3_256(data).hexdigest(),
        "blake2b": hashlib.blake2b(data).hexdigest(),
        "blake2s": hashlib.blake2s(data).hexdigest(),
        "blake2s-96": hashlib.blake2s(data, digest_size=12).hexdigest(),  # the old key digest
    }


def _found(dump: list[str], values: list[str]) -> list[str]:
    text = "\n".join(dump)
    return [
        f"{kind} of {value!r}"
        for value in values
        for kind, digest in _unkeyed_digests(value).items()
        if digest[:16] in text
    ]


def _status_check(client: Client, nik: str, name: str) -> int:
    page = client.get("/cek/", REMOTE_ADDR=CHECK_ADDRESS).content.decode()
    data = {"mode": "nik", "nik": nik, "name": name, **solve(page)}
    return client.post("/cek/", data, REMOTE_ADDR=CHECK_ADDRESS).status_code


def _code_request(client: Client, nik: str, settings: Any, tmp_path: Any) -> int:
    settings.TEPAT_SMS_SIM_PATH = str(tmp_path / "outbox.jsonl")
    page = client.get("/akun/masuk/", REMOTE_ADDR=OTP_ADDRESS).content.decode()
    data = {"nik": nik, **solve(page)}
    return client.post("/akun/masuk/", data, REMOTE_ADDR=OTP_ADDRESS).status_code


def test_a_redis_dump_after_a_status_check_and_a_failed_log_in_names_no_nik_or_address(
    client, citizen, bandung_operator, redis_dump, settings, tmp_path
):
    nik = citizen["nik"]
    assert _status_check(client, nik, citizen["name"]) == 200
    failed = Client().post(
        "/accounts/masuk/",
        {"username": bandung_operator.username, "password": "wrong-password-1"},
        REMOTE_ADDR=LOGIN_ADDRESS,
    )
    assert "Log-in gagal" in failed.content.decode()
    assert _code_request(Client(), nik, settings, tmp_path) in (200, 302)
    limits.tracking_missed(address=TRACK_ADDRESS, code=TRACK_CODE)
    audit_read(actor=bandung_operator, what="registry.household_view", count=3)

    dump = redis_dump()
    # The counters are there, under keyed digests (the test would pass vacuously otherwise).
    expected = [
        f"rl:cek-ip:{crypto.cache_digest(CHECK_ADDRESS, purpose='rl:cek-ip')}:",
        f"rl:cek-nik:{crypto.cache_digest(nik, purpose='rl:cek-nik')}:",
        f"rl:otp-ip:{crypto.cache_digest(OTP_ADDRESS, purpose='rl:otp-ip')}:",
        f"rl:otp-nik:{crypto.cache_digest(nik, purpose='rl:otp-nik')}:",
        f"tepat:login-ip-failures:{crypto.cache_digest(LOGIN_ADDRESS, purpose='login-ip')}",
        f"trk:ip:{crypto.cache_digest(TRACK_ADDRESS, purpose='trk:ip')}:",
        f"trk:code:{crypto.cache_digest(TRACK_CODE, purpose='trk:code')}:",
        reads_counter_key(bandung_operator.pk, 0).rsplit(":", 1)[0] + ":",
    ]
    missing = [e for e in expected if not any(e in key for key in dump)]
    assert missing == [], dump
    # ...and nothing in the dump is the NIK, an address, the user or an unkeyed hash of them.
    values = [
        nik,
        CHECK_ADDRESS,
        LOGIN_ADDRESS,
        OTP_ADDRESS,
        TRACK_ADDRESS,
        TRACK_CODE,
        bandung_operator.username,
        str(bandung_operator.pk),
    ]
    assert _found(dump, values[:7]) == []
    reads = [k for k in dump if ":tepat:reads:" in k]
    assert reads
    assert not any(f":tepat:reads:{bandung_operator.pk}:" in k for k in reads)


def test_another_deployment_key_gives_other_cache_keys(settings):
    nik = "3273011205800001"
    here = crypto.cache_digest(nik, purpose="rl:cek-nik")
    settings.BLIND_INDEX_KEY = "Hb1Yb2i7uYvQkq0WwN7T3vG8lB0pX1sZr9cD4eF5gH0"
    assert crypto.cache_digest(nik, purpose="rl:cek-nik") != here
