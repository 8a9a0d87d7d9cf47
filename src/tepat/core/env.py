"""Strict settings helpers: every setting comes from the environment, with an embedded default.

A mistyped boolean raises instead of silently becoming False, and any secret may be given as
``NAME_FILE`` pointing at a file (for Docker/Kubernetes secrets), as healthchecks does.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingError(RuntimeError):
    pass


def env_str(name: str, default: str = "") -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingError(f"{name}={raw!r} is not an integer") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingError(f"{name}={raw!r} is not a number") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


# Values a careless deployment copies from an example or leaves as a placeholder.
_WEAK_WORDS = ("changeme", "change-me", "change_me", "replace-me", "replaceme", "example")
_WEAK_VALUES = {
    "",
    "secret",
    "password",
    "test",
    "dev",
    "development",
    "insecure",
    "tepat",
    "default",
    "key",
    "xxx",
}
MIN_KEY_BYTES = 32
# Django's own deploy check (security.W009) wants 50 characters and 5 different ones.
MIN_SECRET_KEY_CHARS = 50


def _periodic(value: str) -> bool:
    """True for a value that is a shorter unit repeated ("abcabcabc")."""
    return len(value) > 1 and (value + value).find(value, 1) < len(value)


def _decoded_key(material: str) -> bytes | None:
    """The bytes of a base64 (standard or URL-safe) or hex key, or None when it is neither."""
    text = material.strip()
    if re.fullmatch(r"[0-9a-fA-F]+", text) and len(text) % 2 == 0:
        return bytes.fromhex(text)
    if re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", text):
        padded = text.replace("-", "+").replace("_", "/")
        padded += "=" * (-len(padded) % 4)
        try:
            return base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


def _estimated_bits(text: str) -> float:
    """A generous upper bound of a free-text value's entropy: length x log2(alphabet)."""
    alphabet = 0
    alphabet += 26 if re.search(r"[a-z]", text) else 0
    alphabet += 26 if re.search(r"[A-Z]", text) else 0
    alphabet += 10 if re.search(r"[0-9]", text) else 0
    alphabet += 33 if re.search(r"[^a-zA-Z0-9]", text) else 0
    return len(text) * math.log2(alphabet) if alphabet else 0.0


def key_weakness(name: str, value: str, *, min_chars: int = 0) -> str | None:
    """Why `value` is too weak for the key `name`, or None when it is strong enough.

    A key must carry at least 32 bytes of randomness: a base64 or hex value must decode to 32
    bytes or more with no obvious pattern; free text must be long and varied enough for 256
    bits even by a generous estimate. Placeholders (`changeme`, `example`...) are refused.
    """
    lowered = value.strip().lower()
    material = value.strip()
    if name == "TEPAT_FIELD_KEY" or name.startswith("TEPAT_FIELD_KEYS"):
        # "KEYID:BASE64" (tepat.core.crypto): the id is a label, not key material.
        material = material.rpartition(":")[2]
    elif name == "TEPAT_LEDGER_SIGNING_KEY":
        # "PRIVATE+KEY+<origin>+<id>+<base64>" (tepat.ledger.note): only the last part is secret.
        material = "+".join(material.split("+")[4:]) or material
    how = "make one with `tepat keygen --dir DIR` (docs/operations.md, production settings)"
    if lowered in _WEAK_VALUES or any(word in lowered for word in _WEAK_WORDS):
        return f"{name} is a placeholder or example value; {how}"
    if lowered.startswith("django-insecure"):
        return f"{name} is Django's insecure development key; {how}"
    if min_chars and len(material) < min_chars:
        return f"{name} is too short ({len(material)} characters, at least {min_chars}); {how}"
    if _periodic(material):
        return f"{name} is a repeated pattern; {how}"
    decoded = _decoded_key(material)
    if decoded is not None and len(material) >= 40:
        if len(decoded) < MIN_KEY_BYTES:
            return f"{name} decodes to {len(decoded)} bytes, at least {MIN_KEY_BYTES}; {how}"
        if len(set(decoded)) < 16:
            return f"{name} has too little variety to be random bytes; {how}"
        return None
    if _estimated_bits(material) < 8 * MIN_KEY_BYTES or len(set(material)) < 16:
        return f"{name} is too short or too simple (less than {MIN_KEY_BYTES} bytes of randomness); {how}"
    return None


def generated_keys_allowed() -> bool:
    """Whether a missing key may be generated under var/keys (development, demo and tests).

    Read from Django's settings (TEPAT_ALLOW_GENERATED_KEYS, derived there from TEPAT_DEBUG and
    TEPAT_DEV) once they are loaded; before that, from the environment the same way.
    """
    from django.conf import settings

    if settings.configured:
        return bool(getattr(settings, "TEPAT_ALLOW_GENERATED_KEYS", False))
    return development_mode()


def development_mode() -> bool:
    """TEPAT_DEBUG or TEPAT_DEV, or a pytest run (which sets PYTEST_VERSION in its process):
    a developer's machine, the demo or the test suite, never a deployment."""
    return (
        env_bool("TEPAT_DEBUG", False)
        or env_bool("TEPAT_DEV", False)
        or "PYTEST_VERSION" in os.environ
    )


def secret_from_env_or_file(
    name: str,
    path: Path,
    *,
    nbytes: int = 32,
    allow_generate: bool | None = None,
    min_chars: int = 0,
) -> str:
    """A secret from NAME / NAME_FILE; in development only, else from a local file under var/.

    A deployment sets the variable from its secret store; a value that is a placeholder, short or
    patterned stops start-up with a message naming the variable. Only a development or demo
    installation (see `development_mode`) generates a missing key into `path` (git-ignored, 0600),
    so that a newcomer's `make demo` works without any secret in the repository; elsewhere a
    missing key stops start-up rather than being created silently beside the database.
    """
    allowed = generated_keys_allowed() if allow_generate is None else allow_generate
    value = env_str(name)
    if value:
        problem = key_weakness(name, value, min_chars=min_chars)
        if problem and not allowed:
            raise SettingError(problem)
        return value
    if not allowed:
        raise SettingError(
            f"{name} is not set. Set it (or {name}_FILE, a file holding it) from your secret "
            "store; see docs/operations.md. Keys are generated under var/keys only for "
            "development and the demo (TEPAT_DEV=true or TEPAT_DEBUG=true)."
        )
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    import secrets

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    # Create with 0600 so the generated key is not world-readable.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process (a parallel test worker) won the race
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    return value
