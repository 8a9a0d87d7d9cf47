"""`tepat worker [--once] [--batch N]`: deliver the payments outbox to the provider."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.messaging.gateway import sms_gateway
from tepat.payments import worker
from tepat.payments.providers import G2PConnectAdapter


class Command(BaseCommand):
    help = "Kirim antrean pembayaran ke penyalur / deliver the payments outbox to the provider."
    # A long-running process: skip the project-wide system checks (URLs, templates), which
    # have nothing to say about it and would slow every start.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="stop when nothing is due")
        parser.add_argument("--batch", type=int, default=None)
        parser.add_argument("--provider-url", default=None)
        parser.add_argument("--lease", type=float, default=None, help="seconds a claim is held")
        parser.add_argument("--max-attempts", type=int, default=None)
        parser.add_argument("--backoff-base", type=float, default=None)
        parser.add_argument("--backoff-cap", type=float, default=None)
        parser.add_argument("--timeout", type=float, default=None, help="provider HTTP time-out")
        parser.add_argument(
            "--sms",
            action="store_true",
            help="also drain the SMS outboxes: payment notices and citizen sign-in codes",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        config = worker.WorkerConfig.from_settings(
            batch=opts["batch"], lease_s=opts["lease"], max_attempts=opts["max_attempts"],
            backoff_base_s=opts["backoff_base"], backoff_cap_s=opts["backoff_cap"],
        )  # fmt: skip
        adapter = G2PConnectAdapter(opts["provider_url"], timeout_s=opts["timeout"])
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        # With --sms, the payment notices and every outbox other apps registered (the citizen
        # sign-in codes, queued by the sign-in page) are sent from here.
        gateway = sms_gateway() if opts["sms"] else None
        tally = worker.run(adapter=adapter, config=config, once=opts["once"], stop=stop,
                           sms_gateway=gateway)  # fmt: skip
        self.stdout.write(
            f"worker {config.worker_id}: paid={tally.paid} failed={tally.failed} sent={tally.sent} "
            f"retried={tally.retried} dead={tally.dead} batches={tally.batches}"
        )
