"""`tepat monitoring check-alerts|detect|add-rule`."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.monitoring import detectors, services
from tepat.monitoring.models import Metric


def _moment(value: str) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--at {value!r}: not an ISO date-time (2026-12-07T10:00+07:00)"
        ) from None
    if at.tzinfo is None:
        raise CommandError(f"--at {value!r}: give the offset (e.g. +07:00 or Z)")
    return at


class Command(BaseCommand):
    help = (
        "Operator monitoring: evaluate alert rules and the breach detectors, add a rule. "
        "Breach detectors: TEPAT_BREACH_DETECTORS (docs/operations.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "check-alerts", help="evaluate every active rule now, then the breach detectors"
        )
        check.add_argument("--loop", action="store_true", help="keep checking")
        check.add_argument("--interval", type=float, default=60.0, help="seconds between checks")
        check.add_argument(
            "--no-detect", action="store_true", help="rules only, without the breach detectors"
        )
        detect = sub.add_parser(
            "detect",
            help="run the breach detectors (mass reads, exports, reveals, failed log-ins, "
            "off-hours access) over the last lookback_hours and raise alerts",
        )
        detect.add_argument("--loop", action="store_true", help="keep detecting")
        detect.add_argument("--interval", type=float, default=300.0, help="seconds between runs")
        detect.add_argument("--at", default="", help="evaluate as of this ISO time (replays)")
        add = sub.add_parser("add-rule", help="add an alert rule")
        add.add_argument("--name", required=True)
        add.add_argument("--metric", required=True, choices=Metric.values)
        add.add_argument("--threshold", required=True, type=float)
        add.add_argument("--region", default="", help="region code (default: the nation)")

    def _detect(self, at: dt.datetime | None = None) -> None:
        try:
            result = services.detectors_run(now=at)
        except detectors.DetectorConfigError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"detectors: {result.findings} findings, {result.new} new, "
            f"alerts opened {result.opened}"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "add-rule":
            rule = services.alert_rule_create(
                acting_user=None,
                name=opts["name"],
                metric=opts["metric"],
                threshold=opts["threshold"],
                region_code=opts["region"],
            )
            self.stdout.write(f"rule {rule.public_id}: {rule.metric} > {rule.threshold}")
            return
        if opts["action"] == "detect":
            at = _moment(opts["at"]) if opts["at"] else None
            if at is not None and opts["loop"]:
                raise CommandError("--at replays one moment: it cannot --loop")
            while True:
                self._detect(at)
                if not opts["loop"]:
                    return
                time.sleep(opts["interval"])
        while True:
            result = services.alerts_check()
            self.stdout.write(
                f"checked {result.checked}, opened {result.opened}, "
                f"still firing {result.still_firing}"
            )
            if not opts["no_detect"]:
                self._detect()
            if not opts["loop"]:
                return
            time.sleep(opts["interval"])
