"""Where the field-encryption and blind-index keys come from: a key provider (TEPAT_KEY_PROVIDER).

A stolen database, or a backup of the data folder, must not carry the keys that open it. Keys
are read through one of three providers, once per process, and held in memory only:

- ``env`` (the default): TEPAT_FIELD_KEY, TEPAT_FIELD_KEYS_OLD and TEPAT_BLIND_INDEX_KEY, or
  their ``_FILE`` forms (secrets mounted by the orchestrator), through Django's settings.
  Development generates them under var/keys; production refuses keys given inline in the
  process environment and key files under TEPAT_VAR_DIR (`check_env_keys`).
- ``file``: one JSON key file (TEPAT_KEY_FILE, written by ``tepat keygen --key-file``) that only
  this process's user can read, and never under TEPAT_VAR_DIR.
- ``kms``: the same file with every key wrapped by a key-management service (envelope
  encryption); a `KmsClient` unwraps them at start. Vault/OpenBao Transit over HTTPS ships here,
  `LocalKms` (a master key in a file) serves tests and development, and any other service plugs
  in as ``module:factory``.

Derived keys (`KeyProvider.derived_key`) come from the blind-index key, the one key that never
rotates, so that what they protect (wrapped per-person keys, cache-key digests) survives a
rotation of the field-encryption key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import importlib
import ipaddress
import json
import os
import re
import ssl
import stat
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from tepat.core.env import SettingError, env_bool, env_float, env_str, key_weakness

PROVIDERS = ("env", "file", "kms")
PLAIN_FORMAT = "tepat-keys/1"
WRAPPED_FORMAT = "tepat-keys-wrapped/1"
ENV_KEY_NAMES = ("TEPAT_FIELD_KEY", "TEPAT_FIELD_KEYS_OLD", "TEPAT_BLIND_INDEX_KEY")
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_HOW = "docs/operations.md, key providers"


class KeyProviderError(SettingError):
    """A key provider cannot give its keys: the message names the setting or file and why."""


# --- the interface -----------------------------------------------------------------------------


@runtime_checkable
class KeyProvider(Protocol):
    """The keys tepat.core.crypto uses. Field keys are ``ID:MATERIAL`` text (the id prefixes
    every ciphertext); the blind-index key is text, used as its UTF-8 bytes (as it always was,
    so moving between providers keeps every stored index)."""

    name: str

    def field_key(self) -> str:
        """The key new encryptions use."""
        ...

    def field_keys_old(self) -> tuple[str, ...]:
        """Keys still accepted for decryption only."""
        ...

    def blind_index_key(self) -> str: ...

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, independent of every other purpose's."""
        ...


@lru_cache(maxsize=64)
def derive(master: str, purpose: str) -> bytes:
    """The derived key of `purpose` under the blind-index key `master` (HMAC-SHA256; the
    label differs from the blind indexes' own, so no derived key equals an index key)."""
    label = b"tepat-derived-key:" + purpose.encode("utf-8")
    return hmac.new(master.encode("utf-8"), label, "sha256").digest()


class EnvKeyProvider:
    """Today's keys from Django's settings, read at each call so override_settings works."""

    name = "env"

    def field_key(self) -> str:
        return str(settings.FIELD_KEY)

    def field_keys_old(self) -> tuple[str, ...]:
        return tuple(settings.FIELD_KEYS_OLD)

    def blind_index_key(self) -> str:
        return str(settings.BLIND_INDEX_KEY)

    def derived_key(self, purpose: str) -> bytes:
        return derive(self.blind_index_key(), purpose)


@dataclass(frozen=True, repr=False)
class KeySet:
    """Keys loaded from a file or a KMS, in memory only (repr hides them)."""

    field_key: str
    field_keys_old: tuple[str, ...]
    blind_index_key: str

    def __repr__(self) -> str:
        return f"KeySet(field_key={self.field_key.partition(':')[0]!r}, ...)"


class StaticKeyProvider:
    """A provider whose keys were loaded once (file, kms)."""

    def __init__(self, name: str, keys: KeySet) -> None:
        self.name = name
        self._keys = keys

    def field_key(self) -> str:
        return self._keys.field_key

    def field_keys_old(self) -> tuple[str, ...]:
        return self._keys.field_keys_old

    def blind_index_key(self) -> str:
        return self._keys.blind_index_key

    def derived_key(self, purpose: str) -> bytes:
        return derive(self._keys.blind_index_key, purpose)


# --- the key file ------------------------------------------------------------------------------


@dataclass
class KeyFile:
    """The key file's content: field keys by id (material, or wrapped material in base64), the
    id new writes use, and the blind-index key. One JSON object::

        {"format": "tepat-keys/1", "field_key": "k2",
         "field_keys": {"k1": "BASE64", "k2": "BASE64"}, "blind_index_key": "BASE64"}

    A wrapped file has ``"format": "tepat-keys-wrapped/1"`` and each value wrapped by the KMS.
    """

    field_key: str
    field_keys: dict[str, str]
    blind_index_key: str
    wrapped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def dumps(self) -> str:
        doc: dict[str, Any] = {
            "format": WRAPPED_FORMAT if self.wrapped else PLAIN_FORMAT,
            "field_key": self.field_key,
            "field_keys": self.field_keys,
            "blind_index_key": self.blind_index_key,
            **self.extra,
        }
        return json.dumps(doc, indent=2) + "\n"

    def next_key_id(self) -> str:
        """k<N+1> after the highest numbered kN in use."""
        numbers = [int(m.group(1)) for k in self.field_keys if (m := re.fullmatch(r"k(\d+)", k))]
        return f"k{max(numbers, default=0) + 1}"


def parse_key_file(text: str, *, where: str) -> KeyFile:
    """The key file in `text`, or a KeyProviderError naming `where` and what is wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeyProviderError(
            f"{where} is not a key file: not JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(doc, dict):
        raise KeyProviderError(f"{where} is not a key file: not a JSON object")
    fmt = doc.get("format")
    if fmt not in (PLAIN_FORMAT, WRAPPED_FORMAT):
        raise KeyProviderError(
            f"{where}: unknown format {fmt!r} (expected {PLAIN_FORMAT!r} or {WRAPPED_FORMAT!r})"
        )
    field_keys = doc.get("field_keys")
    if not isinstance(field_keys, dict) or not field_keys:
        raise KeyProviderError(f"{where}: field_keys must be an object of key id -> key")
    for kid, value in field_keys.items():
        if not _KEY_ID.fullmatch(kid):
            raise KeyProviderError(
                f"{where}: field key id {kid!r} must be 1-16 letters, digits, '-' or '_'"
            )
        if not isinstance(value, str) or not value.strip():
            raise KeyProviderError(f"{where}: field key {kid} is empty or not text")
    primary = doc.get("field_key")
    if primary not in field_keys:
        raise KeyProviderError(
            f"{where}: field_key {primary!r} is not one of field_keys "
            f"({', '.join(sorted(field_keys))})"
        )
    blind = doc.get("blind_index_key")
    if not isinstance(blind, str) or not blind.strip():
        raise KeyProviderError(f"{where}: blind_index_key is missing or empty")
    known = {"format", "field_key", "field_keys", "blind_index_key"}
    return KeyFile(
        field_key=str(primary),
        field_keys={k: v.strip() for k, v in field_keys.items()},
        blind_index_key=blind.strip(),
        wrapped=fmt == WRAPPED_FORMAT,
        extra={k: v for k, v in doc.items() if k not in known},
    )


def check_keys(keys: KeySet, *, where: str) -> None:
    """Refuse weak material in a key file (the same rules as the environment's keys)."""
    for raw in (keys.field_key, *keys.field_keys_old):
        kid, _, material = raw.partition(":")
        problem = key_weakness("TEPAT_FIELD_KEY", material)
        if problem:
            raise KeyProviderError(f"{where}: field key {kid} {problem.partition(' ')[2]}")
    problem = key_weakness("TEPAT_BLIND_INDEX_KEY", keys.blind_index_key)
    if problem:
        raise KeyProviderError(f"{where}: blind_index_key {problem.partition(' ')[2]}")


def keyset_of(plain: KeyFile) -> KeySet:
    return KeySet(
        field_key=f"{plain.field_key}:{plain.field_keys[plain.field_key]}",
        field_keys_old=tuple(
            f"{kid}:{material}"
            for kid, material in sorted(plain.field_keys.items())
            if kid != plain.field_key
        ),
        blind_index_key=plain.blind_index_key,
    )


def check_private_file(path: Path, *, what: str) -> None:
    """Refuse a key file that is missing, not a plain file, open to the group or others, or
    owned by another user than this process's."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyProviderError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise KeyProviderError(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyProviderError(f"{what} {path} is not a regular file")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeyProviderError(
            f"{what} {path} has mode {mode:04o}: its group or other users can open it; make it "
            f"readable by its owner only (chmod 600 {path})"
        )
    if st.st_uid != os.geteuid():
        raise KeyProviderError(
            f"{what} {path} is owned by uid {st.st_uid}, not by the user this process runs as "
            f"(uid {os.geteuid()}); chown it to that user"
        )


def check_outside(path: Path, forbidden: tuple[str, ...], *, what: str) -> None:
    """Refuse a key file inside a folder that holds the database or its copies (TEPAT_VAR_DIR:
    the SQLite file, backups, exports), where one stolen copy would hold data and key."""
    real = path.resolve()
    for folder in forbidden:
        if folder and real.is_relative_to(Path(folder).resolve()):
            raise KeyProviderError(
                f"{what} {path} is inside {folder} (TEPAT_VAR_DIR), beside the database and its "
                "backups; keep keys where a copy of the data does not reach, e.g. "
                "/etc/tepat/keys.json or /run/secrets"
            )


def _read(path: Path, *, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise KeyProviderError(f"{what} {path} cannot be read: {reason}") from None


# --- KMS clients -------------------------------------------------------------------------------


class KmsClient(Protocol):
    """A key-management service that wraps and unwraps data keys; the master key never leaves
    it. `unwrap` raises KeyProviderError when the service refuses or cannot be reached."""

    def wrap(self, plaintext: bytes) -> bytes: ...

    def unwrap(self, ciphertext: bytes) -> bytes: ...


class LocalKms:
    """A KMS in one private file (AES-256-GCM under a 32-byte master key): for tests and
    development. Production refuses it: a master key file beside the wrapped keys is the file
    provider with one more file; use a real KMS or the file provider."""

    _MAGIC = b"tlk1"
    _AAD = b"tepat-local-kms/1"

    def __init__(self, master: bytes) -> None:
        if len(master) != 32:
            raise KeyProviderError(f"the local KMS master key must be 32 bytes, not {len(master)}")
        self._aead = AESGCM(master)

    @classmethod
    def from_file(cls, path: Path) -> LocalKms:
        what = "TEPAT_KMS_LOCAL_KEY_FILE"
        check_private_file(path, what=what)
        text = _read(path, what=what).strip()
        try:
            master = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            master = b""
        if len(master) != 32:
            raise KeyProviderError(f"{what} {path} must hold base64 of 32 bytes")
        return cls(master)

    def wrap(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return self._MAGIC + nonce + self._aead.encrypt(nonce, plaintext, self._AAD)

    def unwrap(self, ciphertext: bytes) -> bytes:
        if not ciphertext.startswith(self._MAGIC) or len(ciphertext) < 4 + 12 + 16:
            raise KeyProviderError("the local KMS cannot unwrap this: not one of its wrapped keys")
        body = ciphertext[len(self._MAGIC) :]
        try:
            return self._aead.decrypt(body[:12], body[12:], self._AAD)
        except InvalidTag:
            raise KeyProviderError(
                "the local KMS cannot unwrap this key: another master key wrapped it, or it "
                "was altered"
            ) from None


class VaultTransitKms:
    """HashiCorp Vault's (or OpenBao's) Transit engine over HTTP, with the standard library.

    wrap:   POST {url}/v1/{mount}/encrypt/{key}  {"plaintext": base64}  -> {"data": {"ciphertext": "vault:v1:..."}}
    unwrap: POST {url}/v1/{mount}/decrypt/{key}  {"ciphertext": "vault:v1:..."} -> {"data": {"plaintext": base64}}

    The token (X-Vault-Token) needs only the `update` capability on those two paths; without a
    token, a Vault Agent on the loopback address adds its own. Nothing here logs or echoes the
    token or a plaintext.
    """

    def __init__(
        self,
        *,
        url: str,
        key_name: str,
        mount: str = "transit",
        token: str = "",
        namespace: str = "",
        ca_file: str = "",
        timeout_s: float = 10.0,
    ) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise KeyProviderError(f"TEPAT_KMS_URL={url!r} is not an http(s) URL")
        self.url = url.rstrip("/")
        self.key_name = key_name
        self.mount = mount.strip("/")
        self._token = token
        self.namespace = namespace
        self.timeout_s = timeout_s
        self._context = ssl.create_default_context(cafile=ca_file or None)

    def _post(self, op: str, body: dict[str, str]) -> dict[str, Any]:
        path = f"/v1/{self.mount}/{op}/{urllib.parse.quote(self.key_name, safe='')}"
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL (checked in __init__)
            self.url + path,
            data=json.dumps(body).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        if self._token:
            request.add_header("X-Vault-Token", self._token)
        if self.namespace:
            request.add_header("X-Vault-Namespace", self.namespace)
        where = f"the KMS at {self.url}{path}"
        try:
            context = self._context if self.url.startswith("https:") else None
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=self.timeout_s, context=context
            ) as resp:
                reply = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace")
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                detail = "; ".join(json.loads(detail).get("errors", [])) or detail
            raise KeyProviderError(f"{where} refused to {op}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise KeyProviderError(f"cannot reach {where}: {reason}") from None
        except ValueError:
            raise KeyProviderError(f"{where} answered {op} with something not JSON") from None
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, dict):
            raise KeyProviderError(f"{where} answered {op} without a data object")
        return data

    def wrap(self, plaintext: bytes) -> bytes:
        data = self._post("encrypt", {"plaintext": base64.b64encode(plaintext).decode()})
        ciphertext = data.get("ciphertext")
        if not isinstance(ciphertext, str) or not ciphertext.startswith("vault:"):
            raise KeyProviderError(f"the KMS at {self.url} answered encrypt without a ciphertext")
        return ciphertext.encode("ascii")

    def unwrap(self, ciphertext: bytes) -> bytes:
        data = self._post("decrypt", {"ciphertext": ciphertext.decode("ascii", "replace")})
        try:
            return base64.b64decode(str(data["plaintext"]), validate=True)
        except (KeyError, binascii.Error, ValueError):
            raise KeyProviderError(
                f"the KMS at {self.url} answered decrypt without a plaintext"
            ) from None


# --- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class KeyConfig:
    """How this process finds its keys: read from the environment once (`from_env`), kept in
    Django's settings as TEPAT_KEYS."""

    provider: str = "env"
    key_file: str = ""
    kms_client: str = ""
    kms_url: str = ""
    kms_key_name: str = ""
    kms_mount: str = "transit"
    kms_token: str = ""
    kms_namespace: str = ""
    kms_ca_file: str = ""
    kms_timeout_s: float = 10.0
    kms_local_key_file: str = ""
    production: bool = False
    forbidden_dirs: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"KeyConfig(provider={self.provider!r}, key_file={self.key_file!r})"

    @classmethod
    def from_env(cls, *, production: bool, forbidden_dirs: tuple[str, ...] = ()) -> KeyConfig:
        return cls(
            provider=env_str("TEPAT_KEY_PROVIDER", "env").strip().lower() or "env",
            key_file=env_str("TEPAT_KEY_FILE").strip(),
            kms_client=env_str("TEPAT_KMS_CLIENT").strip(),
            kms_url=env_str("TEPAT_KMS_URL").strip(),
            kms_key_name=env_str("TEPAT_KMS_KEY_NAME").strip(),
            kms_mount=env_str("TEPAT_KMS_MOUNT", "transit").strip() or "transit",
            kms_token=env_str("TEPAT_KMS_TOKEN").strip(),
            kms_namespace=env_str("TEPAT_KMS_NAMESPACE").strip(),
            kms_ca_file=env_str("TEPAT_KMS_CA_FILE").strip(),
            kms_timeout_s=env_float("TEPAT_KMS_TIMEOUT_S", 10.0),
            kms_local_key_file=env_str("TEPAT_KMS_LOCAL_KEY_FILE").strip(),
            production=production,
            forbidden_dirs=forbidden_dirs,
        )


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def kms_client(config: KeyConfig) -> KmsClient:
    """The KMS client TEPAT_KMS_CLIENT names: vault, local, or module:factory (a callable
    taking the KeyConfig and returning an object with wrap and unwrap)."""
    name = config.kms_client
    if not name:
        raise KeyProviderError(
            "TEPAT_KMS_CLIENT is not set: name the KMS that wraps the keys (vault, local, or "
            f"module:factory); {_HOW}"
        )
    if name == "local":
        if config.production:
            raise KeyProviderError(
                "TEPAT_KMS_CLIENT=local is for tests and development: its master key is one more "
                "file on this host. Use a real KMS (vault) or TEPAT_KEY_PROVIDER=file"
            )
        if not config.kms_local_key_file:
            raise KeyProviderError("TEPAT_KMS_CLIENT=local needs TEPAT_KMS_LOCAL_KEY_FILE")
        return LocalKms.from_file(Path(config.kms_local_key_file))
    if name == "vault":
        missing = [
            n for n, v in (("URL", config.kms_url), ("KEY_NAME", config.kms_key_name)) if not v
        ]
        if missing:
            names = " and ".join(f"TEPAT_KMS_{m}" for m in missing)
            raise KeyProviderError(f"TEPAT_KMS_CLIENT=vault needs {names}")
        scheme = urllib.parse.urlsplit(config.kms_url).scheme
        if config.production and scheme == "http" and not _loopback(config.kms_url):
            raise KeyProviderError(
                f"TEPAT_KMS_URL={config.kms_url!r}: keys travel to and from the KMS, so it must "
                "be https (plain http only to a Vault Agent on the loopback address)"
            )
        return VaultTransitKms(
            url=config.kms_url,
            key_name=config.kms_key_name,
            mount=config.kms_mount,
            token=config.kms_token,
            namespace=config.kms_namespace,
            ca_file=config.kms_ca_file,
            timeout_s=config.kms_timeout_s,
        )
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            factory: Callable[[KeyConfig], Any] = getattr(
                importlib.import_module(module_name), attr
            )
        except (ImportError, AttributeError) as exc:
            raise KeyProviderError(f"TEPAT_KMS_CLIENT={name!r} cannot be loaded: {exc}") from None
        try:
            client = factory(config)
        except Exception as exc:  # an operator's adapter: whatever it raises, name it
            raise KeyProviderError(f"TEPAT_KMS_CLIENT={name!r} failed: {exc}") from exc
        if not (
            callable(getattr(client, "wrap", None)) and callable(getattr(client, "unwrap", None))
        ):
            raise KeyProviderError(f"TEPAT_KMS_CLIENT={name!r} gave no object with wrap and unwrap")
        return client
    raise KeyProviderError(
        f"TEPAT_KMS_CLIENT={name!r} is not a known KMS client (vault, local, or module:factory)"
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, *, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyProviderError(f"{where} is not base64 of a wrapped key") from None


def wrap_file(plain: KeyFile, client: KmsClient, **extra: Any) -> KeyFile:
    """`plain` with each key wrapped by `client` (what `tepat keygen --wrapped` writes)."""
    return KeyFile(
        field_key=plain.field_key,
        field_keys={k: _b64(client.wrap(v.encode("utf-8"))) for k, v in plain.field_keys.items()},
        blind_index_key=_b64(client.wrap(plain.blind_index_key.encode("utf-8"))),
        wrapped=True,
        extra=dict(extra),
    )


def unwrap_file(wrapped: KeyFile, client: KmsClient, *, where: str) -> KeyFile:
    """`wrapped` with each key unwrapped by `client`; the result lives in memory only."""

    def one(text: str, label: str) -> str:
        raw = client.unwrap(_unb64(text, where=f"{where}: {label}"))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise KeyProviderError(f"{where}: {label} unwraps to something not a key") from None

    return KeyFile(
        field_key=wrapped.field_key,
        field_keys={k: one(v, f"field key {k}") for k, v in wrapped.field_keys.items()},
        blind_index_key=one(wrapped.blind_index_key, "blind_index_key"),
    )


def build(config: KeyConfig) -> KeyProvider:
    """The provider `config` names, its keys loaded and checked (the kms provider unwraps them
    here, once); a KeyProviderError says what is wrong."""
    if config.provider == "env":
        return EnvKeyProvider()
    if config.provider not in PROVIDERS:
        raise KeyProviderError(
            f"TEPAT_KEY_PROVIDER={config.provider!r} is not a key provider "
            f"(one of: {', '.join(PROVIDERS)}); {_HOW}"
        )
    if not config.key_file:
        raise KeyProviderError(
            f"TEPAT_KEY_PROVIDER={config.provider} needs TEPAT_KEY_FILE (make one with "
            "`tepat keygen --key-file PATH`); " + _HOW
        )
    path = Path(config.key_file)
    where = f"TEPAT_KEY_FILE {path}"
    if config.provider == "file":
        check_outside(path, config.forbidden_dirs, what="TEPAT_KEY_FILE")
        check_private_file(path, what="TEPAT_KEY_FILE")
        plain = parse_key_file(_read(path, what="TEPAT_KEY_FILE"), where=where)
        if plain.wrapped:
            raise KeyProviderError(
                f"{where} holds wrapped keys: use TEPAT_KEY_PROVIDER=kms with its KMS"
            )
    else:
        wrapped = parse_key_file(_read(path, what="TEPAT_KEY_FILE"), where=where)
        if not wrapped.wrapped:
            raise KeyProviderError(
                f"{where} holds plain keys, not wrapped ones: use TEPAT_KEY_PROVIDER=file, or "
                "wrap them with `tepat keygen --key-file NEW --wrapped --from-file OLD`"
            )
        plain = unwrap_file(wrapped, kms_client(config), where=where)
    keys = keyset_of(plain)
    check_keys(keys, where=where)
    return StaticKeyProvider(config.provider, keys)


def check_env_keys(
    environ: Mapping[str, str], *, forbidden_dirs: tuple[str, ...], allow_inline: bool
) -> None:
    """Production rules for the env provider: a key given inline in the process environment is
    refused (child processes inherit it; `docker inspect` and /proc/PID/environ show it) unless
    TEPAT_ALLOW_INLINE_KEYS=true, and a NAME_FILE under TEPAT_VAR_DIR is refused."""
    for name in ENV_KEY_NAMES:
        if environ.get(name, "").strip() and not allow_inline:
            raise KeyProviderError(
                f"{name} is set in the process environment, which child processes inherit and "
                f"`docker inspect` or /proc/PID/environ show; give it as {name}_FILE (a secret "
                "file outside TEPAT_VAR_DIR) or use TEPAT_KEY_PROVIDER=file or kms "
                f"({_HOW}); TEPAT_ALLOW_INLINE_KEYS=true accepts it"
            )
        if environ.get(f"{name}_FILE"):
            check_outside(Path(environ[f"{name}_FILE"]), forbidden_dirs, what=f"{name}_FILE")


def check_no_env_keys(environ: Mapping[str, str], provider: str) -> None:
    """With a file or kms provider, a TEPAT_FIELD_KEY left in the environment would be ignored:
    refuse it instead, so a half-finished move between providers is noticed."""
    for name in ENV_KEY_NAMES:
        for variable in (name, f"{name}_FILE"):
            if environ.get(variable, "").strip():
                raise KeyProviderError(
                    f"{variable} is set, but TEPAT_KEY_PROVIDER={provider} reads every key from "
                    "TEPAT_KEY_FILE; remove it from the environment (after copying it with "
                    "`tepat keygen --key-file PATH --from-env`)"
                )


def allow_inline_keys() -> bool:
    return env_bool("TEPAT_ALLOW_INLINE_KEYS", False)


# --- the process's provider --------------------------------------------------------------------

_DEFAULT = KeyConfig()
_loaded: tuple[KeyConfig, KeyProvider] | None = None


def load(config: KeyConfig) -> KeyProvider:
    """Build the provider of `config` and make it this process's."""
    global _loaded
    built = build(config)
    _loaded = (config, built)
    return built


def provider() -> KeyProvider:
    """This process's key provider (settings.TEPAT_KEYS), built once and kept in memory."""
    config = getattr(settings, "TEPAT_KEYS", _DEFAULT)
    current = _loaded
    if current is not None and (current[0] is config or current[0] == config):
        return current[1]
    return load(config)


def reset() -> None:
    """Forget the loaded provider (tests; the next use loads it again)."""
    global _loaded
    _loaded = None
