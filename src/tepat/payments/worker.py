"""The outbox worker: claim due payments, submit them, record the outcome, retry with backoff.

Safe to run many at once (claims under leases, SKIP LOCKED on PostgreSQL) and to kill at any
moment: a claimed row whose worker died comes back when its lease ends, and is submitted again
under the same idempotency key, so the provider replays its first answer instead of paying twice.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

from tepat.core.ids import new_public_id
from tepat.messaging.gateway import SmsGateway
from tepat.messaging.outboxes import outboxes_drain
from tepat.payments import services
from tepat.payments.providers import (
    IdempotencyConflict,
    Instruction,
    ProviderAdapter,
    TransientProviderError,
)


@dataclass
class WorkerConfig:
    batch: int = 500
    lease_s: float = 60.0
    max_attempts: int = 6
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 300.0
    idle_sleep_s: float = 0.5
    # ask the provider about payments whose callback is late, and about dead letters it may have
    # executed after all (each dead letter at most every TEPAT_PAYMENT_DEAD_POLL_S seconds)
    poll_sent_after_s: float = 30.0
    worker_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{new_public_id(6)}"
    )

    @classmethod
    def from_settings(cls, **overrides: float | int | str | None) -> WorkerConfig:
        s = services.setting
        cfg = cls(
            batch=int(s("TEPAT_PAYMENT_BATCH", 500)),
            lease_s=float(s("TEPAT_PAYMENT_LEASE_S", 60.0)),
            max_attempts=int(s("TEPAT_PAYMENT_MAX_ATTEMPTS", 6)),
            backoff_base_s=float(s("TEPAT_PAYMENT_BACKOFF_BASE_S", 2.0)),
            backoff_cap_s=float(s("TEPAT_PAYMENT_BACKOFF_CAP_S", 300.0)),
        )
        for k, v in overrides.items():
            if v is not None:
                setattr(cfg, k, type(getattr(cfg, k))(v))
        return cfg


@dataclass
class Tally:
    paid: int = 0
    failed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    batches: int = 0


def work_once(*, adapter: ProviderAdapter, config: WorkerConfig, tally: Tally) -> int:
    """Claim and process one batch; returns how many rows were claimed."""
    claimed = services.payments_claim(
        worker=config.worker_id, batch=config.batch, lease_s=config.lease_s
    )
    if not claimed:
        return 0
    tally.batches += 1
    items = [
        Instruction(c.key, c.payee_fa, c.payee_name, c.amount, note=f"bansos {c.public_id}")
        for c in claimed
    ]
    try:
        outcomes = adapter.submit(items)
    except TransientProviderError as exc:
        r, d = services.payments_reschedule(
            worker=config.worker_id, claimed=claimed, error=str(exc),
            max_attempts=config.max_attempts, base=config.backoff_base_s, cap=config.backoff_cap_s,
        )  # fmt: skip
        tally.retried += r
        tally.dead += d
        return len(claimed)
    except IdempotencyConflict as exc:
        bad = set(exc.reference_ids)
        conflicted = [c for c in claimed if c.key in bad] or list(claimed)
        tally.dead += services.payments_dead_letter(
            worker=config.worker_id, claimed=conflicted, error="idempotency conflict (422)"
        )
        rest = [c for c in claimed if c not in conflicted]
        if rest:
            services.payments_reschedule(worker=config.worker_id, claimed=rest, error="batch had a conflict",
                                         max_attempts=config.max_attempts, base=0.0, cap=0.0)  # fmt: skip
        return len(claimed)
    counts = services.payments_record(worker=config.worker_id, claimed=claimed, outcomes=outcomes)
    tally.paid += counts["paid"]
    tally.failed += counts["failed"]
    tally.sent += counts["sent"]
    return len(claimed)


def run(
    *,
    adapter: ProviderAdapter,
    config: WorkerConfig,
    once: bool = False,
    stop: threading.Event | None = None,
    sms_gateway: SmsGateway | None = None,
) -> Tally:
    """Loop until stopped; with `once`, until nothing is due right now. With `sms_gateway`
    (the command's --sms), every turn also sends the payment notices and then drains every
    SMS outbox other apps registered (tepat.messaging.outboxes: the citizen sign-in codes)."""
    tally = Tally()
    stop = stop or threading.Event()
    last_poll = time.monotonic()
    while not stop.is_set():
        if not connection.in_atomic_block:  # (tests run the loop inside a transaction)
            close_old_connections()
        n = work_once(adapter=adapter, config=config, tally=tally)
        if sms_gateway is not None:
            services.sms_deliver(gateway=sms_gateway)
            outboxes_drain(sms_gateway)
        if n == 0 and time.monotonic() - last_poll > config.poll_sent_after_s / 2:
            polled = services.payments_poll_status(
                adapter=adapter, older_than_s=config.poll_sent_after_s
            )
            if polled["paid"] or polled["failed"]:
                n = 1  # more may be late: look again at once
            else:
                last_poll = time.monotonic()
        if n == 0:
            if once:
                break
            stop.wait(config.idle_sleep_s)
    return tally
