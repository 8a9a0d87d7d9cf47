"""`tepat provider-sim --port 8765 ...`: a payment provider simulator (G2P Connect disburse)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.payments.provider_sim import SimConfig, load_keys, serve


class Command(BaseCommand):
    help = "Simulator penyalur pembayaran / payment provider simulator over HTTP."
    # A long-running process: skip the project-wide system checks (URLs, templates), which
    # have nothing to say about it and would slow every start.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--transient-5xx-rate", type=float, default=0.0)
        parser.add_argument("--timeout-rate", type=float, default=0.0,
                            help="share of requests executed but answered too late")  # fmt: skip
        parser.add_argument("--timeout-sleep", type=float, default=5.0)
        parser.add_argument("--permanent-failure-rate", type=float, default=0.0)
        parser.add_argument("--duplicate-callback-rate", type=float, default=0.0)
        parser.add_argument("--out-of-order-rate", type=float, default=0.0)
        parser.add_argument("--callback-delay-ms", type=int, default=50)
        parser.add_argument("--statement-dir", default="var/provider-sim")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--keys-file", default=None,
            help="JSON provider -> Ed25519 seed the simulator signs with (default: "
                 "<statement-dir>/keys.json, created with its .public.json for TEPAT_PROVIDER_KEYS)",
        )  # fmt: skip

    def handle(self, *args: Any, **o: Any) -> None:
        config = SimConfig(
            port=o["port"], host=o["host"], latency_ms=o["latency_ms"],
            transient_5xx_rate=o["transient_5xx_rate"], timeout_rate=o["timeout_rate"],
            timeout_sleep_s=o["timeout_sleep"], permanent_failure_rate=o["permanent_failure_rate"],
            duplicate_callback_rate=o["duplicate_callback_rate"], out_of_order_rate=o["out_of_order_rate"],
            callback_delay_ms=o["callback_delay_ms"], statement_dir=Path(o["statement_dir"]), seed=o["seed"],
            keys=load_keys(Path(o["keys_file"] or Path(o["statement_dir"]) / "keys.json")),
        )  # fmt: skip
        server = serve(config)
        self.stdout.write(
            f"provider-sim listening on http://{config.host}:{server.server_port}", ending="\n"
        )
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
