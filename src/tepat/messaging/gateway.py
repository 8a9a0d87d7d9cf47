"""SMS gateways: which one sends (a setting), a generic HTTP adapter for a real operator or
aggregator, and the check on messages the gateway posts back to us.

TEPAT_SMS_GATEWAY picks the adapter: "simulator" (default; appends to a JSON-lines file, see
tepat.messaging.simulator) or "http". The HTTP adapter posts one JSON message per request,

    POST TEPAT_SMS_HTTP_URL
    Authorization: Bearer TEPAT_SMS_HTTP_TOKEN
    Idempotency-Key: <event key>
    {"id": "<event key>", "to": "+62812...", "text": "..."}

and counts any 2xx as accepted. Timeouts, connection errors, 408, 429 and 5xx are retried with
exponential back-off; other answers are final. Failures are reported with the event key, the
gateway's status and reason, never the phone number or the text.

Inbound messages (the gateway calling /sms/masuk/) are signed with a shared secret:
X-Tepat-Timestamp (Unix seconds) and X-Tepat-Signature: sha256=HEX, where HEX is
HMAC-SHA256(TEPAT_SMS_WEBHOOK_SECRET, "<timestamp>." + raw body). Old timestamps and replayed
signatures are refused. Without a secret every inbound message is refused, except on a
developer's machine: DEBUG on, the simulator gateway and TEPAT_SMS_SIMULATOR on, all three.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from tepat.messaging.simulator import SimulatedSmsGateway

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class SmsGateway(Protocol):
    """What every gateway offers; apps send through `sms_gateway()` and know nothing else."""

    def send(self, messages: Sequence[tuple[str, str, str]]) -> list[str]:
        """(event key, recipient phone number, body) -> event keys accepted."""
        ...


class SmsGatewayError(RuntimeError):
    """A message the gateway did not accept; the text says which, why, and whether retried."""


def msisdn_e164(phone: str) -> str:
    """Indonesian mobile numbers as gateways want them: 0812... / 62812... -> +62812..."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return "+" + digits


@dataclass
class HttpSmsGateway:
    url: str
    token: str = ""
    timeout_s: float = 5.0
    retries: int = 2
    backoff_s: float = 0.5
    errors: list[str] = field(default_factory=list)  # of the last send(), for the caller's log

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ImproperlyConfigured(
                f"TEPAT_SMS_HTTP_URL must be an http(s) URL, not {self.url!r}"
            )
        # Named in error messages: scheme, host and path, never a query string.
        self._where = f"{parts.scheme}://{parts.netloc}{parts.path}"

    def send(self, messages: Sequence[tuple[str, str, str]]) -> list[str]:
        """(event key, phone, body) -> the event keys the gateway accepted. A message that
        fails is logged and left out, so the caller's outbox keeps it for a later run."""
        self.errors = []
        accepted = []
        for key, phone, body in messages:
            try:
                self.send_one(key=key, phone=phone, body=body)
            except SmsGatewayError as exc:
                self.errors.append(str(exc))
                log.warning("%s", exc)
            else:
                accepted.append(key)
        return accepted

    def send_one(self, *, key: str, phone: str, body: str) -> None:
        payload = json.dumps({"id": key, "to": msisdn_e164(phone), "text": body}).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "User-Agent": "Tepat-SMS/1",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        attempts = max(1, self.retries + 1)
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(  # noqa: S310 (scheme checked in __post_init__)
                self.url, data=payload, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                    response.read(1024)
                    return
            except urllib.error.HTTPError as exc:
                detail = exc.read(200).decode("utf-8", "replace").strip()
                problem = f"answered {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
                retry = exc.code in RETRYABLE_STATUS
                delay = _retry_after(exc.headers.get("Retry-After"))
            except TimeoutError:
                problem, retry, delay = f"did not answer within {self.timeout_s:g} s", True, None
            except urllib.error.URLError as exc:
                problem, retry, delay = f"could not be reached ({exc.reason})", True, None
            except OSError as exc:
                problem, retry, delay = f"could not be reached ({exc})", True, None
            if not retry:
                raise SmsGatewayError(
                    f"SMS gateway {self._where} {problem} for message {key} (not retried: "
                    "check TEPAT_SMS_HTTP_TOKEN and the gateway's account)"
                )
            if attempt == attempts:
                raise SmsGatewayError(
                    f"SMS gateway {self._where} {problem} for message {key} "
                    f"(gave up after {attempts} attempts)"
                )
            time.sleep(delay if delay is not None else self.backoff_s * 2 ** (attempt - 1))


def _retry_after(value: str | None) -> float | None:
    try:
        return min(30.0, max(0.0, float(value))) if value else None
    except ValueError:
        return None  # an HTTP date: use our own back-off


def sms_gateway() -> SmsGateway:
    """The adapter TEPAT_SMS_GATEWAY names, configured from settings."""
    kind = getattr(settings, "TEPAT_SMS_GATEWAY", "simulator")
    if kind == "simulator":
        return SimulatedSmsGateway()
    if kind == "http":
        return HttpSmsGateway(
            url=getattr(settings, "TEPAT_SMS_HTTP_URL", ""),
            token=getattr(settings, "TEPAT_SMS_HTTP_TOKEN", ""),
            timeout_s=float(getattr(settings, "TEPAT_SMS_HTTP_TIMEOUT_S", 5.0)),
            retries=int(getattr(settings, "TEPAT_SMS_HTTP_RETRIES", 2)),
            backoff_s=float(getattr(settings, "TEPAT_SMS_HTTP_BACKOFF_S", 0.5)),
        )
    raise ImproperlyConfigured(f"TEPAT_SMS_GATEWAY must be 'simulator' or 'http', not {kind!r}")


# --- inbound --------------------------------------------------------------------------------


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def simulator_enabled() -> bool:
    """The SMS simulator (the /sms/simulator/ page): only with the simulator gateway (no real
    phone is ever reached) and TEPAT_SMS_SIMULATOR on (by default, as DEBUG)."""
    return getattr(settings, "TEPAT_SMS_GATEWAY", "simulator") == "simulator" and bool(
        getattr(settings, "TEPAT_SMS_SIMULATOR", settings.DEBUG)
    )


def webhook_open() -> bool:
    """Whether /sms/masuk/ may answer unsigned calls: on a developer's machine only (DEBUG, the
    simulator gateway and TEPAT_SMS_SIMULATOR on, and no secret configured)."""
    return (
        bool(settings.DEBUG)
        and not getattr(settings, "TEPAT_SMS_WEBHOOK_SECRET", "")
        and simulator_enabled()
    )


def webhook_verify(*, headers: Any, body: bytes) -> bool:
    """Whether an inbound call really comes from our gateway (see the module docstring): a good
    signature within the replay window, used once. Without TEPAT_SMS_WEBHOOK_SECRET: refused,
    unless `webhook_open()` (a developer's machine)."""
    secret = getattr(settings, "TEPAT_SMS_WEBHOOK_SECRET", "")
    if not secret:
        return webhook_open()
    timestamp = headers.get("X-Tepat-Timestamp", "")
    signature = headers.get("X-Tepat-Signature", "")
    tolerance = int(getattr(settings, "TEPAT_SMS_WEBHOOK_TOLERANCE_S", 300))
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    if age > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(signature, expected):
        return False
    # One use per signature within the window: a captured request cannot be played again.
    return bool(cache.add(f"smswh:{expected[7:39]}", 1, timeout=2 * tolerance + 5))
