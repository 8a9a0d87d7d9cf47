"""Public identifiers are random, never sequential (no enumeration through URLs or exports)."""

from __future__ import annotations

import secrets

_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/1/i/l/o: readable over the phone


def new_public_id(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
