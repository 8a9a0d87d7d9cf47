"""A payment provider simulator speaking the G2P Connect disburse shape over real HTTP.

It behaves like the other side of the API (the model is Mojaloop's testing toolkit): configurable
latency, time-outs after executing (the nasty case: money moved, the caller saw nothing), transient
5xx, permanent failures (closed account, name mismatch), duplicate and out-of-order callbacks, and
a daily statement file. It keeps its own journal (SQLite) of every payment it executed, so tests
prove exactly-once from the provider's side, not from ours.

Idempotency follows Stripe: the first result for a reference_id is stored and replayed for a retry
with the same payload; the same reference_id with a different payload is refused with 422; one
still in flight in another request is refused with 409.

It speaks for many providers at once (BRI, POS, OVO...): a request names its provider in
X-Tepat-Provider, and everything the simulator says about that request (the answer, the callbacks,
the status, the statement) is signed with that provider's own Ed25519 key (`--keys-file`, JSON
name -> base64url seed; see `tepat.payments.signatures`). A provider without a key answers
unsigned, which Tepat refuses to believe.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import queue
import random
import sqlite3
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tepat.payments import signatures

CLOSED_ACCOUNT = "rjct.payee_fa.invalid"  # closed / unknown account (test accounts: 000...)
NAME_MISMATCH = "rjct.payee_name.mismatch"
# The providers a fresh key file is made for: the Himbara banks, e-wallets, PT Pos, e-Warung.
SIM_PROVIDERS = ("BRI", "BNI", "MANDIRI", "BSI", "BTN", "GOPAY", "OVO", "DANA", "LINKAJA",
                 "SHOPEEPAY", "POS", "EWARUNG")  # fmt: skip


@dataclass
class SimConfig:
    port: int = 8765
    host: str = "127.0.0.1"
    latency_ms: int = 0
    transient_5xx_rate: float = 0.0
    timeout_rate: float = 0.0  # execute, then answer too late for the caller
    timeout_sleep_s: float = 5.0
    permanent_failure_rate: float = 0.0
    duplicate_callback_rate: float = 0.0
    out_of_order_rate: float = 0.0
    callback_delay_ms: int = 50
    statement_dir: Path = field(default_factory=lambda: Path("var/provider-sim"))
    seed: int = 1
    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)  # provider -> signing key


def load_keys(path: Path) -> dict[str, Ed25519PrivateKey]:
    """The simulator's signing keys (JSON name -> seed); a missing file is created for
    SIM_PROVIDERS, with the public halves beside it (`<name>.public.json`, for
    TEPAT_PROVIDER_KEYS)."""
    if not path.exists():
        private, public = signatures.generate_keys(SIM_PROVIDERS)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(private, indent=1))
        path.chmod(0o600)
        path.with_suffix(".public.json").write_text(json.dumps(public, indent=1))
    seeds: dict[str, str] = json.loads(path.read_text())
    return {signatures.provider_name(k): signatures.load_private_key(v) for k, v in seeds.items()}


def _digest(item: dict[str, Any]) -> str:
    keep = {k: item.get(k) for k in ("payee_fa", "amount", "payee_name", "currency_code")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()


def _fraction(reference_id: str, salt: str) -> float:
    """A stable pseudo-random number in [0, 1) per reference: a replay meets the same fate."""
    h = hashlib.sha256(f"{salt}:{reference_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Journal:
    """The simulator's own record: one row per executed reference_id, plus replay counts."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS executions (reference_id TEXT PRIMARY KEY, digest TEXT,"
            " payee_fa TEXT, payee_name TEXT, amount INTEGER, status TEXT, reason TEXT,"
            " executed_at TEXT, replays INTEGER DEFAULT 0, callback_uri TEXT, provider TEXT)"
        )
        self.lock = threading.Lock()
        self.in_flight: set[str] = set()


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.journal = Journal(config.statement_dir / "journal.sqlite3")
        self.rng = random.Random(config.seed)  # noqa: S311 - simulation, not security
        self.rng_lock = threading.Lock()
        # Callbacks go out through a few sender threads (as a real provider's queue would), not
        # one thread per request: a burst must not flood the receiver.
        self.callbacks: queue.Queue[tuple[str, list[dict[str, Any]], str]] = queue.Queue()
        for _ in range(2):
            threading.Thread(target=self._callback_loop, daemon=True).start()

    def _callback_loop(self) -> None:
        while True:
            uri, results, provider = self.callbacks.get()
            with contextlib.suppress(Exception):  # a simulator keeps going
                self.send_callbacks(uri, results, provider)

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.rng_lock:
            return self.rng.random() < rate

    # --- execution ---------------------------------------------------------------------------

    def _fate(self, item: dict[str, Any]) -> tuple[str, str]:
        ref = str(item["reference_id"])
        fa = str(item.get("payee_fa", ""))
        account = fa.split("@", 1)[0]
        if not fa or "@" not in fa or account.startswith("000"):
            return "rjct", CLOSED_ACCOUNT
        if str(item.get("payee_name", "")).upper().startswith("MISMATCH"):
            return "rjct", NAME_MISMATCH
        if _fraction(ref, f"perm{self.config.seed}") < self.config.permanent_failure_rate:
            return "rjct", CLOSED_ACCOUNT if _fraction(ref, "which") < 0.5 else NAME_MISMATCH
        try:
            amount = int(str(item.get("amount", "")))
        except ValueError:
            return "rjct", "rjct.amount.invalid"
        if amount <= 0:
            return "rjct", "rjct.amount.invalid"
        return "succ", ""

    def sign(self, provider: str, body: bytes) -> dict[str, str]:
        """The headers signing `body` as `provider`; none when the simulator has no key for it."""
        key = self.config.keys.get(provider)
        return signatures.sign(key, provider=provider, body=body) if key else {}

    def execute(
        self, items: list[dict[str, Any]], callback_uri: str, provider: str = ""
    ) -> tuple[int, dict[str, Any]]:
        """Execute a batch under the journal's lock: (http status, body)."""
        j = self.journal
        refs = [str(i.get("reference_id", "")) for i in items]
        with j.lock:
            busy = [r for r in refs if r in j.in_flight]
            if busy or len(set(refs)) != len(refs):
                return 409, {"error": "reference_id in flight", "reference_ids": busy[:20]}
            j.in_flight.update(refs)
        try:
            if self.config.latency_ms:
                time.sleep(self.config.latency_ms / 1000)  # the key is held while "processing"
            return self._execute(items, refs, callback_uri, provider)
        finally:
            with j.lock:
                j.in_flight.difference_update(refs)

    def _execute(
        self, items: list[dict[str, Any]], refs: list[str], callback_uri: str, provider: str
    ) -> tuple[int, dict[str, Any]]:
        j = self.journal
        with j.lock:
            known: dict[str, tuple[Any, ...]] = {}
            for i in range(0, len(refs), 500):
                chunk = refs[i : i + 500]
                q = ",".join("?" * len(chunk))
                for row in j.db.execute(
                    f"SELECT reference_id, digest, status, reason, executed_at, amount "  # noqa: S608
                    f"FROM executions WHERE reference_id IN ({q})",
                    chunk,
                ):
                    known[row[0]] = row
            conflicts = [
                r
                for r, it in zip(refs, items, strict=True)
                if r in known and known[r][1] != _digest(it)
            ]
            if conflicts:
                return 422, {
                    "error": "reference_id reused with a different payload",
                    "status_reason_code": "rjct.reference_id.duplicate",
                    "reference_ids": conflicts[:100],
                }
            out: list[dict[str, Any]] = []
            fresh: list[tuple[Any, ...]] = []
            replayed: list[str] = []
            for ref, item in zip(refs, items, strict=True):
                if ref in known:
                    _, _, status, reason, ts, amount = known[ref]
                    replayed.append(ref)
                else:
                    status, reason = self._fate(item)
                    ts, amount = _now(), int(str(item.get("amount", "0")) or 0)
                    fresh.append((ref, _digest(item), item.get("payee_fa", ""),
                                  item.get("payee_name", ""), amount, status, reason, ts,
                                  callback_uri, provider))  # fmt: skip
                out.append({"reference_id": ref, "timestamp": ts, "status": status,
                            "status_reason_code": reason or None, "amount": str(amount),
                            "currency_code": "IDR"})  # fmt: skip
            j.db.execute("BEGIN")
            j.db.executemany(
                "INSERT INTO executions (reference_id, digest, payee_fa, payee_name, amount,"
                " status, reason, executed_at, callback_uri, provider)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                fresh,
            )
            for i in range(0, len(replayed), 500):
                chunk = replayed[i : i + 500]
                q = ",".join("?" * len(chunk))
                j.db.execute(
                    f"UPDATE executions SET replays = replays + 1 WHERE reference_id IN ({q})",  # noqa: S608
                    chunk,
                )
            j.db.execute("COMMIT")
            self._statement_append(fresh)
        return 200, {"disbursements_status": out}

    def _statement_append(self, fresh: list[tuple[Any, ...]]) -> None:
        """Executed payments go to the day's statement file as they happen (append, flushed)."""
        if not fresh:
            return
        by_day: dict[str, list[tuple[Any, ...]]] = {}
        for row in fresh:
            by_day.setdefault(str(row[7])[:10], []).append(row)
        for day, rows in by_day.items():
            path = self.config.statement_dir / f"statement-{day}.csv"
            new = not path.exists()
            with path.open("a", newline="") as fh:
                w = csv.writer(fh)
                if new:
                    w.writerow(["reference_id", "amount", "status", "reason", "executed_at",
                                "provider"])  # fmt: skip
                for r in rows:
                    w.writerow([r[0], r[4], r[5], r[6], r[7], r[9]])

    def statement_of(self, provider: str, day: str) -> bytes | None:
        """One provider's statement for a day: its executed payments, as CSV."""
        with self.journal.lock:
            rows = self.journal.db.execute(
                "SELECT reference_id, amount, status, reason, executed_at FROM executions"
                " WHERE provider=? AND substr(executed_at, 1, 10)=? ORDER BY executed_at",
                (provider, day),
            ).fetchall()
        if not rows:
            return None
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["reference_id", "amount", "status", "reason", "executed_at"])
        w.writerows(rows)
        return buf.getvalue().encode()

    def status_of(self, refs: list[str], provider: str = "") -> list[dict[str, Any]]:
        """What this provider knows of each reference (another provider's is unknown to it)."""
        out: list[dict[str, Any]] = []
        with self.journal.lock:
            for ref in refs:
                row = self.journal.db.execute(
                    "SELECT status, reason, executed_at, amount FROM executions"
                    " WHERE reference_id=? AND coalesce(provider, '')=?",
                    (ref, provider),
                ).fetchone()
                if row is None:
                    out.append({"reference_id": ref, "status": "rjct",
                                "status_reason_code": "rjct.reference_id.invalid"})  # fmt: skip
                else:
                    out.append({"reference_id": ref, "status": row[0],
                                "status_reason_code": row[1] or None, "timestamp": row[2],
                                "amount": str(row[3]), "currency_code": "IDR"})  # fmt: skip
        return out

    # --- callbacks ---------------------------------------------------------------------------

    def send_callbacks(self, uri: str, results: list[dict[str, Any]], provider: str) -> None:
        """Deliver outcomes to `uri`: some twice, some preceded by a late `pdng`."""
        time.sleep(self.config.callback_delay_ms / 1000)
        messages: list[list[dict[str, Any]]] = []
        for r in results:
            if self.chance(self.config.out_of_order_rate):
                # The final outcome first, then a stale "pending" that must not undo it.
                messages.append([r])
                messages.append([{**r, "status": "pdng", "status_reason_code": None}])
            else:
                messages.append([r])
            if self.chance(self.config.duplicate_callback_rate):
                messages.append([r])
        batch: list[dict[str, Any]] = []
        for m in messages:
            batch.extend(m)
            if len(batch) >= 500:
                self._post(uri, batch, provider)
                batch = []
        if batch:
            self._post(uri, batch, provider)

    def _post(self, uri: str, statuses: list[dict[str, Any]], provider: str) -> None:
        body = json.dumps({
            "header": {"version": "1.0.0", "message_id": hashlib.sha256(
                json.dumps(statuses).encode()).hexdigest()[:32], "message_ts": _now(),
                "action": "on-disburse", "status": "succ", "sender_id": provider or "provider-sim"},
            "message": {"transaction_id": "cb", "disbursements_status": statuses},
        }).encode()  # fmt: skip
        for attempt in range(6):
            # Signed afresh for each attempt: a resend is a new message, not a replay.
            req = urllib.request.Request(  # noqa: S310 - loopback URL given by the caller
                uri, data=body, method="POST",
                headers={"Content-Type": "application/json", **self.sign(provider, body)},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
                    if resp.status < 300:
                        return
            except OSError:
                time.sleep(0.2 * 2**attempt)


def _handler(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    cfg = sim.config

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: dict[str, Any], provider: str = "") -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in (sim.sign(provider, data) if provider else {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            data: dict[str, Any] = json.loads(self.rfile.read(n) or b"{}")
            return data

        def do_GET(self) -> None:
            if self.path == "/health":
                self._reply(200, {"status": "ok"})
            elif self.path.startswith("/statements/") and self.path.count("/") == 3:
                # /statements/<provider>/<day>: that provider's signed statement envelope.
                _, _, provider, day = self.path.split("/")
                provider = signatures.provider_name(provider)
                content = sim.statement_of(provider, day)
                key = cfg.keys.get(provider)
                if content is None or key is None:
                    self._reply(404, {"error": "no statement"})
                    return
                data = signatures.envelope_seal(key, provider=provider, content=content)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif self.path.startswith("/statements/"):
                day = self.path.rsplit("/", 1)[-1]
                path = cfg.statement_dir / f"statement-{day}.csv"
                if not path.exists():
                    self._reply(404, {"error": "no statement"})
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self) -> None:
            try:
                payload = self._body()
            except (ValueError, json.JSONDecodeError):
                self._reply(400, {"error": "bad json"})
                return
            header = payload.get("header") or {}
            message = payload.get("message") or {}
            provider = signatures.provider_name(
                str(self.headers.get(signatures.HEADER_PROVIDER) or "")
            )
            if self.path in ("/disburse", "/disburse/sync/disburse"):
                if sim.chance(cfg.transient_5xx_rate):
                    self._reply(503, {"error": "transient: service unavailable"})
                    return
                items = list(message.get("disbursements") or [])
                callback = str(header.get("sender_uri") or "") if self.path == "/disburse" else ""
                status, body = sim.execute(items, callback, provider)
                body = {"header": {"version": "1.0.0", "message_id": header.get("message_id"),
                                   "message_ts": _now(), "action": "on-disburse",
                                   "status": "succ" if status == 200 else "rjct"},
                        "message": {"transaction_id": message.get("transaction_id"), **body}}  # fmt: skip
                if status == 200 and sim.chance(cfg.timeout_rate):
                    # Executed and journaled, but the caller will time out before it hears.
                    time.sleep(cfg.timeout_sleep_s)
                if status == 200 and callback:
                    results = body["message"]["disbursements_status"]
                    sim.callbacks.put((callback, results, provider))
                    body["message"] = {"transaction_id": message.get("transaction_id"),
                                       "disbursements_status": [
                                           {"reference_id": r["reference_id"], "status": "rcvd",
                                            "timestamp": r["timestamp"]} for r in results]}  # fmt: skip
                self._reply(status, body, provider)
            elif self.path in ("/disburse/txn/status", "/disburse/sync/txn/status"):
                refs = [str(r) for r in (message.get("reference_ids") or [])]
                self._reply(200, {"message": {"disbursements_status": sim.status_of(refs, provider)}},
                            provider)  # fmt: skip
            else:
                self._reply(404, {"error": "not found"})

    return Handler


def serve(config: SimConfig, *, ready: threading.Event | None = None) -> ThreadingHTTPServer:
    sim = Simulator(config)
    server = ThreadingHTTPServer((config.host, config.port), _handler(sim))
    server.daemon_threads = True
    if ready is not None:
        ready.set()
    return server
