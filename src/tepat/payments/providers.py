"""Providers behind one adapter interface: submit, status, callbacks, statements.

`G2PConnectAdapter` speaks the G2P Connect disburse API (../shared/specs/g2p-connect/) over HTTP
with the standard library. Banks, e-wallets, PT Pos and e-Warung aggregators each get an adapter
of this shape; today one G2P Connect endpoint (the simulator, or a real switch) serves them all.
"""

from __future__ import annotations

import csv
import io
import json
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings

from tepat.core.ids import new_public_id


@dataclass(frozen=True)
class Instruction:
    reference_id: str  # the deterministic payment key: the idempotency key
    payee_fa: str
    payee_name: str
    amount: int
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    reference_id: str
    status: str  # succ | rjct | pdng | rcvd
    reason: str = ""
    amount: int | None = None


@dataclass(frozen=True)
class StatementRow:
    reference_id: str
    amount: int
    status: str
    executed_at: str


class TransientProviderError(Exception):
    """Worth retrying later: 5xx, time-out, refused connection, 409 (still in flight)."""


class IdempotencyConflict(Exception):
    """The provider saw one of our keys with a different payload (422): never retried."""

    def __init__(self, reference_ids: list[str]) -> None:
        super().__init__(f"idempotency conflict on {len(reference_ids)} reference(s)")
        self.reference_ids = reference_ids


class ProviderAdapter(Protocol):
    name: str

    def submit(self, items: Sequence[Instruction]) -> list[Outcome]: ...

    def status(self, reference_ids: Sequence[str]) -> list[Outcome]: ...

    def parse_callback(self, body: dict[str, Any]) -> list[Outcome]: ...

    def parse_statement(self, data: bytes) -> list[StatementRow]: ...


def _outcomes(statuses: Sequence[dict[str, Any]]) -> list[Outcome]:
    out = []
    for s in statuses:
        amount = s.get("amount")
        out.append(
            Outcome(
                reference_id=str(s["reference_id"]),
                status=str(s.get("status", "")),
                reason=str(s.get("status_reason_code") or ""),
                amount=int(amount) if amount not in (None, "") else None,
            )
        )
    return out


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, os.environ.get(name, default))


class G2PConnectAdapter:
    name = "g2p-connect"

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout_s: float | None = None,
        callback_url: str | None = None,
        callback_token: str | None = None,
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
        self.callback_token = str(callback_token or _setting("TEPAT_PROVIDER_CALLBACK_TOKEN", ""))

    def _post(self, path: str, action: str, message: dict[str, Any]) -> dict[str, Any]:
        header = {
            "version": "1.0.0",
            "message_id": new_public_id(24),
            "message_ts": datetime.now(UTC).isoformat(),
            "action": action,
            "sender_id": "tepat",
            "receiver_id": "provider",
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
            headers={"Content-Type": "application/json", "X-Callback-Token": self.callback_token},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310
                body: dict[str, Any] = json.loads(resp.read())
                return body
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

    def submit(self, items: Sequence[Instruction]) -> list[Outcome]:
        path = "/disburse" if self.callback_url else "/disburse/sync/disburse"
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
                    "currency_code": "IDR",
                }
                for i in items
            ],
        }
        body = self._post(path, "disburse", message)
        return _outcomes(body.get("message", {}).get("disbursements_status", []))

    def status(self, reference_ids: Sequence[str]) -> list[Outcome]:
        body = self._post("/disburse/sync/txn/status", "txn-status",
                          {"transaction_id": new_public_id(24), "reference_ids": list(reference_ids)})  # fmt: skip
        return _outcomes(body.get("message", {}).get("disbursements_status", []))

    def parse_callback(self, body: dict[str, Any]) -> list[Outcome]:
        return _outcomes((body.get("message") or {}).get("disbursements_status", []))

    def parse_statement(self, data: bytes) -> list[StatementRow]:
        rows = []
        for r in csv.DictReader(io.StringIO(data.decode("utf-8"))):
            rows.append(
                StatementRow(r["reference_id"], int(r["amount"]), r["status"], r["executed_at"])
            )
        return rows


def default_adapter() -> ProviderAdapter:
    return G2PConnectAdapter()
