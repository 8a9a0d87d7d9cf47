"""`tepat monitoring check-alerts|add-rule`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.monitoring import services
from tepat.monitoring.models import Metric


class Command(BaseCommand):
    help = "Operator monitoring: evaluate alert rules, add a rule."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check-alerts", help="evaluate every active rule now")
        check.add_argument("--loop", action="store_true", help="keep checking")
        check.add_argument("--interval", type=float, default=60.0, help="seconds between checks")
        add = sub.add_parser("add-rule", help="add an alert rule")
        add.add_argument("--name", required=True)
        add.add_argument("--metric", required=True, choices=Metric.values)
        add.add_argument("--threshold", required=True, type=float)
        add.add_argument("--region", default="", help="region code (default: the nation)")

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
        while True:
            result = services.alerts_check()
            self.stdout.write(
                f"checked {result.checked}, opened {result.opened}, "
                f"still firing {result.still_firing}"
            )
            if not opts["loop"]:
                return
            time.sleep(opts["interval"])
