"""Key providers (issue 17, item 5): the field-encryption and blind-index keys out of the
database's reach.

Attacks and mistakes tried:
- the key file readable by the group or other users, or owned by another user;
- the key file (or a NAME_FILE key) under TEPAT_VAR_DIR, where the SQLite database, its backups
  and exports live: one stolen copy would hold the data and the key;
- a key file that is not JSON, names a key it does not hold, holds a weak key, or holds wrapped
  keys where plain ones are expected (and the reverse); an unknown provider or KMS client name;
- the wrapped-key file stolen without the KMS: it opens nothing; the KMS refusing or down;
- a rotation: old ciphertexts stay readable, blind indexes and derived keys do not move, and
  processes on either side of a rolling restart read each other's writes;
- production: keys inline in the environment, the local KMS, plain http to a remote KMS.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag

from tepat.config import keygen
from tepat.core import crypto, keys
from tepat.core.keys import KeyConfig, KeyProviderError, LocalKms, VaultTransitKms
from tests.security.test_production_settings import _production_env, _run

SETUP = "import django; django.setup()\nfrom tepat.core import crypto, keys\n"


@pytest.fixture(autouse=True)
def _fresh_provider() -> Iterator[None]:
    keys.reset()
    yield
    keys.reset()


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def local_kms_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local KMS master key, named in the environment as keygen and settings read it."""
    path = tmp_path / "kms" / "master"
    keygen.main(["--kms-local-key", str(path)])
    monkeypatch.setenv("TEPAT_KMS_CLIENT", "local")
    monkeypatch.setenv("TEPAT_KMS_LOCAL_KEY_FILE", str(path))
    return path


def _use(settings: Any, config: KeyConfig) -> keys.KeyProvider:
    settings.TEPAT_KEYS = config
    return keys.provider()


def _file_config(path: Path, var_dir: Path, **extra: Any) -> KeyConfig:
    return KeyConfig(provider="file", key_file=str(path), forbidden_dirs=(str(var_dir),), **extra)


def _kms_config(path: Path, master: Path, **extra: Any) -> KeyConfig:
    fields = {"kms_client": "local", "kms_local_key_file": str(master), **extra}
    return KeyConfig(provider="kms", key_file=str(path), **fields)


# --- env --------------------------------------------------------------------------------------


def test_the_env_provider_is_the_default_and_reads_the_settings_keys(settings):
    assert settings.TEPAT_KEYS.provider == "env"
    assert keys.provider().name == "env"
    settings.FIELD_KEY = "k5:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    assert crypto.encrypt("rahasia").startswith("k5:")


def test_derived_keys_survive_a_field_key_rotation_but_not_a_new_blind_index_key(settings):
    before = crypto.derived_key("subject-keys")
    settings.FIELD_KEY = "k9:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    assert crypto.derived_key("subject-keys") == before
    assert crypto.derived_key("cache-keys") != before
    settings.BLIND_INDEX_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
    assert crypto.derived_key("subject-keys") != before


def test_cache_digests_are_keyed_by_the_blind_index_key(settings):
    nik = "3273011205800001"
    first = crypto.cache_digest(nik, purpose="rl:cek-nik")
    assert first == crypto.cache_digest(nik, purpose="rl:cek-nik")
    assert first != crypto.cache_digest(nik, purpose="rl:otp-nik")
    settings.BLIND_INDEX_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
    assert crypto.cache_digest(nik, purpose="rl:cek-nik") != first


# --- file -------------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_file_that_the_file_provider_reads(settings, tmp_path, var_dir):
    path = tmp_path / "etc" / "keys.json"
    keygen.main(["--key-file", str(path)])
    assert path.stat().st_mode & 0o777 == 0o600
    doc = json.loads(path.read_text())
    assert doc["format"] == "tepat-keys/1"
    assert doc["field_key"] == "k1"
    provider = _use(settings, _file_config(path, var_dir))
    assert provider.name == "file"
    token = crypto.encrypt("3273011205800001", context="person.nik")
    assert token.startswith("k1:")
    assert crypto.decrypt(token, context="person.nik") == "3273011205800001"
    assert provider.blind_index_key() == doc["blind_index_key"]


def test_keygen_does_not_overwrite_a_key_file(tmp_path, capsys):
    path = tmp_path / "keys.json"
    keygen.main(["--key-file", str(path)])
    before = path.read_text()
    with pytest.raises(SystemExit) as exit_info:
        keygen.main(["--key-file", str(path)])
    assert exit_info.value.code == 2
    assert "already exists" in capsys.readouterr().err
    assert path.read_text() == before


def test_moving_from_env_to_file_keeps_every_ciphertext_and_index(
    settings, tmp_path, var_dir, monkeypatch
):
    old = "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    new = "k2:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings.BLIND_INDEX_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings.FIELD_KEY, settings.FIELD_KEYS_OLD = old, []
    token_k1 = crypto.encrypt("lama", context="c")
    settings.FIELD_KEY, settings.FIELD_KEYS_OLD = new, [old]
    token_k2 = crypto.encrypt("baru", context="c")
    index = crypto.blind_index("3273011205800001", purpose="nik")
    derived = crypto.derived_key("subject-keys")
    monkeypatch.setenv("TEPAT_FIELD_KEY", settings.FIELD_KEY)
    monkeypatch.setenv("TEPAT_FIELD_KEYS_OLD", old)
    monkeypatch.setenv("TEPAT_BLIND_INDEX_KEY", settings.BLIND_INDEX_KEY)
    path = tmp_path / "keys.json"
    keygen.main(["--key-file", str(path), "--from-env"])

    _use(settings, _file_config(path, var_dir))
    assert keys.provider().name == "file"
    assert crypto.decrypt(token_k1, context="c") == "lama"
    assert crypto.decrypt(token_k2, context="c") == "baru"
    assert crypto.encrypt("x", context="c").startswith("k2:")
    assert crypto.blind_index("3273011205800001", purpose="nik") == index
    assert crypto.derived_key("subject-keys") == derived
    # The file is what opens them: a stranger's k2 does not.
    settings.TEPAT_KEYS = keys.KeyConfig()
    settings.FIELD_KEY = "k2:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    with pytest.raises(InvalidTag):
        crypto.decrypt(token_k2, context="c")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_a_key_file_open_to_the_group_or_others_is_refused_naming_path_and_mode(
    settings, tmp_path, var_dir, mode
):
    path = tmp_path / "keys.json"
    keygen.main(["--key-file", str(path)])
    path.chmod(mode)
    with pytest.raises(KeyProviderError) as error:
        _use(settings, _file_config(path, var_dir))
    assert str(path) in str(error.value)
    assert f"mode {mode:04o}" in str(error.value)
    assert "chmod 600" in str(error.value)


def test_a_read_only_key_file_of_its_owner_is_accepted(settings, tmp_path, var_dir):
    path = tmp_path / "keys.json"
    keygen.main(["--key-file", str(path)])
    path.chmod(0o400)
    assert _use(settings, _file_config(path, var_dir)).name == "file"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_key_file_owned_by_another_user_is_refused(settings, tmp_path, var_dir):
    path = tmp_path / "keys.json"
    keygen.main(["--key-file", str(path)])
    os.chown(path, 65534, 65534)
    with pytest.raises(KeyProviderError, match=r"is owned by uid 65534, not by the user"):
        _use(settings, _file_config(path, var_dir))


def test_a_key_file_under_the_var_dir_is_refused(settings, var_dir):
    path = var_dir / "keys" / "keys.json"
    keygen.main(["--key-file", str(path)])
    with pytest.raises(KeyProviderError, match=r"is inside .* \(TEPAT_VAR_DIR\), beside the"):
        _use(settings, _file_config(path, var_dir))
    # Through a symbolic link from elsewhere too.
    link = var_dir.parent / "link.json"
    link.symlink_to(path)
    with pytest.raises(KeyProviderError, match=r"is inside"):
        _use(settings, _file_config(link, var_dir))


def test_a_missing_key_file_is_named(settings, tmp_path, var_dir):
    with pytest.raises(KeyProviderError, match=r"TEPAT_KEY_FILE .*nowhere\.json does not exist"):
        _use(settings, _file_config(tmp_path / "nowhere.json", var_dir))
    with pytest.raises(KeyProviderError, match=r"TEPAT_KEY_PROVIDER=file needs TEPAT_KEY_FILE"):
        _use(settings, KeyConfig(provider="file"))


_K = "Hb1Yb2i7uYvQkq0WwN7T3vG8lB0pX1sZr9cD4eF5gH0"  # 32 bytes, fixed (xdist collects twice)
_GOOD = {"format": "tepat-keys/1", "field_key": "k1", "field_keys": {"k1": _K}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"not JSON \(Expecting property name"),
        ("[1, 2]", r"not a JSON object"),
        (json.dumps({**_GOOD, "format": "v2"}), r"unknown format 'v2'"),
        (json.dumps({**_GOOD, "blind_index_key": _K, "field_key": "k3"}), r"'k3' is not one of"),
        (json.dumps({**_GOOD, "blind_index_key": _K, "field_keys": {}}), r"field_keys must be"),
        (json.dumps({**_GOOD, "blind_index_key": _K, "field_keys": {"k 1": _K}}), r"key id 'k 1'"),
        (json.dumps(_GOOD), r"blind_index_key is missing"),
        (json.dumps({**_GOOD, "blind_index_key": "changeme"}), r"blind_index_key is a placeholder"),
        (
            json.dumps({**_GOOD, "blind_index_key": _K, "field_keys": {"k1": "c2hvcnQ"}}),
            r"field key k1 is too short",
        ),
        (
            json.dumps({**_GOOD, "format": "tepat-keys-wrapped/1", "blind_index_key": _K}),
            r"holds wrapped keys: use TEPAT_KEY_PROVIDER=kms",
        ),
    ],
)
def test_a_malformed_key_file_is_refused_with_a_clear_message(
    settings, tmp_path, var_dir, content, message
):
    path = tmp_path / "keys.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyProviderError, match=message) as error:
        _use(settings, _file_config(path, var_dir))
    assert str(path) in str(error.value)
    assert _K not in str(error.value)


def test_an_unknown_provider_name_is_refused(settings):
    with pytest.raises(KeyProviderError, match=r"TEPAT_KEY_PROVIDER='files' is not a key provider"):
        _use(settings, KeyConfig(provider="files"))


# --- rotation (file and kms alike) ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "kms"])
def test_a_rotation_in_two_steps_keeps_every_token_readable_on_both_sides_of_a_restart(
    settings, tmp_path, var_dir, local_kms_key, kind
):
    path = tmp_path / "keys.json"
    keygen.main(["--key-file", str(path), *(["--wrapped"] if kind == "kms" else [])])
    config = _file_config(path, var_dir) if kind == "file" else _kms_config(path, local_kms_key)
    _use(settings, config)
    before = crypto.encrypt("lama", context="c")
    index = crypto.blind_index("3273011205800001", purpose="nik")
    derived = crypto.derived_key("subject-keys")

    # Step 1: k2 is staged for decryption; a restarted process still writes k1.
    keygen.main(["--key-file", str(path), "--add-field-key"])
    keys.reset()
    staged = _use(settings, config)
    assert crypto.encrypt("x", context="c").startswith("k1:")

    # Step 2: k2 is the write key; a process not yet restarted (still on step 1) reads its
    # writes, and it reads theirs.
    keygen.main(["--key-file", str(path), "--use-field-key", "k2"])
    keys.reset()
    _use(settings, config)
    after = crypto.encrypt("baru", context="c")
    assert after.startswith("k2:")
    assert crypto.decrypt(before, context="c") == "lama"
    assert crypto.blind_index("3273011205800001", purpose="nik") == index
    assert crypto.derived_key("subject-keys") == derived
    old_process = crypto._keys(staged.field_key(), staged.field_keys_old())[1]
    raw = base64.b64decode(after.partition(":")[2])
    assert old_process["k2"].decrypt(raw[:12], raw[12:], b"c") == b"baru"
    assert path.stat().st_mode & 0o777 == 0o600


def test_using_a_field_key_the_file_does_not_hold_is_refused(tmp_path, capsys):
    path = tmp_path / "keys.json"
    keygen.main(["--key-file", str(path)])
    with pytest.raises(SystemExit):
        keygen.main(["--key-file", str(path), "--use-field-key", "k7"])
    assert "has no field key 'k7' (it has k1)" in capsys.readouterr().err


# --- kms ---------------------------------------------------------------------------------------


def test_the_local_kms_wraps_and_unwraps_and_refuses_another_master_key(local_kms_key):
    kms = LocalKms.from_file(local_kms_key)
    wrapped = kms.wrap(b"data key")
    assert b"data key" not in wrapped
    assert kms.wrap(b"data key") != wrapped
    assert kms.unwrap(wrapped) == b"data key"
    with pytest.raises(KeyProviderError, match="another master key wrapped it"):
        LocalKms(os.urandom(32)).unwrap(wrapped)
    tampered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(KeyProviderError, match="or it was altered"):
        kms.unwrap(tampered)


def test_the_wrapped_key_file_holds_no_key_and_the_kms_provider_opens_it(
    settings, tmp_path, local_kms_key
):
    plain, wrapped = tmp_path / "plain.json", tmp_path / "wrapped.json"
    keygen.main(["--key-file", str(plain)])
    plain_doc = json.loads(plain.read_text())
    os.environ["TEPAT_FIELD_KEY"] = "k1:" + plain_doc["field_keys"]["k1"]
    os.environ["TEPAT_BLIND_INDEX_KEY"] = plain_doc["blind_index_key"]
    try:
        keygen.main(["--key-file", str(wrapped), "--from-env", "--wrapped"])
    finally:
        del os.environ["TEPAT_FIELD_KEY"], os.environ["TEPAT_BLIND_INDEX_KEY"]
    text = wrapped.read_text()
    assert json.loads(text)["format"] == "tepat-keys-wrapped/1"
    assert plain_doc["field_keys"]["k1"] not in text
    assert plain_doc["blind_index_key"] not in text

    provider = _use(settings, _kms_config(wrapped, local_kms_key))
    assert provider.name == "kms"
    assert provider.field_key() == "k1:" + plain_doc["field_keys"]["k1"]
    assert provider.blind_index_key() == plain_doc["blind_index_key"]
    # Stolen with the database but without the KMS, the wrapped file opens nothing.
    other = tmp_path / "other-master"
    keygen.main(["--kms-local-key", str(other)])
    keys.reset()
    with pytest.raises(KeyProviderError, match="another master key wrapped it"):
        _use(settings, _kms_config(wrapped, other))


def test_a_key_file_moves_to_the_kms_and_back_keeping_every_token(
    settings, tmp_path, var_dir, local_kms_key
):
    plain, wrapped, back = tmp_path / "plain.json", tmp_path / "wrapped.json", tmp_path / "b.json"
    keygen.main(["--key-file", str(plain)])
    _use(settings, _file_config(plain, var_dir))
    token = crypto.encrypt("rahasia", context="c")
    index = crypto.blind_index("3273011205800001", purpose="nik")

    keygen.main(["--key-file", str(wrapped), "--from-file", str(plain), "--wrapped"])
    assert json.loads(plain.read_text())["blind_index_key"] not in wrapped.read_text()
    _use(settings, _kms_config(wrapped, local_kms_key))
    assert crypto.decrypt(token, context="c") == "rahasia"
    assert crypto.blind_index("3273011205800001", purpose="nik") == index

    keygen.main(["--key-file", str(back), "--from-file", str(wrapped)])
    assert json.loads(back.read_text()) == json.loads(plain.read_text())


def test_the_kms_provider_refuses_plain_keys_and_needs_a_known_client(
    settings, tmp_path, local_kms_key
):
    path = tmp_path / "keys.json"
    keygen.main(["--key-file", str(path)])
    with pytest.raises(KeyProviderError, match="holds plain keys, not wrapped ones"):
        _use(settings, _kms_config(path, local_kms_key))
    wrapped = tmp_path / "wrapped.json"
    keygen.main(["--key-file", str(wrapped), "--wrapped"])
    for client, message in [
        ("", "TEPAT_KMS_CLIENT is not set"),
        ("aws", "'aws' is not a known KMS client"),
        ("tepat.nowhere:make", "cannot be loaded"),
        ("tepat.core.keys:KeyConfig", "gave no object with wrap and unwrap"),
        ("tepat.core.keys:reset", r"'tepat.core.keys:reset' failed: reset\(\) takes 0"),
    ]:
        keys.reset()
        with pytest.raises(KeyProviderError, match=message):
            _use(settings, _kms_config(wrapped, local_kms_key, kms_client=client))


def local_kms_factory(config: KeyConfig) -> LocalKms:
    """A `module:factory` KMS client (as an operator's own AWS or GCP adapter would be)."""
    return LocalKms.from_file(Path(config.kms_local_key_file))


def test_a_kms_client_can_be_plugged_in_as_module_and_factory(settings, tmp_path, local_kms_key):
    path = tmp_path / "wrapped.json"
    keygen.main(["--key-file", str(path), "--wrapped"])
    factory = f"{__name__}:local_kms_factory"
    provider = _use(settings, _kms_config(path, local_kms_key, kms_client=factory))
    assert provider.field_key().startswith("k1:")


def test_production_refuses_the_local_kms_and_plain_http_to_a_remote_kms(local_kms_key):
    with pytest.raises(KeyProviderError, match="TEPAT_KMS_CLIENT=local is for tests"):
        keys.kms_client(KeyConfig(kms_client="local", production=True))
    remote = KeyConfig(kms_client="vault", kms_url="http://kms.internal:8200", production=True)
    with pytest.raises(KeyProviderError, match="needs TEPAT_KMS_KEY_NAME"):
        keys.kms_client(remote)
    with pytest.raises(KeyProviderError, match="it must be https"):
        keys.kms_client(replace(remote, kms_key_name="tepat"))
    agent = KeyConfig(
        kms_client="vault", kms_url="http://127.0.0.1:8100", kms_key_name="t", production=True
    )
    assert isinstance(keys.kms_client(agent), VaultTransitKms)
    with pytest.raises(KeyProviderError, match="not an http"):
        keys.kms_client(KeyConfig(kms_client="vault", kms_url="file:///etc/x", kms_key_name="t"))


# --- a Vault-Transit-shaped KMS on the loopback address ----------------------------------------


class _Vault(ThreadingHTTPServer):
    """The two Transit calls Tepat makes, as Vault answers them, backed by a LocalKms."""

    token = "hvs.test-token"
    calls: list[str]

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _VaultHandler)
        self.kms = LocalKms(os.urandom(32))
        self.calls = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _VaultHandler(BaseHTTPRequestHandler):
    server: _Vault

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.calls.append(self.path)
        if self.headers.get("X-Vault-Token") != self.server.token:
            return self._answer(403, {"errors": ["permission denied"]})
        kms = self.server.kms
        if self.path == "/v1/transit/encrypt/tepat":
            wrapped = kms.wrap(base64.b64decode(body["plaintext"]))
            return self._answer(200, {"data": {"ciphertext": "vault:v1:" + wrapped.hex()}})
        if self.path == "/v1/transit/decrypt/tepat":
            raw = bytes.fromhex(body["ciphertext"].removeprefix("vault:v1:"))
            try:
                plain = kms.unwrap(raw)
            except KeyProviderError:
                return self._answer(400, {"errors": ["cipher: message authentication failed"]})
            return self._answer(200, {"data": {"plaintext": base64.b64encode(plain).decode()}})
        return self._answer(404, {"errors": []})


@pytest.fixture
def vault() -> Iterator[_Vault]:
    server = _Vault()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_vault_client_wraps_and_unwraps_through_the_transit_api(vault):
    client = VaultTransitKms(url=vault.url, key_name="tepat", token=vault.token)
    wrapped = client.wrap(b"data key")
    assert wrapped.startswith(b"vault:v1:")
    assert client.unwrap(wrapped) == b"data key"
    assert vault.calls == ["/v1/transit/encrypt/tepat", "/v1/transit/decrypt/tepat"]


def test_the_vault_client_reports_a_refusal_and_an_unreachable_kms_without_the_token(vault):
    refused = VaultTransitKms(url=vault.url, key_name="tepat", token="hvs.wrong-token")
    with pytest.raises(KeyProviderError, match=r"refused to decrypt: HTTP 403 permission denied"):
        refused.unwrap(b"vault:v1:00")
    down = VaultTransitKms(url="http://127.0.0.1:9", key_name="tepat", token=vault.token)
    with pytest.raises(
        KeyProviderError, match=r"cannot reach the KMS at http://127\.0\.0\.1:9/"
    ) as e:
        down.unwrap(b"vault:v1:00")
    assert vault.token not in str(e.value)


def test_the_kms_provider_unwraps_once_per_process_and_keeps_keys_in_memory(
    settings, tmp_path, vault, monkeypatch
):
    monkeypatch.setenv("TEPAT_KMS_CLIENT", "vault")
    monkeypatch.setenv("TEPAT_KMS_URL", vault.url)
    monkeypatch.setenv("TEPAT_KMS_KEY_NAME", "tepat")
    monkeypatch.setenv("TEPAT_KMS_TOKEN", vault.token)
    path = tmp_path / "wrapped.json"
    keygen.main(["--key-file", str(path), "--wrapped"])
    vault.calls.clear()
    config = KeyConfig.from_env(production=True)
    assert config.provider == "env"  # TEPAT_KEY_PROVIDER unset: the default
    _use(settings, replace(config, provider="kms", key_file=str(path)))
    assert vault.calls == ["/v1/transit/decrypt/tepat"] * 2  # k1 and the blind-index key
    for i in range(50):
        token = crypto.encrypt(f"32730112058000{i:02d}", context="person.nik")
        crypto.decrypt(token, context="person.nik")
        crypto.blind_index(f"{i}", purpose="nik")
        crypto.cache_digest(f"{i}", purpose="x")
    assert len(vault.calls) == 2


# --- production start-up (subprocesses, as tests/security/test_production_settings.py) --------


def _without_env_keys(env: dict[str, str]) -> dict[str, str]:
    for name in keys.ENV_KEY_NAMES:
        env.pop(f"{name}_FILE", None)
    return env


def test_production_starts_with_the_file_provider_and_encrypts(tmp_path):
    key_file = tmp_path / "etc" / "keys.json"
    keygen.main(["--key-file", str(key_file)])
    env = _without_env_keys(_production_env(tmp_path))
    env.update(TEPAT_KEY_PROVIDER="file", TEPAT_KEY_FILE=str(key_file))
    code = SETUP + (
        "t = crypto.encrypt('3273011205800001', context='person.nik')\n"
        "print(keys.provider().name, t[:3], crypto.decrypt(t, context='person.nik'))\n"
    )
    result = _run(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["file", "k1:", "3273011205800001"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("chmod", "has mode 0644: its group or other users can open it"),
        ("var", "(TEPAT_VAR_DIR), beside the database and its backups"),
        ("leftover", "TEPAT_BLIND_INDEX_KEY_FILE is set, but TEPAT_KEY_PROVIDER=file reads"),
        ("typo", "TEPAT_KEY_PROVIDER='fille' is not a key provider (one of: env, file, kms)"),
    ],
)
def test_production_refuses_to_start_on_a_key_file_mistake(tmp_path, change, message):
    env = _production_env(tmp_path)
    blind_file = env["TEPAT_BLIND_INDEX_KEY_FILE"]
    env = _without_env_keys(env)
    key_file = (tmp_path / "var" if change == "var" else tmp_path / "etc") / "keys.json"
    keygen.main(["--key-file", str(key_file)])
    env.update(TEPAT_KEY_PROVIDER="file", TEPAT_KEY_FILE=str(key_file))
    if change == "chmod":
        key_file.chmod(0o644)
    elif change == "leftover":
        env["TEPAT_BLIND_INDEX_KEY_FILE"] = blind_file
    elif change == "typo":
        env["TEPAT_KEY_PROVIDER"] = "fille"
    result = _run(env, "import tepat.config.settings")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("tepat.core.keys.KeyProviderError: "), last_line
    assert message in last_line


def test_production_refuses_a_key_given_inline_unless_allowed(tmp_path):
    env = _production_env(tmp_path)
    field_file = Path(env.pop("TEPAT_FIELD_KEY_FILE"))
    env["TEPAT_FIELD_KEY"] = field_file.read_text().strip()
    result = _run(env, "import tepat.config.settings")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "TEPAT_FIELD_KEY is set in the process environment" in last_line
    assert env["TEPAT_FIELD_KEY"] not in result.stderr
    allowed = _run({**env, "TEPAT_ALLOW_INLINE_KEYS": "true"}, "import tepat.config.settings")
    assert allowed.returncode == 0, allowed.stderr


def test_production_refuses_an_env_key_file_under_the_var_dir(tmp_path):
    env = _production_env(tmp_path)
    inside = tmp_path / "var" / "keys" / "field_key"
    inside.parent.mkdir(parents=True)
    inside.write_text(Path(env["TEPAT_FIELD_KEY_FILE"]).read_text())
    env["TEPAT_FIELD_KEY_FILE"] = str(inside)
    result = _run(env, "import tepat.config.settings")
    assert result.returncode != 0
    assert "TEPAT_FIELD_KEY_FILE" in result.stderr.strip().splitlines()[-1]
    assert "beside the database" in result.stderr


def test_production_starts_with_keys_wrapped_by_a_vault_and_refuses_when_it_is_down(
    tmp_path, vault, monkeypatch
):
    kms_env = {
        "TEPAT_KMS_CLIENT": "vault",
        "TEPAT_KMS_URL": vault.url,
        "TEPAT_KMS_KEY_NAME": "tepat",
        "TEPAT_KMS_TOKEN": vault.token,
    }
    for name, value in kms_env.items():
        monkeypatch.setenv(name, value)
    wrapped = tmp_path / "var" / "wrapped-keys.json"  # wrapped keys may live beside the data
    keygen.main(["--key-file", str(wrapped), "--wrapped"])
    env = _without_env_keys(_production_env(tmp_path))
    env.update(kms_env, TEPAT_KEY_PROVIDER="kms", TEPAT_KEY_FILE=str(wrapped))
    code = SETUP + "print(keys.provider().name, crypto.encrypt('x')[:3])\n"
    result = _run(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["kms", "k1:"]

    down = _run({**env, "TEPAT_KMS_URL": "http://127.0.0.1:9"}, code)
    assert down.returncode != 0
    last_line = down.stderr.strip().splitlines()[-1]
    assert "cannot reach the KMS at http://127.0.0.1:9/v1/transit/decrypt/tepat" in last_line
    assert vault.token not in down.stderr
