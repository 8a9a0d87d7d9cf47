"""Providers behind one adapter interface: submit, status, callbacks, statements.

`G2PConnectAdapter` speaks the G2P Connect disburse API (../shared/specs/g2p-connect/) over HTTP
with the standard library. Banks, e-wallets, PT Pos and e-Warung aggregators each get an adapter
of this shape; today one G2P Connect endpoint (the simulator, or a real switch) serves them all.

Each provider (`Payment.provider`: BRI, OVO, POS...) has its own credentials: an Ed25519 key pair
whose public half Tepat holds (`TEPAT_PROVIDER_KEYS`, see `signatures`). Everything a provider
tells us that can move money is signed with its key and verified before use: callbacks, the
answers to our requests, status polls and statements. Requests go out per provider, so an answer
signed by one provider can only settle that provider's payments; a provider without a key
configured is not heard at all.
"""

from __future__ import annotations

import csv
import io
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.cache import cache

from tepat.core.errors import FieldProblem, TepatError
from tepat.core.ids import new_public_id
from tepat.payments import signatures
from tepat.payments.signatures import BadSignature

CURRENCY = "IDR"


@dataclass(frozen=True)
class Instruction:
    reference_id: str  # the deterministic payment key: the idempotency key
    payee_fa: str
    payee_name: str
    amount: int
    note: str = ""
    provider: str = ""  # Payment.provider; looked up by reference when empty


@dataclass(frozen=True)
class Outcome:
    reference_id: str
    status: str  # succ | rjct | pdng | rcvd
    reason: str = ""
    amount: int | None = None
    provider: str = ""  # whose verified signature this outcome came under ("": unverified)
    currency: str = ""


@dataclass(frozen=True)
class StatementRow:
    reference_id: str
    amount: int
    status: str
    executed_at: str


class TransientProviderError(Exception):
    """Worth retrying later: 5xx, time-out, refused connection, 409 (still in flight), and an
    answer whose signature does not verify (never acted upon)."""


class IdempotencyConflict(Exception):
    """The provider saw one of our keys with a different payload (422): never retried."""

    def __init__(self, reference_ids: list[str]) -> None:
        super().__init__(f"idempotency conflict on {len(reference_ids)} reference(s)")
        self.reference_ids = reference_ids


class MalformedMessage(TepatError):
    """A provider's message lacks a field or has a bad value: refused whole, naming the field."""

    http_status = 400

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(
            f"{field}: {message}",
            code=code,
            field=field,
            problems=[FieldProblem(field, code, message)],
        )


class ProviderAdapter(Protocol):
    name: str

    def submit(self, items: Sequence[Instruction]) -> list[Outcome]: ...

    def status(self, reference_ids: Sequence[str]) -> list[Outcome]: ...

    def parse_callback(self, body: dict[str, Any], *, provider: str) -> list[Outcome]: ...

    def parse_statement(self, data: bytes) -> list[StatementRow]: ...


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, os.environ.get(name, default))


# --- provider keys and verification --------------------------------------------------------


def _key_texts() -> dict[str, str]:
    """name -> public key text, from TEPAT_PROVIDER_KEYS (JSON object, a dict setting, or a file
    through TEPAT_PROVIDER_KEYS_FILE) and TEPAT_PROVIDER_KEY_<NAME> (or _FILE); the per-provider
    settings win."""
    out: dict[str, str] = {}
    raw: Any = _setting("TEPAT_PROVIDER_KEYS", "")
    path = str(_setting("TEPAT_PROVIDER_KEYS_FILE", "") or "")
    if not raw and path:
        raw = Path(path).read_text(encoding="utf-8")
    if isinstance(raw, str) and raw.strip():
        raw = json.loads(raw)
    if isinstance(raw, Mapping):
        out.update({signatures.provider_name(str(k)): str(v) for k, v in raw.items() if v})
    prefix = "TEPAT_PROVIDER_KEY_"
    names = {n for n in os.environ if n.startswith(prefix)}
    names |= {n for n in dir(settings) if n.startswith(prefix)}
    for name in names:
        provider = name[len(prefix) :]
        if provider.endswith("_FILE"):
            file_name = str(_setting(name, "") or "")
            if file_name:
                out[signatures.provider_name(provider[:-5])] = Path(file_name).read_text("utf-8")
        elif value := str(_setting(name, "") or ""):
            out[signatures.provider_name(provider)] = value
    return out


@lru_cache(maxsize=64)
def _load(text: str) -> Ed25519PublicKey:
    return signatures.load_public_key(text)


def provider_key(provider: str) -> Ed25519PublicKey | None:
    """The provider's public key, or None when none (or an unreadable one) is configured: then
    nothing from that provider is believed."""
    text = _key_texts().get(signatures.provider_name(provider))
    if not text:
        return None
    try:
        return _load(text.strip())
    except ValueError:
        return None


def signature_window_s() -> float:
    return float(_setting("TEPAT_PROVIDER_SIGNATURE_WINDOW_S", 300))


def verify_signed(
    *, headers: Mapping[str, str], body: bytes, expected_provider: str | None = None
) -> str:
    """Verify a signed message from a provider and remember its nonce for the window, so that a
    captured message cannot be played again; returns the provider's name."""
    signed = signatures.from_headers(headers)
    provider = signatures.provider_name(signed.provider)
    if expected_provider is not None and provider != signatures.provider_name(expected_provider):
        raise BadSignature("wrong_provider", f"signed by {provider}, not {expected_provider}")
    key = provider_key(provider)
    if key is None:
        raise BadSignature("unknown_provider", f"no key is configured for provider {provider}")
    window = signature_window_s()
    signatures.check(key, signed, body=body, window_s=window)
    if not cache.add(
        f"tepat:provider-nonce:{provider}:{signed.nonce}", 1, timeout=int(2 * window) + 5
    ):
        raise BadSignature("replayed", "this message was already received")
    return provider


def statement_open(data: bytes) -> tuple[str, bytes]:
    """Verify a signed statement envelope with its provider's key: (provider, content). No
    replay window (a statement may be carried by hand days later); importing the same file twice
    is a no-op by its hash."""
    signed, content = signatures.envelope_open(data)
    provider = signatures.provider_name(signed.provider)
    key = provider_key(provider)
    if key is None:
        raise BadSignature("unknown_provider", f"no key is configured for provider {provider}")
    signatures.check(key, signed, body=content, window_s=None)
    return provider, content


def providers_of(reference_ids: Sequence[str]) -> dict[str, str]:
    """payment key -> provider, for the references given."""
    from tepat.payments.models import Payment

    out: dict[str, str] = {}
    refs = list(reference_ids)
    for i in range(0, len(refs), 5000):
        out.update(
            Payment.objects.filter(payment_key__in=refs[i : i + 5000]).values_list(
                "payment_key", "provider"
            )
        )
    return out


# --- parsing -------------------------------------------------------------------------------


def _outcomes(statuses: Any, *, provider: str, where: str) -> list[Outcome]:
    """Outcomes of a `disbursements_status` list, strictly: a final success must state the
    amount and currency it moved."""
    if not isinstance(statuses, list):
        raise MalformedMessage(where, "required", "a list of statuses is required")
    out = []
    for n, s in enumerate(statuses):
        at = f"{where}[{n}]"
        if not isinstance(s, dict):
            raise MalformedMessage(at, "invalid", "each status must be an object")
        ref = s.get("reference_id")
        if not isinstance(ref, str) or not ref.strip():
            raise MalformedMessage(f"{at}.reference_id", "required", "reference_id is required")
        status = s.get("status")
        if status not in ("succ", "rjct", "pdng", "rcvd"):
            raise MalformedMessage(f"{at}.status", "invalid", "status must be succ|rjct|pdng|rcvd")
        raw_amount = s.get("amount")
        amount: int | None = None
        if raw_amount not in (None, ""):
            try:
                amount = int(str(raw_amount))
            except ValueError:
                raise MalformedMessage(
                    f"{at}.amount", "invalid", "amount must be whole rupiah"
                ) from None
        currency = str(s.get("currency_code") or "")
        if status == "succ" and amount is None:
            raise MalformedMessage(f"{at}.amount", "required", "a success must state its amount")
        if status == "succ" and not currency:
            raise MalformedMessage(
                f"{at}.currency_code", "required", "a success must state its currency"
            )
        out.append(Outcome(reference_id=ref.strip(), status=status,
                           reason=str(s.get("status_reason_code") or ""), amount=amount,
                           provider=provider, currency=currency))  # fmt: skip
    return out


def _statuses(body: Any, where: str = "message.disbursements_status") -> Any:
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        raise MalformedMessage("message", "required", "the message object is required")
    return message.get("disbursements_status")


class G2PConnectAdapter:
    name = "g2p-connect"

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout_s: float | None = None,
        callback_url: str | None = None,
    ) -> None:
        self.base_url = str(
            base_url or _setting("TEPAT_PROVIDER_URL", "http://127.0.0.1:8765")
        ).rstrip("/")
        self.timeout_s = float(timeout_s or _setting("TEPAT_PROVIDER_TIMEOUT_S", 10.0))
        self.callback_url = str(
            callback_url
            if callback_url is not None
            else _setting("TEPAT_PROVIDER_CALLBACK_URL", "")
        )

    def _post(
        self, path: str, action: str, message: dict[str, Any], provider: str
    ) -> dict[str, Any]:
        """One request addressed to one provider; its answer is believed only when signed by
        that provider. No credential is sent: the provider knows Tepat by its own channel."""
        header = {
            "version": "1.0.0",
            "message_id": new_public_id(24),
            "message_ts": datetime.now(UTC).isoformat(),
            "action": action,
            "sender_id": "tepat",
            "receiver_id": provider,
            "total_count": len(message.get("disbursements", message.get("reference_ids", []))),
            "is_msg_encrypted": False,
        }
        if self.callback_url:
            header["sender_uri"] = self.callback_url
        data = json.dumps({"header": header, "message": message}).encode()
        req = urllib.request.Request(  # noqa: S310 - the provider URL is configuration
            self.base_url + path,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", signatures.HEADER_PROVIDER: provider},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310
                raw = resp.read()
                answer_headers = {k: v for k, v in resp.headers.items()}
        except urllib.error.HTTPError as exc:
            text = exc.read()
            if exc.code == 422:
                refs = json.loads(text or b"{}").get("message", {}).get("reference_ids", [])
                raise IdempotencyConflict([str(r) for r in refs]) from None
            if exc.code == 409 or exc.code >= 500:
                raise TransientProviderError(f"HTTP {exc.code}") from None
            raise
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
            raise TransientProviderError(f"{type(exc).__name__}: {exc}") from None
        try:
            verify_signed(headers=answer_headers, body=raw, expected_provider=provider)
        except BadSignature as exc:
            raise TransientProviderError(f"unverified answer from {provider}: {exc.code}") from None
        body: dict[str, Any] = json.loads(raw)
        return body

    def _answer(self, body: dict[str, Any], provider: str, asked: set[str]) -> list[Outcome]:
        try:
            outcomes = _outcomes(_statuses(body), provider=provider,
                                 where="message.disbursements_status")  # fmt: skip
        except MalformedMessage as exc:
            raise TransientProviderError(f"malformed answer from {provider}: {exc}") from None
        # Only what we asked this provider about: an answer cannot settle anything else.
        return [o for o in outcomes if o.reference_id in asked]

    def _by_provider(self, refs: Sequence[str], given: Mapping[str, str]) -> dict[str, list[str]]:
        missing = [r for r in refs if not given.get(r)]
        known = {**given, **(providers_of(missing) if missing else {})}
        groups: dict[str, list[str]] = {}
        for r in refs:
            groups.setdefault(signatures.provider_name(known.get(r, "")), []).append(r)
        return groups

    def submit(self, items: Sequence[Instruction]) -> list[Outcome]:
        """Send each provider its own instructions. An amount or currency other than ours in a
        final answer is not believed: it comes back as pending, and the callback or status poll
        that repeats it is refused and recorded as a difference."""
        by_ref = {i.reference_id: i for i in items}
        path = "/disburse" if self.callback_url else "/disburse/sync/disburse"
        out: list[Outcome] = []
        conflicts: list[str] = []
        groups = self._by_provider(list(by_ref), {i.reference_id: i.provider for i in items})
        for provider, refs in groups.items():
            message = {
                "transaction_id": new_public_id(24),
                "disbursements": [
                    {
                        "reference_id": i.reference_id,
                        "payer_fa": "tepat:kemensos@treasury",
                        "payee_fa": i.payee_fa,
                        "amount": str(i.amount),
                        "payee_name": i.payee_name,
                        "note": i.note[:99],
                        "currency_code": CURRENCY,
                    }
                    for i in (by_ref[r] for r in refs)
                ],
            }
            if not provider:
                continue  # no provider: nobody could vouch for an answer; retried later
            try:
                body = self._post(path, "disburse", message, provider)
            except IdempotencyConflict as exc:
                conflicts.extend(exc.reference_ids or refs)
                continue
            for o in self._answer(body, provider, set(refs)):
                mine = by_ref[o.reference_id]
                if o.status == "succ" and (o.amount != mine.amount or o.currency != CURRENCY):
                    o = replace(o, status="pdng", reason="amount_or_currency_differs")
                out.append(o)
        if conflicts:
            raise IdempotencyConflict(conflicts)
        return out

    def status(self, reference_ids: Sequence[str]) -> list[Outcome]:
        out: list[Outcome] = []
        for provider, refs in self._by_provider(list(reference_ids), {}).items():
            if not provider:
                continue
            body = self._post("/disburse/sync/txn/status", "txn-status",
                              {"transaction_id": new_public_id(24), "reference_ids": refs}, provider)  # fmt: skip
            out.extend(self._answer(body, provider, set(refs)))
        return out

    def parse_callback(self, body: dict[str, Any], *, provider: str) -> list[Outcome]:
        """The outcomes of a callback whose signature by `provider` was verified."""
        return _outcomes(_statuses(body), provider=provider,
                         where="message.disbursements_status")  # fmt: skip

    def parse_statement(self, data: bytes) -> list[StatementRow]:
        """The rows of a statement's content (the CSV inside a verified envelope)."""
        rows = []
        for r in csv.DictReader(io.StringIO(data.decode("utf-8"))):
            rows.append(
                StatementRow(r["reference_id"], int(r["amount"]), r["status"], r["executed_at"])
            )
        return rows

    def fetch_statement(self, provider: str, day: str) -> bytes:
        """A provider's signed statement envelope for a day, as it sent it (verified at import)."""
        url = f"{self.base_url}/statements/{provider}/{day}"
        with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:  # noqa: S310
            data: bytes = resp.read()
        return data


def default_adapter() -> ProviderAdapter:
    return G2PConnectAdapter()
