"""The log's name (origin), its signing key, and the keys it trusts.

Signing key: TEPAT_LEDGER_SIGNING_KEY or TEPAT_LEDGER_SIGNING_KEY_FILE holds a note signer key
(``PRIVATE+KEY+<origin>+<id>+<base64>``, made by ``tepat ledger keygen``). Without one, a dev key
is generated under VAR_DIR/keys/ like the other local secrets.

Rotation: generate a new key, publish its verifier key, set the new key as
TEPAT_LEDGER_SIGNING_KEY and the old *signer* as TEPAT_LEDGER_SIGNING_KEYS_EXTRA for a transition
period (checkpoints then carry both signatures, so verifiers holding either key follow along),
then drop the old one and keep its verifier in TEPAT_LEDGER_VERIFIER_KEYS_OLD so old receipts
still verify. Witness verifier keys (auditors, NGOs) are listed in TEPAT_LEDGER_WITNESS_KEYS.
Each value may also be a Django setting of the same name without the TEPAT_ prefix.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from tepat.core.env import SettingError, env_list, env_str, generated_keys_allowed
from tepat.ledger.note import Signer, Verifier, parse_signer, parse_verifier

DEFAULT_ORIGIN = "tepat.go.id/ledger"


def _setting(name: str, default: str = "") -> str:
    value = getattr(settings, name, None)
    return str(value) if value else env_str(f"TEPAT_{name}", default)


def _setting_list(name: str) -> list[str]:
    value = getattr(settings, name, None)
    return list(value) if value else env_list(f"TEPAT_{name}", [])


def origin() -> str:
    return _setting("LEDGER_ORIGIN", DEFAULT_ORIGIN)


def _dev_key_path() -> Path:
    return Path(settings.VAR_DIR) / "keys" / "ledger_signing_key"


def log_signers() -> list[Signer]:
    """The current signer first, then any transition signers."""
    raw = _setting("LEDGER_SIGNING_KEY")
    if not raw:
        path = _dev_key_path()
        if not generated_keys_allowed():
            raise SettingError(
                "TEPAT_LEDGER_SIGNING_KEY is not set; a dev key is generated only in development "
                "(TEPAT_DEV=true or TEPAT_DEBUG=true). See docs/operations.md."
            )
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            text = Signer.generate(origin()).skey()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # a parallel worker won the race
                pass
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
        raw = path.read_text(encoding="utf-8").strip()
    signers = [parse_signer(raw)] + [
        parse_signer(s) for s in _setting_list("LEDGER_SIGNING_KEYS_EXTRA")
    ]
    return signers


def log_verifiers() -> list[Verifier]:
    current = [s.verifier for s in log_signers()]
    return current + [parse_verifier(v) for v in _setting_list("LEDGER_VERIFIER_KEYS_OLD")]


def witness_verifiers() -> list[Verifier]:
    return [parse_verifier(v) for v in _setting_list("LEDGER_WITNESS_KEYS")]
