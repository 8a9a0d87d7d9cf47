"""`tepat keygen --dir DIR`: the keys a deployment needs, one file each (0600, in a 0700 folder).

Runs before Django's settings load (a production installation refuses to start without its
keys, so the tool that makes them cannot need them). Prints the `NAME_FILE=` lines to put in the
service's environment (docs/operations.md, "Production settings").

`tepat keygen --key-file PATH` writes instead the key file of the file and kms key providers
(tepat.core.keys): new keys, or with --from-env the environment's keys (a move from the env
provider keeps every ciphertext and index readable), or with --from-file OLD another key file's
keys (plain, or unwrapped by the KMS: a move between file and kms, or a re-wrap after the KMS
rotated its own key); --wrapped wraps them with the KMS the
environment names (TEPAT_KMS_*). On an existing key file, --add-field-key stages a new field key
for decryption only and --use-field-key KID makes it the one new writes use: a rotation without
downtime, one rolling restart after each step. --kms-local-key PATH makes the local KMS's master
key (tests and development).
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tepat.core import keys
from tepat.core.env import SettingError, development_mode, env_str
from tepat.ledger.note import Signer


def _b64(nbytes: int) -> str:
    return base64.urlsafe_b64encode(os.urandom(nbytes)).decode("ascii").rstrip("=")


# File name -> (environment variable, generator). 32 random bytes each, or more.
KEYS: dict[str, tuple[str, Callable[[str], str]]] = {
    "tepat_secret_key": ("TEPAT_SECRET_KEY", lambda _origin: secrets.token_urlsafe(48)),
    "tepat_field_key": ("TEPAT_FIELD_KEY", lambda _origin: "k1:" + _b64(32)),
    "tepat_blind_index_key": ("TEPAT_BLIND_INDEX_KEY", lambda _origin: _b64(32)),
    "tepat_voucher_signing_key": ("TEPAT_VOUCHER_SIGNING_KEY", lambda _origin: _b64(32)),
    "tepat_ledger_signing_key": (
        "TEPAT_LEDGER_SIGNING_KEY",
        lambda origin: Signer.generate(origin).skey(),
    ),
}


def generate(directory: Path, *, origin: str) -> dict[str, Path]:
    """Write every missing key file under `directory`; existing files are kept as they are."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for filename, (variable, make) in KEYS.items():
        path = directory / filename
        written[variable] = path
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(make(origin) + "\n")
    return written


def _write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write `text` to `path` with mode 0600: a new file only (O_EXCL), or atomically over the
    old one (a temporary file in the same folder, then rename), keeping its owner."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not replace:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    old = path.stat()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        if old.st_uid != os.geteuid():  # root rotating the service user's file
            os.chown(tmp, old.st_uid, old.st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _env_key_file() -> keys.KeyFile:
    """The env provider's keys (TEPAT_FIELD_KEY, TEPAT_FIELD_KEYS_OLD, TEPAT_BLIND_INDEX_KEY or
    their _FILE forms) as a key file, unchanged: every ciphertext and index stays readable."""
    primary = env_str("TEPAT_FIELD_KEY").strip()
    blind = env_str("TEPAT_BLIND_INDEX_KEY").strip()
    if not primary or not blind:
        raise SettingError(
            "--from-env needs TEPAT_FIELD_KEY and TEPAT_BLIND_INDEX_KEY (or their _FILE forms)"
        )
    field_keys: dict[str, str] = {}
    old = env_str("TEPAT_FIELD_KEYS_OLD").replace(",", " ").split()
    for raw in (primary, *old):
        kid, _, material = raw.rpartition(":")
        field_keys.setdefault(kid or "k1", material)
    first = primary.rpartition(":")[0] or "k1"
    return keys.KeyFile(field_key=first, field_keys=field_keys, blind_index_key=blind)


def _new_key_file() -> keys.KeyFile:
    return keys.KeyFile(field_key="k1", field_keys={"k1": _b64(32)}, blind_index_key=_b64(32))


def _kms() -> keys.KmsClient:
    config = keys.KeyConfig.from_env(production=not development_mode())
    return keys.kms_client(config)


def key_file_create(
    path: Path, *, from_env: bool, wrapped: bool, from_file: Path | None = None
) -> keys.KeyFile:
    """A new key file at `path` (refused when one is there: it may hold the only copy)."""
    if path.exists():
        raise SettingError(
            f"{path} already exists; rotate with --add-field-key then --use-field-key KID"
        )
    if from_file is not None:
        plain = _existing(from_file)
        if plain.wrapped:
            plain = keys.unwrap_file(plain, _kms(), where=str(from_file))
    else:
        plain = _env_key_file() if from_env else _new_key_file()
    keys.check_keys(keys.keyset_of(plain), where=str(path))
    content = keys.wrap_file(plain, _kms()) if wrapped else plain
    _write_private(path, content.dumps(), replace=False)
    return content


def _existing(path: Path) -> keys.KeyFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingError(f"{path} cannot be read: {exc.strerror or exc}") from None
    return keys.parse_key_file(text, where=str(path))


def key_file_add_field_key(path: Path) -> str:
    """Stage a new field key in `path`, for decryption only; its id."""
    content = _existing(path)
    kid = content.next_key_id()
    material = _b64(32)
    if content.wrapped:
        material = base64.b64encode(_kms().wrap(material.encode("utf-8"))).decode("ascii")
    content.field_keys[kid] = material
    _write_private(path, content.dumps(), replace=True)
    return kid


def key_file_use_field_key(path: Path, kid: str) -> None:
    """Make `kid` (already in `path`) the key new encryptions use; the others stay for reads."""
    content = _existing(path)
    if kid not in content.field_keys:
        raise SettingError(
            f"{path} has no field key {kid!r} (it has {', '.join(sorted(content.field_keys))})"
        )
    content.field_key = kid
    _write_private(path, content.dumps(), replace=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tepat keygen", description=__doc__)
    parser.add_argument("--dir", type=Path, help="folder for the key files")
    parser.add_argument(
        "--origin", default="tepat.go.id/ledger", help="the transparency log's name"
    )
    parser.add_argument(
        "--key-file", type=Path, help="the key file of TEPAT_KEY_PROVIDER=file or kms"
    )
    parser.add_argument(
        "--from-env",
        action="store_true",
        help="with --key-file: copy the environment's TEPAT_FIELD_KEY(S_OLD) and "
        "TEPAT_BLIND_INDEX_KEY instead of making new keys",
    )
    parser.add_argument(
        "--from-file",
        type=Path,
        metavar="OLD",
        help="with --key-file: copy the keys of another key file (a wrapped one is unwrapped)",
    )
    parser.add_argument(
        "--wrapped",
        action="store_true",
        help="with --key-file: wrap the keys with the KMS named by TEPAT_KMS_CLIENT",
    )
    parser.add_argument(
        "--add-field-key",
        action="store_true",
        help="add a new field key to an existing --key-file, for decryption only (step 1)",
    )
    parser.add_argument(
        "--use-field-key",
        metavar="KID",
        help="make KID the field key new writes use in --key-file (step 2)",
    )
    parser.add_argument(
        "--kms-local-key", type=Path, help="write a local KMS master key (tests, development)"
    )
    args = parser.parse_args(argv)
    if not (args.dir or args.key_file or args.kms_local_key):
        parser.error("give --dir, --key-file or --kms-local-key")
    changes = (args.add_field_key, args.use_field_key, args.from_env, args.from_file, args.wrapped)
    if any(changes) and not args.key_file:
        parser.error(
            "--from-env, --from-file, --wrapped, --add-field-key and --use-field-key need "
            "--key-file"
        )
    if args.from_env and args.from_file:
        parser.error("give --from-env or --from-file, not both")
    if args.dir:
        try:
            written = generate(args.dir, origin=args.origin)
        except OSError as exc:
            parser.error(f"cannot write the key files under {args.dir}: {exc.strerror or exc}")
        for variable, path in written.items():
            sys.stdout.write(f"{variable}_FILE={path.resolve()}\n")
    if args.kms_local_key:
        try:
            _write_private(args.kms_local_key, _b64(32) + "\n", replace=False)
        except OSError as exc:
            parser.error(f"cannot write {args.kms_local_key}: {exc.strerror or exc}")
        sys.stdout.write(f"TEPAT_KMS_LOCAL_KEY_FILE={args.kms_local_key.resolve()}\n")
    if args.key_file:
        try:
            _key_file_command(args)
        except (SettingError, OSError) as exc:
            parser.error(str(getattr(exc, "strerror", None) or exc))


def _key_file_command(args: argparse.Namespace) -> None:
    path: Path = args.key_file
    if args.add_field_key or args.use_field_key:
        if args.add_field_key:
            kid = key_file_add_field_key(path)
            sys.stdout.write(
                f"added field key {kid} to {path} for decryption only; restart every Tepat "
                f"process, then run: tepat keygen --key-file {path} --use-field-key {kid}\n"
            )
        if args.use_field_key:
            key_file_use_field_key(path, args.use_field_key)
            sys.stdout.write(
                f"new writes use field key {args.use_field_key} once every Tepat process has "
                "restarted; keep the older keys in the file: their ciphertexts still need them\n"
            )
        return
    content = key_file_create(
        path, from_env=args.from_env, wrapped=args.wrapped, from_file=args.from_file
    )
    provider = "kms" if content.wrapped else "file"
    sys.stdout.write(f"TEPAT_KEY_PROVIDER={provider}\nTEPAT_KEY_FILE={path.resolve()}\n")
