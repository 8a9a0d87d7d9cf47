"""The voucher signing key and the voucher token format.

Token: ``base64url(payload JSON) "." base64url(Ed25519 signature over the payload bytes)``, short
enough for a QR code and checkable offline by any device holding the public key.

Key: TEPAT_VOUCHER_SIGNING_KEY or TEPAT_VOUCHER_SIGNING_KEY_FILE holds the 32-byte Ed25519 seed
(base64url); without one a dev key is generated under VAR_DIR/keys/ like the other local secrets.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from tepat.core.env import secret_from_env_or_file
from tepat.core.errors import TepatError


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=4)
def _private_key(seed: str) -> Ed25519PrivateKey:
    raw = b64d(seed)
    if len(raw) != 32:
        raise TepatError("TEPAT_VOUCHER_SIGNING_KEY must be a 32-byte seed", code="bad_key")
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_key() -> Ed25519PrivateKey:
    path = Path(settings.VAR_DIR) / "keys" / "voucher_signing_key"
    return _private_key(secret_from_env_or_file("TEPAT_VOUCHER_SIGNING_KEY", path))


def public_key_raw(key: Ed25519PrivateKey | None = None) -> bytes:
    return (key or signing_key()).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(raw_public: bytes | None = None) -> str:
    return hashlib.sha256(raw_public or public_key_raw()).hexdigest()[:16]


def sign(payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return f"{b64e(body)}.{b64e(signing_key().sign(body))}"


class InvalidVoucher(TepatError):
    http_status = 422

    def __init__(self, reason: str) -> None:
        super().__init__(f"Voucher tidak sah / invalid voucher ({reason})", code=reason)


def verify(token: str, public_raw: bytes | None = None) -> dict[str, Any]:
    """The payload of a well-signed token, or InvalidVoucher (the same check the device runs)."""
    try:
        body_b64, sig_b64 = token.strip().split(".")
        body, sig = b64d(body_b64), b64d(sig_b64)
    except ValueError as exc:
        raise InvalidVoucher("malformed") from exc
    try:
        Ed25519PublicKey.from_public_bytes(public_raw or public_key_raw()).verify(sig, body)
    except InvalidSignature as exc:
        raise InvalidVoucher("bad_signature") from exc
    payload: dict[str, Any] = json.loads(body)
    return payload
