"""Signed messages between Tepat and its payment providers: Ed25519 over the raw bytes.

Each provider holds its own Ed25519 key pair and Tepat holds only the public halves, one per
provider (`TEPAT_PROVIDER_KEYS`): nobody at Tepat, the person importing a statement included, can
forge a provider's callback, answer or statement, and no secret ever travels to a provider.

A signed HTTP message carries four headers; the signature covers the provider's name, the
timestamp, a one-time nonce and the raw body, so nothing in it can be moved to another provider,
replayed outside the window, or changed:

    X-Tepat-Provider: BRI
    X-Tepat-Timestamp: 1796630400            (Unix seconds)
    X-Tepat-Nonce: 3q2-7wAAAAB8HM1n          (16-64 URL-safe characters, used once)
    X-Tepat-Signature: <base64url Ed25519 signature of signing_input(...)>

A statement file travels as a signed envelope (JSON) with the same fields around its content, so
an operator can carry it by hand and Tepat still verifies it before import.

This module is plain Python (no Django): the provider simulator signs with it too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = "tepat-provider-v1"
ENVELOPE_FORMAT = "tepat-statement-v1"
HEADER_PROVIDER = "X-Tepat-Provider"
HEADER_TIMESTAMP = "X-Tepat-Timestamp"
HEADER_NONCE = "X-Tepat-Nonce"
HEADER_SIGNATURE = "X-Tepat-Signature"
PROVIDER_NAME = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class BadSignature(Exception):
    """A message whose signature, provider, timestamp or nonce does not hold."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(
        text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
    )


def provider_name(name: str) -> str:
    """The canonical form of a provider's name (as in Payment.provider): upper case."""
    return name.strip().upper()


def signing_input(*, provider: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{VERSION}\n{provider}\n{timestamp}\n{nonce}\n".encode() + body


def sign(
    key: Ed25519PrivateKey,
    *,
    provider: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that sign `body` as coming from `provider`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    sig = key.sign(signing_input(provider=provider, timestamp=ts, nonce=nonce, body=body))
    return {
        HEADER_PROVIDER: provider,
        HEADER_TIMESTAMP: ts,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: b64e(sig),
    }


@dataclass(frozen=True)
class Signed:
    provider: str
    timestamp: str
    nonce: str
    signature: str


def from_headers(headers: Mapping[str, str]) -> Signed:
    """The signature fields of an HTTP message (header names in any case); a missing one is
    named."""
    lower = {str(k).lower(): v for k, v in headers.items()}
    values = []
    for name in (HEADER_PROVIDER, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE):
        value = str(lower.get(name.lower()) or "").strip()
        if not value:
            raise BadSignature("missing_" + name[8:].lower(), f"header {name} is missing")
        values.append(value)
    return Signed(*values)


def check(
    key: Ed25519PublicKey,
    signed: Signed,
    *,
    body: bytes,
    now: float | None = None,
    window_s: float | None = 300.0,
) -> None:
    """Raise BadSignature unless `signed` is a valid signature of `body` by `key` within the
    window (`window_s` None: no window, for statements carried by hand)."""
    if not PROVIDER_NAME.match(signed.provider):
        raise BadSignature("bad_provider", "X-Tepat-Provider is not a provider name")
    if not NONCE.match(signed.nonce):
        raise BadSignature("bad_nonce", "X-Tepat-Nonce must be 16-64 URL-safe characters")
    try:
        ts = int(signed.timestamp)
    except ValueError:
        raise BadSignature("bad_timestamp", "X-Tepat-Timestamp is not Unix seconds") from None
    if window_s is not None and abs((time.time() if now is None else now) - ts) > window_s:
        raise BadSignature("stale", "the message is outside the replay window")
    try:
        sig = b64d(signed.signature)
    except (binascii.Error, ValueError):
        raise BadSignature("bad_signature", "X-Tepat-Signature is not base64url") from None
    message = signing_input(
        provider=signed.provider, timestamp=signed.timestamp, nonce=signed.nonce, body=body
    )
    try:
        key.verify(sig, message)
    except InvalidSignature:
        raise BadSignature("bad_signature", "the signature does not verify") from None


# --- statement envelopes -------------------------------------------------------------------


def envelope_seal(
    key: Ed25519PrivateKey, *, provider: str, content: bytes, timestamp: int | None = None
) -> bytes:
    """A statement file as a signed envelope (JSON): what a provider hands over."""
    h = sign(key, provider=provider, body=content, timestamp=timestamp)
    doc = {
        "format": ENVELOPE_FORMAT,
        "provider": provider,
        "timestamp": h[HEADER_TIMESTAMP],
        "nonce": h[HEADER_NONCE],
        "signature": h[HEADER_SIGNATURE],
        "content": content.decode("utf-8"),
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()


def envelope_open(data: bytes) -> tuple[Signed, bytes]:
    """Split a signed envelope into its signature fields and content (not yet verified)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadSignature(
            "not_signed", "the file is not a signed statement envelope (JSON)"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != ENVELOPE_FORMAT:
        raise BadSignature("not_signed", f"the file is not a {ENVELOPE_FORMAT} envelope")
    for name in ("provider", "timestamp", "nonce", "signature", "content"):
        if not isinstance(doc.get(name), str) or not doc[name]:
            raise BadSignature("missing_" + name, f"the envelope has no {name}")
    signed = Signed(doc["provider"], doc["timestamp"], doc["nonce"], doc["signature"])
    return signed, doc["content"].encode("utf-8")


_K = TypeVar("_K", Ed25519PublicKey, Ed25519PrivateKey)


# --- keys ----------------------------------------------------------------------------------


def _load_key(
    text: str,
    *,
    pem: Callable[[bytes], object],
    kind: Any,  # the key class (abstract in cryptography, hence not type[_K])
    from_raw: Callable[[bytes], _K],
    what: tuple[str, str],
) -> _K:
    """PEM, or base64/base64url of the key's 32 raw bytes; `what` names (the key, its raw
    bytes) in errors."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = pem(text.encode())
        if not isinstance(key, kind):
            raise ValueError(f"not an Ed25519 {what[0]}")
        return key
    raw = b64d(text)
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 {what[1]} is 32 bytes")
    return from_raw(raw)


def load_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key: PEM, or base64/base64url of its 32 raw bytes."""
    return _load_key(text, pem=serialization.load_pem_public_key, kind=Ed25519PublicKey,
                     from_raw=Ed25519PublicKey.from_public_bytes, what=("public key", "public key"))  # fmt: skip


def load_private_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key: PEM, or base64/base64url of its 32-byte seed."""
    return _load_key(text, pem=lambda b: serialization.load_pem_private_key(b, password=None),
                     kind=Ed25519PrivateKey, from_raw=Ed25519PrivateKey.from_private_bytes,
                     what=("private key", "seed"))  # fmt: skip


def public_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64e(raw)


def private_text(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return b64e(raw)


def generate_keys(names: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Fresh key pairs: (name -> private seed, name -> public key), both base64url: the first
    for the provider (or the simulator), the second for TEPAT_PROVIDER_KEYS."""
    private: dict[str, str] = {}
    public: dict[str, str] = {}
    for name in names:
        key = Ed25519PrivateKey.generate()
        private[provider_name(name)] = private_text(key)
        public[provider_name(name)] = public_text(key)
    return private, public
