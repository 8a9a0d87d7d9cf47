"""`tepat keygen --dir DIR`: the keys a deployment needs, one file each (0600, in a 0700 folder).

Runs before Django's settings load (a production installation refuses to start without its
keys, so the tool that makes them cannot need them). Prints the `NAME_FILE=` lines to put in the
service's environment (docs/operations.md, "Production settings").
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

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


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tepat keygen", description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="folder for the key files")
    parser.add_argument(
        "--origin", default="tepat.go.id/ledger", help="the transparency log's name"
    )
    args = parser.parse_args(argv)
    try:
        written = generate(args.dir, origin=args.origin)
    except OSError as exc:
        parser.error(f"cannot write the key files under {args.dir}: {exc.strerror or exc}")
    for variable, path in written.items():
        sys.stdout.write(f"{variable}_FILE={path.resolve()}\n")
