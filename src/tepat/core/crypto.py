"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for personal data.

Ciphertexts are ``<key id>:<base64(nonce || ciphertext || tag)>``; the key id lets old keys keep
decrypting after a rotation (see docs/operations.md). A blind index is a keyed hash of the
normalised value, so an exact lookup (NIK, phone) needs no decryption and leaks nothing without
the key. Different purposes use different derived keys so indexes cannot be joined across fields.

Every key comes from the process's key provider (tepat.core.keys: environment, a key file, or
keys wrapped by a KMS), loaded once per process and never stored in the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tepat.core import keys

_NONCE_BYTES = 12


def _decode_key(raw: str) -> tuple[str, bytes]:
    key_id, _, material = raw.rpartition(":")
    key_id = key_id or "k1"
    try:
        key = base64.urlsafe_b64decode(material + "=" * (-len(material) % 4))
    except ValueError:
        key = b""
    if len(key) < 32:
        # A passphrase-like value (e.g. a generated token): stretch it to 32 bytes.
        key = hashlib.sha256(material.encode("utf-8")).digest()
    return key_id, key[:32]


@lru_cache(maxsize=8)
def _keys(primary: str, old: tuple[str, ...]) -> tuple[tuple[str, AESGCM], dict[str, AESGCM]]:
    pid, pkey = _decode_key(primary)
    by_id = {pid: AESGCM(pkey)}
    for raw in old:
        kid, key = _decode_key(raw)
        by_id.setdefault(kid, AESGCM(key))
    return (pid, by_id[pid]), by_id


def _current() -> tuple[tuple[str, AESGCM], dict[str, AESGCM]]:
    provider = keys.provider()
    return _keys(provider.field_key(), provider.field_keys_old())


def encrypt(plaintext: str, *, context: str = "") -> str:
    """Encrypt a short string; `context` (e.g. "person.nik") is bound as associated data."""
    (kid, aead), _ = _current()
    nonce = os.urandom(_NONCE_BYTES)
    ct = aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return f"{kid}:{base64.b64encode(nonce + ct).decode('ascii')}"


def encryptor(*, context: str = "") -> Callable[[str], str]:
    """`encrypt` for many values of one context: key and context resolved once (an import of a
    million rows encrypts two million NIKs and KKs). Same token format, a fresh nonce each call."""
    (kid, aead), _ = _current()
    aad = context.encode("utf-8")
    prefix = f"{kid}:"
    urandom, b64 = os.urandom, base64.b64encode

    def one(plaintext: str) -> str:
        nonce = urandom(_NONCE_BYTES)
        ct = aead.encrypt(nonce, plaintext.encode("utf-8"), aad)
        return prefix + b64(nonce + ct).decode("ascii")

    return one


def decrypt(token: str, *, context: str = "") -> str:
    return decryptor(context=context)(token)


def decryptor(*, context: str = "") -> Callable[[str], str]:
    """`decrypt` for many tokens of one context: keys and context resolved once (a million
    decryptions spent a third of their time looking them up)."""
    _, by_id = _current()
    aad = context.encode("utf-8")
    # base64.b64decode is this call behind a wrapper that re-encodes the text (a quarter of a
    # decryption's cost); both ignore non-alphabet characters alike.
    a2b = binascii.a2b_base64

    def one(token: str) -> str:
        kid, _, body = token.partition(":")
        aead = by_id.get(kid)
        if aead is None:
            raise ValueError(f"unknown field-encryption key id {kid!r}")
        raw = a2b(body)
        return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad).decode("utf-8")

    return one


@lru_cache(maxsize=32)
def _index_key(master: str, purpose: str) -> bytes:
    return hmac.new(
        master.encode("utf-8"), b"tepat-blind-index:" + purpose.encode(), "sha256"
    ).digest()


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed, deterministic digest of `value` for exact-match lookups (hex, 32 chars)."""
    key = _index_key(keys.provider().blind_index_key(), purpose)
    return hmac.new(key, value.encode("utf-8"), "sha256").hexdigest()[:32]


def blind_indexer(*, purpose: str) -> Callable[[str], str]:
    """`blind_index` for many values of one purpose, same digests: the HMAC is keyed once and
    each value starts from a copy of its state (hmac.new rebuilds the padded key block for
    every value; an import indexes two million NIKs and KKs)."""
    keyed = hmac.new(_index_key(keys.provider().blind_index_key(), purpose), digestmod="sha256")

    def one(value: str) -> str:
        h = keyed.copy()
        h.update(value.encode("utf-8"))
        return h.hexdigest()[:32]

    return one


def derived_key(purpose: str) -> bytes:
    """A 32-byte key for one purpose (e.g. wrapping per-person subject keys, cache-key digests);
    callers never see a master key. Derived from the blind-index key, which never rotates, so a
    rotation of the field-encryption key leaves every derived key as it was."""
    return keys.provider().derived_key(purpose)


def cache_digest(value: str, *, purpose: str) -> str:
    """A keyed digest of a personal value (NIK, phone, client address, user id) for a cache or
    rate-limit key: a dump of the cache (Redis KEYS *) shows neither the value nor an unkeyed
    hash that a list of candidate NIKs or addresses would reverse. Stable within a deployment,
    so every web node counts the same client under the same key; `purpose` keeps one value's
    digests apart across counters."""
    key = keys.provider().derived_key("cache-keys")
    message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(key, message, "sha256").hexdigest()[:24]


def pseudonym(value: str, *, purpose: str) -> str:
    """A stable keyed pseudonym for publishing (ledger, open data): never reversible."""
    return blind_index(value, purpose=f"pseudonym:{purpose}")
