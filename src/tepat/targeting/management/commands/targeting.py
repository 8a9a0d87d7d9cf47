from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.core.errors import TepatError
from tepat.targeting import selectors, services
from tepat.targeting.management.commands._common import acting_user, fail
from tepat.targeting.rules import rule_parse


class Command(BaseCommand):
    help = "Aturan, skenario dan evaluasi / rules, scenarios and evaluation"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        truth = sub.add_parser(
            "truth-load", help="muat konsumsi sebenarnya / load truth (kk, consumption_pc)"
        )
        truth.add_argument("path", type=Path)
        truth.add_argument("--user")
        check = sub.add_parser("rule-check", help="periksa aturan / validate a rule")
        check.add_argument("expression")
        rule = sub.add_parser("rule-save")
        rule.add_argument("name")
        rule.add_argument("expression")
        rule.add_argument("--user")
        sc = sub.add_parser("scenario-save")
        sc.add_argument("name")
        sc.add_argument("--rule", required=True)
        sc.add_argument("--quota", choices=["none", "proportional", "fixed"], default="none")
        sc.add_argument("--total", type=int, help="national quota, households")
        sc.add_argument("--budget", type=int, help="budget, rupiah")
        sc.add_argument("--benefit", type=int, help="benefit per household, rupiah")
        sc.add_argument("--region-level", type=int, choices=[2, 4, 6, 10], default=4)
        sc.add_argument("--fixed", default="{}", help='JSON: {"3273": 1200, ...}')
        sc.add_argument("--user")
        ev = sub.add_parser("evaluate", help="evaluasi skenario / evaluate scenarios")
        ev.add_argument("scenarios", nargs="+")
        ev.add_argument("--run", help="scoring run id (default: latest)")
        ev.add_argument("--user")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except TepatError as exc:
            raise fail(exc) from None

    def _truth_load(self, o: dict[str, Any]) -> None:
        out = services.truth_load(acting_user=acting_user(o["user"]), path=o["path"])
        self.stdout.write(f"truth: {out['matched']} matched, {out['unmatched']} unmatched")

    def _rule_check(self, o: dict[str, Any]) -> None:
        rule = rule_parse(o["expression"])
        self.stdout.write(f"OK: {rule.expression} (names: {', '.join(sorted(rule.names()))})")

    def _rule_save(self, o: dict[str, Any]) -> None:
        rule = services.rule_save(
            acting_user=acting_user(o["user"]), name=o["name"], expression=o["expression"]
        )
        self.stdout.write(f"rule {rule.name}: {rule.expression}")

    def _scenario_save(self, o: dict[str, Any]) -> None:
        rule = selectors.rule_get(name=o["rule"])
        s = services.scenario_save(
            acting_user=acting_user(o["user"]), name=o["name"], rule=rule, quota_method=o["quota"],
            quota_total=o["total"], budget_rupiah=o["budget"], benefit_rupiah=o["benefit"],
            region_level=o["region_level"], fixed_quotas=json.loads(o["fixed"]),
        )  # fmt: skip
        self.stdout.write(f"scenario {s.name} ({s.public_id}) saved")

    def _evaluate(self, o: dict[str, Any]) -> None:
        user = acting_user(o["user"])
        run = selectors.run_get(public_id=o["run"]) if o["run"] else None
        self.stdout.write(
            f"{'scenario':24s} {'selected':>9s} {'coverage':>9s} {'inclusion':>9s} {'exclusion':>9s}"
        )
        for name in o["scenarios"]:
            scenario = selectors.scenarios_list().filter(name=name).first()
            if scenario is None:
                raise TepatError(f"skenario tidak ada / no such scenario: {name}")
            ev = services.scenario_evaluate(acting_user=user, scenario=scenario, run=run)
            r = ev.results["overall"]
            self.stdout.write(
                f"{name:24s} {r['selected']:9d} {r['coverage']:9.3f} "
                f"{r.get('inclusion_error', float('nan')):9.3f} {r.get('exclusion_error', float('nan')):9.3f}"
            )
